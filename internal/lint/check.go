package lint

import (
	"fmt"
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"

	"github.com/schemagate/schemagate/internal/sqlparse"
)

// check runs the rules on one parsed statement.
func (a *analyzer) check(n *pg_query.Node) {
	a.styleRules(n)
	a.serverRules(n, "")
	a.versionRules(n)
	a.refusedExpressions(n)
	if cf := n.GetCreateFunctionStmt(); cf != nil {
		a.replaceFunction(cf)
	}
	switch {
	case n.GetTransactionStmt() != nil:
		a.transaction(n.GetTransactionStmt())
	case (n.GetSelectStmt() != nil || n.GetCallStmt() != nil) && a.stmt != nil && zoneWords.MatchString(a.stmt.SQL):
		// set_config('TimeZone', …) or a function that may set it: the session's zone is unknown from here.
		a.utcZone.set(false, false, a.inTx())
	case n.GetVariableSetStmt() != nil:
		v := n.GetVariableSetStmt()
		// SET … = 0, SET … TO DEFAULT and RESET turn a timeout off, also one the deploy set.
		// SET LOCAL lasts until the end of the transaction, and does nothing outside one.
		on := v.Kind == pg_query.VariableSetKind_VAR_SET_VALUE && !zeroSetting(v.Args)
		switch name := strings.ToLower(v.Name); {
		case v.Kind == pg_query.VariableSetKind_VAR_RESET_ALL:
			a.lockTimeout.set(false, false, a.inTx())
			a.stmtTimeout.set(false, false, a.inTx())
			a.utcZone.set(false, false, a.inTx())
		case name == "timezone":
			a.utcZone.set(v.Kind == pg_query.VariableSetKind_VAR_SET_VALUE && len(v.Args) == 1 && utcSetting(v.Args[0]), v.IsLocal, a.inTx())
		case name == "lock_timeout" && on:
			ms, _ := settingMS(v.Args)
			a.lockTimeout.setValue(ms, v.IsLocal, a.inTx())
		case name == "lock_timeout":
			a.lockTimeout.set(on, v.IsLocal, a.inTx())
		case name == "statement_timeout":
			a.stmtTimeout.set(on, v.IsLocal, a.inTx())
		}
	case n.GetAlterTableStmt() != nil:
		a.alterTable(n.GetAlterTableStmt())
	case n.GetRenameStmt() != nil:
		a.rename(n.GetRenameStmt())
	case n.GetAlterObjectSchemaStmt() != nil:
		s := n.GetAlterObjectSchemaStmt()
		// A view, materialized view, sequence or foreign table moves under ACCESS EXCLUSIVE as a table
		// does, what names it breaking alike.
		switch s.ObjectType {
		case pg_query.ObjectType_OBJECT_TABLE, pg_query.ObjectType_OBJECT_VIEW, pg_query.ObjectType_OBJECT_MATVIEW,
			pg_query.ObjectType_OBJECT_FOREIGN_TABLE, pg_query.ObjectType_OBJECT_SEQUENCE:
		default:
			return
		}
		key := a.st.rel(s.Relation)
		kind := a.relkindOf(s.Relation, s.ObjectType)
		what := relName(s.Relation)
		if kind != "" {
			what = relkindWord(kind) + " " + what
		}
		if owner, ok := a.st.ownerName(key); ok {
			// PostgreSQL refuses it (AlterTableNamespace: "cannot move an owned sequence into another
			// schema"), whether the sequence is new or not: nothing moves.
			f := a.add("move-or-rename-schema", fmt.Sprintf("SET SCHEMA of sequence %s fails: the sequence is owned by column %s (serial, identity or OWNED BY), "+
				"and PostgreSQL refuses to move an owned sequence into another schema, so the deploy fails", relName(s.Relation), owner))
			f.Lock = "— (ERROR)"
			f.Suggestion = "move the owning table instead (ALTER TABLE … SET SCHEMA takes its owned sequences along), or ALTER SEQUENCE … OWNED BY NONE first"
			return
		}
		if !a.st.isNew(key) {
			from, mark := len(a.out), a.mark()
			a.takesOn(lockAE, kind)
			f := a.add("move-or-rename-schema", fmt.Sprintf("SET SCHEMA moves %s: running code that names it unqualified or in the old schema breaks", what))
			if kind == "S" {
				f.Message += sequenceDefaults
			}
			if s.MissingOk && a.st.absent(key, s.Relation.GetSchemaname() != "") {
				a.nothingDone(from, mark, a.noSuch(relationKinds[s.ObjectType], []string{relName(s.Relation)}, []string{key}))
			}
		}
	case n.GetIndexStmt() != nil:
		a.index(n.GetIndexStmt())
	case n.GetDropStmt() != nil:
		a.drop(n.GetDropStmt())
	case n.GetDropdbStmt() != nil:
		a.add("drop-schema-or-database", fmt.Sprintf("DROP DATABASE %s destroys every object and row in it", n.GetDropdbStmt().Dbname))
	case n.GetTruncateStmt() != nil:
		t := n.GetTruncateStmt()
		for _, r := range t.Relations {
			name := relName(r.GetRangeVar())
			if a.st.isNew(a.st.rel(r.GetRangeVar())) {
				continue
			}
			a.takes(lockAE)
			a.add("truncate", fmt.Sprintf("TRUNCATE %s deletes every row under ACCESS EXCLUSIVE", name))
			break
		}
		if t.Behavior == pg_query.DropBehavior_DROP_CASCADE {
			a.add("truncate-cascade", "TRUNCATE … CASCADE also empties every table that references these by foreign key")
		}
	case n.GetVacuumStmt() != nil:
		v := n.GetVacuumStmt()
		full := sqlparse.OptionBool(v.Options, "full", false) // VACUUM (FULL false) rewrites nothing
		if v.IsVacuumcmd {
			a.refusesTx("VACUUM")
		}
		fresh := len(v.Rels) > 0
		for _, r := range v.Rels {
			fresh = fresh && a.st.isNew(a.st.rel(r.GetVacuumRelation().GetRelation()))
		}
		if full && !fresh {
			a.takes(lockAE)
			a.add("vacuum-full-or-cluster", "VACUUM FULL rewrites the table under ACCESS EXCLUSIVE")
		} else if len(v.Rels) > 0 && !fresh {
			a.takes(lockSUE)
		}
	case n.GetClusterStmt() != nil:
		if rv := n.GetClusterStmt().Relation; rv != nil && a.st.isNew(a.st.rel(rv)) {
			return
		}
		a.takes(lockAE)
		a.add("vacuum-full-or-cluster", "CLUSTER rewrites the table and its indexes under ACCESS EXCLUSIVE")
	case n.GetReindexStmt() != nil:
		a.reindex(n.GetReindexStmt())
	case n.GetAlterSeqStmt() != nil:
		// ALTER SEQUENCE takes SHARE ROW EXCLUSIVE on the sequence, which conflicts with the ROW EXCLUSIVE
		// of nextval(): it waits for every open transaction that drew a value, and every INSERT that draws
		// a default from the sequence waits behind it.
		s := n.GetAlterSeqStmt()
		if key := a.st.rel(s.Sequence); s.Sequence != nil && !a.st.isNew(key) && !(s.MissingOk && a.st.absent(key, s.Sequence.Schemaname != "")) {
			a.takesOn(lockSRE, "S")
			if hasRestart(s.Options) {
				a.restartSequence(s.Sequence, key, s.Options)
			}
		}
	case n.GetRefreshMatViewStmt() != nil:
		r := n.GetRefreshMatViewStmt()
		if a.st.isNew(a.st.rel(r.Relation)) {
			return
		}
		if r.Concurrent {
			a.takesOn(lockEX, "m")
			f := a.add("refresh-matview-concurrently", fmt.Sprintf("REFRESH MATERIALIZED VIEW CONCURRENTLY %s takes EXCLUSIVE on it: readers go on, only other refreshes wait while it runs the view's query", relName(r.Relation)))
			if a.st.lacksUniqueIndex(a.st.rel(r.Relation)) {
				f.Risk = Dangerous
				f.Message = fmt.Sprintf("REFRESH MATERIALIZED VIEW CONCURRENTLY %s fails: it has no unique index on plain columns without a WHERE clause, which CONCURRENTLY needs, so the deploy stops here", relName(r.Relation))
				f.Suggestion = fmt.Sprintf("CREATE UNIQUE INDEX CONCURRENTLY on %s (the columns that identify a row) in an earlier migration", relName(r.Relation))
			}
			return
		}
		a.takesOn(lockAE, "m")
		a.add("refresh-matview-blocking", fmt.Sprintf("REFRESH MATERIALIZED VIEW %s blocks every reader until it finishes", relName(r.Relation)))
	case n.GetLockStmt() != nil:
		l := n.GetLockStmt()
		if !a.inTx() {
			// psql runs it in no transaction block: PostgreSQL refuses it there (25P01).
			a.add("transaction-boundaries", "LOCK TABLE outside a transaction block: PostgreSQL refuses it (LOCK TABLE can only be used in transaction blocks) and the deploy fails; put it between BEGIN and COMMIT with the statements it guards")
			return
		}
		fresh := len(l.Relations) > 0
		for _, r := range l.Relations {
			fresh = fresh && a.st.isNew(a.st.rel(r.GetRangeVar()))
		}
		if fresh {
			return
		}
		mode := lockLevel(l.Mode)
		if mode == lockNone {
			mode = lockAE
		}
		a.takes(mode)
		if mode <= lockRX {
			return // ACCESS SHARE … ROW EXCLUSIVE conflict only with what DDL takes anyway
		}
		f := a.add("lock-table", fmt.Sprintf("LOCK TABLE … IN %s MODE", mode))
		if mode < lockSH {
			f.Risk = Caution
		}
		f.Lock = mode.String()
	case n.GetViewStmt() != nil:
		v := n.GetViewStmt()
		if why := a.st.replaceViewFails(a.st.rel(v.View), v); v.Replace && why != "" {
			f := a.add("replace-or-drop-view", fmt.Sprintf("CREATE OR REPLACE VIEW %s fails: %s, so the deploy stops here", relName(v.View), why))
			f.Risk = Dangerous
			f.Lock = "— (ERROR)"
			f.Suggestion = fmt.Sprintf("add new columns only at the end, keeping the existing ones by name and in order; to remove or rename one, ALTER VIEW %s RENAME COLUMN …, or DROP VIEW %s and CREATE VIEW in one transaction", relIdent(v.View), relIdent(v.View))
			return
		}
		// Of a view the known schema lacks, CREATE OR REPLACE VIEW only creates one, as CREATE VIEW does.
		if key := a.st.rel(v.View); v.Replace && !a.st.isNew(key) && !a.st.absent(key, v.View.GetSchemaname() != "") {
			a.add("replace-or-drop-view", fmt.Sprintf("CREATE OR REPLACE VIEW %s takes ACCESS EXCLUSIVE on the view; readers of removed or renamed columns break", relName(v.View)))
			// Of one the history has (the first schema of the search path, where an unqualified name is
			// created), PostgreSQL rewrites its rule under ACCESS EXCLUSIVE; when the history may lack it,
			// the rehearsal tells (ApplyEvidence).
			if a.st.exists[key] {
				a.takesOn(lockAE, "v")
				a.queue = &lockQueue{risk: Dangerous, msg: fmt.Sprintf("CREATE OR REPLACE VIEW takes ACCESS EXCLUSIVE on view %s, which exists, "+
					"without an earlier SET lock_timeout: %s", relName(v.View), queuedBehind(lockAE, "v"))}
			}
		}
	case n.GetCreateTrigStmt() != nil:
		t := n.GetCreateTrigStmt()
		if !a.st.isNew(a.st.rel(t.Relation)) {
			a.takes(lockSRE)
			a.add("create-trigger", fmt.Sprintf("CREATE TRIGGER %s on %s takes SHARE ROW EXCLUSIVE and adds per-row cost to writes", t.Trigname, relName(t.Relation)))
		}
	case n.GetCreatePolicyStmt() != nil:
		if t := relName(n.GetCreatePolicyStmt().Table); !a.st.isNew(a.st.rel(n.GetCreatePolicyStmt().Table)) {
			a.takes(lockAE)
			a.add("row-level-security", fmt.Sprintf("CREATE POLICY on %s takes ACCESS EXCLUSIVE and changes which rows roles see", t))
		}
	case n.GetAlterPolicyStmt() != nil:
		if t := relName(n.GetAlterPolicyStmt().Table); !a.st.isNew(a.st.rel(n.GetAlterPolicyStmt().Table)) {
			a.takes(lockAE)
			a.add("row-level-security", fmt.Sprintf("ALTER POLICY on %s takes ACCESS EXCLUSIVE and changes which rows roles see", t))
		}
	case n.GetAlterEnumStmt() != nil:
		e := n.GetAlterEnumStmt()
		name := lastName(e.TypeName)
		// Only a type created in this migration's own transaction: ADD VALUE of one an earlier
		// migration committed is what it is of any other type. Its new label is still unusable until
		// COMMIT (PostgreSQL 15 refuses it as for any type: only the labels CREATE TYPE gave are safe):
		// a later statement of the transaction that uses it gets the finding (see usesNewEnumValue).
		if a.st.created[a.st.qual(e.TypeName)] {
			if e.OldVal == "" && a.inTx() && a.cfg.Major() >= 12 {
				a.txEnumValues = append(a.txEnumValues, txEnumValue{typ: a.st.qual(e.TypeName), label: e.NewVal, at: -1, line: a.stmt.Pos.Line})
			}
			return
		}
		if e.OldVal != "" {
			a.add("enum-rename-value", fmt.Sprintf("RENAME VALUE '%s' of %s: running code and stored literals that use the old label break", e.OldVal, name))
			return
		}
		switch {
		case a.inTx() && a.cfg.Major() < 12:
			f := a.add("enum-add-value", fmt.Sprintf("ALTER TYPE … ADD VALUE cannot run inside a transaction block on PostgreSQL %d", a.cfg.Major()))
			f.Risk = Dangerous
		case a.inTx():
			a.pendingEnum = append(a.pendingEnum, len(a.out))
			a.txEnumValues = append(a.txEnumValues, txEnumValue{typ: a.st.qual(e.TypeName), label: e.NewVal, at: len(a.out), line: a.stmt.Pos.Line})
			a.add("enum-add-value", "")
			// Resolved when a later statement of the transaction appears (see statement); a lone
			// ADD VALUE stays safe.
		}
	case n.GetCreateEnumStmt() != nil:
		a.add("create-enum", fmt.Sprintf("enum %s: adding values later is fine but removing or renaming them is hard; a lookup table is more flexible", lastName(n.GetCreateEnumStmt().TypeName)))
	case n.GetAlterDomainStmt() != nil:
		d := n.GetAlterDomainStmt()
		// A domain an earlier migration of the change created may be used by history tables since: only
		// one created in this migration is exempt (the tables that use it are then locked already).
		if d.Subtype == "C" && !d.Def.GetConstraint().GetSkipValidation() && !a.st.created[a.st.qual(d.TypeName)] {
			a.takes(lockSH)
			a.add("domain-constraint", fmt.Sprintf("ALTER DOMAIN %s ADD CONSTRAINT scans every table that uses the domain under SHARE", lastName(d.TypeName)))
		}
		if d.Subtype == "V" && !a.st.created[a.st.qual(d.TypeName)] {
			a.takes(lockSH)
			a.add("domain-constraint", fmt.Sprintf("ALTER DOMAIN %s VALIDATE CONSTRAINT %s scans every table that uses the domain under SHARE, blocking writes to them until it finishes", lastName(d.TypeName), d.Name))
		}
		if d.Subtype == "O" && !a.st.created[a.st.qual(d.TypeName)] {
			a.takes(lockSH)
			a.add("domain-constraint", fmt.Sprintf("ALTER DOMAIN %s SET NOT NULL scans every column that uses the domain under SHARE", lastName(d.TypeName)))
		}
	case n.GetCreateDomainStmt() != nil:
		for _, c := range n.GetCreateDomainStmt().Constraints {
			if c.GetConstraint().GetContype() == pg_query.ConstrType_CONSTR_CHECK {
				a.add("domain-constraint", "CREATE DOMAIN with a CHECK: adding a column of this domain later rewrites the table, and changing the check scans every table that uses it").Scan = false
				break
			}
		}
	case n.GetAlterTableMoveAllStmt() != nil:
		m := n.GetAlterTableMoveAllStmt()
		kind := "TABLE"
		switch m.Objtype {
		case pg_query.ObjectType_OBJECT_INDEX:
			kind = "INDEX"
		case pg_query.ObjectType_OBJECT_MATVIEW:
			kind = "MATERIALIZED VIEW"
		}
		a.takesOn(lockAE, objectRelkind(m.Objtype))
		a.add("set-tablespace", fmt.Sprintf("ALTER %s ALL IN TABLESPACE %s SET TABLESPACE %s takes ACCESS EXCLUSIVE on every such relation in %s and copies its files, blocking its readers and writers until the copy ends", kind, m.OrigTablespacename, m.NewTablespacename, m.OrigTablespacename))
	case n.GetCreateStmt() != nil:
		a.createTable(n.GetCreateStmt())
	case n.GetUpdateStmt() != nil, n.GetDeleteStmt() != nil, n.GetInsertStmt() != nil, n.GetMergeStmt() != nil,
		n.GetCreateTableAsStmt() != nil, n.GetCopyStmt() != nil:
		a.modify(n)
	case n.GetExplainStmt() != nil:
		for _, o := range n.GetExplainStmt().Options {
			if strings.EqualFold(o.GetDefElem().GetDefname(), "analyze") && !falseOption(o.GetDefElem()) {
				a.modify(n.GetExplainStmt().Query) // EXPLAIN ANALYZE runs the statement
			}
		}
	case n.GetDoStmt() != nil:
		a.add("opaque-statement", "DO block: its effect is invisible to the parser; the rehearsal's trace judges it")
		a.doCommitInTransaction(n)
		a.doBlock(n.GetDoStmt())
	case n.GetCallStmt() != nil:
		a.add("opaque-statement", fmt.Sprintf("CALL %s(): a procedure may change the schema invisibly; the rehearsal's trace judges it", lastName(n.GetCallStmt().GetFunccall().GetFuncname())))
	case n.GetRuleStmt() != nil:
		r := n.GetRuleStmt()
		if !a.st.isNew(a.st.rel(r.Relation)) {
			a.takes(lockAE)
			a.add("create-rule", fmt.Sprintf("CREATE RULE %s takes ACCESS EXCLUSIVE on %s and changes what queries on it do", r.Rulename, relName(r.Relation)))
		}
	case n.GetExecuteStmt() != nil:
		a.add("opaque-statement", "EXECUTE of a prepared statement: invisible to the parser")
	case n.GetSelectStmt() != nil:
		a.modify(n)
		a.setConfig(n)
		a.setvals(n)
		if fn := calledFunction(n); fn != "" {
			a.add("opaque-statement", fmt.Sprintf("SELECT calls %s(): a function may change the schema invisibly; the rehearsal's trace judges it", fn))
		}
	}
}

// versionRules flag syntax the target server is too old for, wherever it appears in the statement
// (statement-specific cases sit with their statements: REINDEX, DETACH PARTITION; those of 15 to 17 in
// newerFeatures).
func (a *analyzer) versionRules(n *pg_query.Node) {
	a.newerFeatures(n)
	if isChain(n) && a.cfg.Major() < 12 {
		a.add("version-unsupported", fmt.Sprintf("COMMIT/ROLLBACK AND CHAIN is not available on PostgreSQL %d (it arrived in 12): the statement fails with a syntax error", a.cfg.Major()))
	}
	if a.cfg.Major() >= 15 {
		return
	}
	nnd := false
	walk(n, func(m proto.Message) {
		switch x := m.(type) {
		case *pg_query.IndexStmt:
			nnd = nnd || x.NullsNotDistinct
		case *pg_query.Constraint:
			nnd = nnd || x.NullsNotDistinct
		}
	})
	if nnd {
		a.add("version-unsupported", fmt.Sprintf("UNIQUE … NULLS NOT DISTINCT is not available on PostgreSQL %d (it arrived in 15): the statement fails with a syntax error", a.cfg.Major()))
	}
}

// falseOption tells whether a DefElem option is turned off (ANALYZE false, ANALYZE off).
func falseOption(d *pg_query.DefElem) bool {
	if d.Arg == nil {
		return false
	}
	if c := d.Arg.GetAConst(); c != nil && c.GetBoolval() != nil {
		return !c.GetBoolval().Boolval
	}
	v := strings.ToLower(d.Arg.GetString_().GetSval() + d.Arg.GetAConst().GetSval().GetSval())
	return v == "false" || v == "off" || v == "0" || v == "no"
}

var harmlessFuncs = map[string]bool{"set_config": true, "current_setting": true, "pg_advisory_lock": true, "pg_advisory_unlock": true,
	"pg_advisory_xact_lock": true, "pg_try_advisory_lock": true, "pg_try_advisory_xact_lock": true, "now": true, "count": true}

func calledFunction(n *pg_query.Node) string {
	found := ""
	// setval changes no schema (restart-sequence judges where it moves the sequence, see setvals), nor
	// do the built-ins its arguments call to name the sequence or compute the value (walk visits a call
	// before its arguments).
	inSetval := map[*pg_query.FuncCall]bool{}
	walk(n, func(m proto.Message) {
		fc, ok := m.(*pg_query.FuncCall)
		if !ok || found != "" || inSetval[fc] {
			return
		}
		switch name := lastName(fc.Funcname); {
		case builtinCall(fc, "setval"):
			for _, arg := range fc.Args {
				walk(arg, func(m proto.Message) {
					if c, ok := m.(*pg_query.FuncCall); ok && (inertFuncs[lastName(c.Funcname)] || harmlessFuncs[lastName(c.Funcname)]) {
						inSetval[c] = true
					}
				})
			}
		case !harmlessFuncs[name]:
			found = name
		}
	})
	return found
}

// setConfig follows SELECT set_config('lock_timeout' | 'statement_timeout', value, is_local) with
// constant arguments: is_local true acts like SET LOCAL.
func (a *analyzer) setConfig(n *pg_query.Node) {
	walk(n, func(m proto.Message) {
		fc, ok := m.(*pg_query.FuncCall)
		if !ok || lastName(fc.Funcname) != "set_config" || len(fc.Args) != 3 {
			return
		}
		name := strings.ToLower(fc.Args[0].GetAConst().GetSval().GetSval())
		val := fc.Args[1].GetAConst()
		local := fc.Args[2].GetAConst().GetBoolval()
		if val == nil || fc.Args[2].GetAConst() == nil {
			return
		}
		on := !zeroSetting([]*pg_query.Node{fc.Args[1]})
		switch {
		case name == "lock_timeout" && on:
			ms, _ := settingMS([]*pg_query.Node{fc.Args[1]})
			a.lockTimeout.setValue(ms, local.GetBoolval(), a.inTx())
		case name == "lock_timeout":
			a.lockTimeout.set(on, local.GetBoolval(), a.inTx())
		case name == "statement_timeout":
			a.stmtTimeout.set(on, local.GetBoolval(), a.inTx())
		}
	})
}

// zeroSetting tells whether a timeout's value turns it off: one PostgreSQL reads as 0 ms, also after
// rounding ('0.4ms', '400us', 0.4; see timeoutMS). A value it would refuse is not.
func zeroSetting(args []*pg_query.Node) bool {
	ms, ok := settingMS(args)
	return ok && ms == 0
}

// settingMS is a timeout's value in milliseconds as PostgreSQL reads it (see timeoutMS); ok is false
// for a value that is no constant, or one PostgreSQL would refuse.
func settingMS(args []*pg_query.Node) (ms float64, ok bool) {
	if len(args) != 1 {
		return 0, false
	}
	c := args[0].GetAConst()
	if c == nil {
		return 0, false
	}
	var v string
	switch {
	case c.GetIval() != nil:
		return float64(c.GetIval().Ival), true
	case c.GetFval() != nil:
		v = c.GetFval().Fval
	case c.GetSval() != nil:
		v = c.GetSval().Sval
	default:
		return 0, false
	}
	return timeoutMS(v)
}

// utcSetting tells whether a SET TIME ZONE value names a zone of fixed offset zero: UTC and its aliases
// in the tz database, or the number 0 (hours east of UTC). PostgreSQL 12+ changes a column between
// timestamp and timestamptz without a rewrite only under such a session zone
// (TimestampTimestampTzRequiresRewrite). An interval, or any other name, does not count.
func utcSetting(arg *pg_query.Node) bool {
	c := arg.GetAConst()
	if c == nil {
		return false
	}
	if c.GetIval() != nil {
		return c.GetIval().Ival == 0
	}
	if c.GetFval() != nil {
		f, err := strconv.ParseFloat(c.GetFval().Fval, 64)
		return err == nil && f == 0
	}
	name := strings.ToLower(strings.TrimSpace(c.GetSval().GetSval()))
	name = strings.TrimPrefix(name, "etc/")
	switch name {
	case "utc", "uct", "gmt", "gmt0", "gmt+0", "gmt-0", "greenwich", "universal", "zulu":
		return true
	}
	return false
}

func (a *analyzer) rename(r *pg_query.RenameStmt) {
	key := a.st.rel(r.Relation)
	if r.RenameType == pg_query.ObjectType_OBJECT_COLUMN {
		// Under either name the column is no longer the one an ADD COLUMN of the migration made.
		delete(a.added, colKey(key, r.Subname))
		delete(a.added, colKey(key, r.Newname))
	}
	if r.Relation == nil || a.st.isNew(key) {
		a.renameEffects(r)
		return
	}
	if kind := renameKind(r); kind != "" && r.MissingOk && a.st.absent(key, r.Relation.GetSchemaname() != "") {
		// ALTER TABLE IF EXISTS … RENAME of a relation the known schema does not have does nothing.
		from, mark := len(a.out), a.mark()
		a.renameEffects(r)
		a.nothingDone(from, mark, a.noSuch(kind, []string{relName(r.Relation)}, []string{key}))
		return
	}
	a.renameEffects(r)
}

// renameKind names the kind of relation a RENAME acts on, "" when it acts on no relation.
func renameKind(r *pg_query.RenameStmt) string {
	t := r.RenameType
	if t == pg_query.ObjectType_OBJECT_COLUMN || t == pg_query.ObjectType_OBJECT_TABCONSTRAINT {
		t = r.RelationType
	}
	return relationKinds[t]
}

// relationKinds names relation kinds for messages.
var relationKinds = map[pg_query.ObjectType]string{pg_query.ObjectType_OBJECT_TABLE: "table", pg_query.ObjectType_OBJECT_INDEX: "index",
	pg_query.ObjectType_OBJECT_VIEW: "view", pg_query.ObjectType_OBJECT_MATVIEW: "materialized view",
	pg_query.ObjectType_OBJECT_FOREIGN_TABLE: "foreign table", pg_query.ObjectType_OBJECT_SEQUENCE: "sequence"}

// sequenceDefaults is what a finding on moving or renaming a sequence adds: what does not break.
const sequenceDefaults = " (column defaults keep working: nextval('…'::regclass) holds the sequence's OID, not its name)"

// renameEffects raises the rules of a RENAME.
func (a *analyzer) renameEffects(r *pg_query.RenameStmt) {
	rel := relName(r.Relation)
	if a.st.isNew(a.st.rel(r.Relation)) {
		return
	}
	switch r.RenameType {
	case pg_query.ObjectType_OBJECT_COLUMN:
		a.takesOn(lockAE, a.relkindOf(r.Relation, r.RelationType))
		f := a.add("rename-column", fmt.Sprintf("RENAME COLUMN %s.%s TO %s breaks running code that uses the old name", rel, r.Subname, r.Newname))
		a.renameColumnUsers(f, r.Relation, a.st.rel(r.Relation), r.Subname, r.Newname)
	case pg_query.ObjectType_OBJECT_TABLE, pg_query.ObjectType_OBJECT_VIEW, pg_query.ObjectType_OBJECT_MATVIEW, pg_query.ObjectType_OBJECT_SEQUENCE, pg_query.ObjectType_OBJECT_FOREIGN_TABLE:
		// ALTER TABLE also renames a view or a sequence: the kind the state knows speaks.
		kind := a.relkindOf(r.Relation, r.RenameType)
		breaks := "uses the old name"
		switch kind {
		case "v", "m":
			breaks = "reads it by the old name"
		case "S":
			breaks += sequenceDefaults
		}
		a.takesOn(lockAE, kind)
		if r.RenameType == pg_query.ObjectType_OBJECT_TABLE {
			what := rel
			if kind != "" {
				what = relkindWord(kind) + " " + rel
			}
			a.add("rename-table", fmt.Sprintf("RENAME %s TO %s breaks running code that %s", what, r.Newname, breaks))
			break
		}
		a.add("rename-table", fmt.Sprintf("ALTER %s %s RENAME TO %s breaks running code that %s", strings.ToUpper(relationKinds[r.RenameType]), rel, r.Newname, breaks))
	case pg_query.ObjectType_OBJECT_TYPE, pg_query.ObjectType_OBJECT_DOMAIN:
		items := r.Object.GetList().GetItems()
		if !a.st.isNew(a.st.qual(items)) {
			a.add("rename-type", fmt.Sprintf("RENAME of type %s TO %s breaks running code that names the type (casts, function signatures, type maps)", lastName(items), r.Newname))
		}
	case pg_query.ObjectType_OBJECT_ATTRIBUTE:
		a.add("rename-type", fmt.Sprintf("RENAME ATTRIBUTE %s.%s TO %s breaks running code that reads the attribute", rel, r.Subname, r.Newname))
	case pg_query.ObjectType_OBJECT_SCHEMA:
		if !a.st.isNew(r.Subname) {
			a.add("move-or-rename-schema", fmt.Sprintf("RENAME SCHEMA %s breaks every qualified reference to it", r.Subname))
		}
	case pg_query.ObjectType_OBJECT_TABCONSTRAINT:
		a.takesOn(lockAE, a.relkindOf(r.Relation, r.RelationType))
		a.add("alter-rename-constraint", "")
	case pg_query.ObjectType_OBJECT_TRIGGER:
		a.takes(lockAE)
		a.add("rename-trigger", fmt.Sprintf("ALTER TRIGGER %s ON %s RENAME takes ACCESS EXCLUSIVE on %s", r.Subname, rel, rel))
	case pg_query.ObjectType_OBJECT_INDEX:
		a.takes(lockSUE)
	}
}

func (a *analyzer) index(is *pg_query.IndexStmt) {
	rel := relName(is.Relation)
	fresh := a.st.isNew(a.st.rel(is.Relation))
	if (is.Concurrent && !a.inTx() || a.partialRun()) && !is.IfNotExists {
		a.add("non-idempotent-ddl", "CREATE INDEX without IF NOT EXISTS in a migration that runs outside a transaction: a retry after a failure stops at it")
	}
	if !is.Unique && len(is.IndexParams) > 3 {
		a.add("index-too-many-columns", fmt.Sprintf("non-unique index with %d key columns: large and rarely used beyond the first few", len(is.IndexParams)))
	}
	_, partitioned := a.st.partitioned[a.st.rel(is.Relation)]
	if !is.Concurrent {
		if !fresh && partitioned && !is.Relation.GetInh() {
			a.takesKnown(lockSH, is.Relation) // ON ONLY: an invalid parent index, no build
			return
		}
		if !fresh {
			a.takes(lockSH)
			f := a.add("create-index-blocking", fmt.Sprintf("CREATE INDEX on %s without CONCURRENTLY blocks writes (SHARE) for the whole build", rel))
			if partitioned && is.Relation.GetInh() {
				f.Message = fmt.Sprintf("CREATE INDEX on partitioned table %s blocks writes (SHARE) to every partition while each is built; PostgreSQL refuses CONCURRENTLY on a partitioned table", rel)
				f.Suggestion = fmt.Sprintf("CREATE INDEX … ON ONLY %s (an invalid parent index), then CREATE INDEX CONCURRENTLY on each partition and ALTER INDEX <parent index> ATTACH PARTITION <partition index>", relIdent(is.Relation))
			}
		}
		return
	}
	if partitioned && !fresh {
		f := a.add("create-index-blocking", fmt.Sprintf("CREATE INDEX CONCURRENTLY on partitioned table %s fails: PostgreSQL cannot build an index on a partitioned table concurrently", rel))
		f.Suggestion = fmt.Sprintf("CREATE INDEX … ON ONLY %s (an invalid parent index), then CREATE INDEX CONCURRENTLY on each partition and ALTER INDEX <parent index> ATTACH PARTITION <partition index>", relIdent(is.Relation))
		f.Lock = "— (ERROR)"
	}
	if !fresh {
		a.takes(lockSUE)
	}
	a.concurrent("CREATE INDEX CONCURRENTLY")
	var missing []string
	if is.Idxname == "" {
		missing = append(missing, "an explicit name")
	}
	if !is.IfNotExists {
		missing = append(missing, "IF NOT EXISTS")
	}
	if len(missing) > 0 {
		a.add("concurrent-index-hygiene", "CREATE INDEX CONCURRENTLY without "+strings.Join(missing, " and ")+": a failed build leaves an INVALID index that blocks the retry")
	}
}

// concurrent raises the rules every CONCURRENTLY operation shares.
func (a *analyzer) concurrent(what string) {
	a.refusesTx(what)
	if num, minorKnown := a.cfg.versionNum(); minorKnown && num >= 140000 && num < 140004 {
		a.add("concurrent-index-buggy-version", fmt.Sprintf("%s on PostgreSQL 14.%d can silently corrupt the index (fixed in 14.4)", what, num%10000))
	}
}

func (a *analyzer) reindex(r *pg_query.ReindexStmt) {
	if sqlparse.OptionBool(r.Params, "concurrently", false) { // REINDEX (CONCURRENTLY false) blocks

		if a.cfg.Major() < 12 {
			a.add("version-unsupported", fmt.Sprintf("REINDEX … CONCURRENTLY is not available on PostgreSQL %d (it arrived in 12): the statement fails with a syntax error", a.cfg.Major()))
			return
		}
		a.takes(lockSUE)
		a.concurrent("REINDEX CONCURRENTLY")
		return
	}
	switch r.Kind {
	case pg_query.ReindexObjectType_REINDEX_OBJECT_SCHEMA, pg_query.ReindexObjectType_REINDEX_OBJECT_DATABASE, pg_query.ReindexObjectType_REINDEX_OBJECT_SYSTEM:
		a.refusesTx("REINDEX SCHEMA/DATABASE/SYSTEM")
	}
	a.takes(lockSH)
	// REINDEX holds ACCESS EXCLUSIVE on the index, and the planner takes ACCESS SHARE on every index of
	// a table it plans a query against: a read that never uses the index waits as well (measured on 15).
	a.add("reindex-blocking", "REINDEX without CONCURRENTLY holds SHARE on the table and ACCESS EXCLUSIVE on the index while it rebuilds: "+
		"writes wait, and so does every query that plans against the table, reads through other indexes too (the planner locks every index of the table); "+
		"only prepared statements with cached plans go on")
}

func (a *analyzer) drop(d *pg_query.DropStmt) {
	names, keys := a.dropNames(d)
	allFresh := len(keys) > 0
	for i, k := range keys {
		// An index PostgreSQL can only have named for tables new to the change is on such a table.
		autoNew := d.RemoveType == pg_query.ObjectType_OBJECT_INDEX && len(keys) == len(d.Objects) &&
			a.st.newAutoIndex(k, len(d.Objects[i].GetList().GetItems()) > 1)
		if !a.st.isNew(k) && !autoNew {
			allFresh = false
		}
	}
	// DROP … IF EXISTS of relations the known schema does not have does nothing (PostgreSQL notices
	// "does not exist, skipping" and takes no lock), nor does one the rehearsal saw take no lock.
	kind := dropKinds[d.RemoveType]
	if kind != "" && d.MissingOk && !d.Concurrent && !allFresh {
		switch {
		case a.absent(d.Objects, keys):
			from, mark := len(a.out), a.mark()
			a.dropEffects(d, names, false)
			a.nothingDone(from, mark, a.noSuch(kind, names, keys))
			return
		case a.cfg.sawNothingDone(a.script.File, a.stmt.Pos.Line, a.stmt.Pos.Column):
			from, mark := len(a.out), a.mark()
			a.dropEffects(d, names, false)
			a.nothingDone(from, mark, fmt.Sprintf("the rehearsal saw the statement take no lock: no %s %s exists, so it does nothing", kind, orList(names)))
			return
		}
		// Whether it does anything the rehearsal's trace tells (see DidNothing).
		k := [2]int{a.stmt.Pos.Line, a.stmt.Pos.Column}
		sf := a.facts.stmts[k]
		for _, o := range d.Objects {
			if items := o.GetList().GetItems(); len(items) > 0 {
				sf.dropIfExists = append(sf.dropIfExists, items[len(items)-1].GetString_().GetSval())
			}
		}
		a.facts.stmts[k] = sf
	}
	// Nor does DROP INDEX CONCURRENTLY IF EXISTS of such an index lock anything.
	if d.Concurrent && d.MissingOk && a.absent(d.Objects, keys) {
		allFresh = true
	}
	a.dropEffects(d, names, allFresh)
}

// dropKinds names the relation kinds whose DROP … IF EXISTS may be judged to do nothing.
var dropKinds = map[pg_query.ObjectType]string{pg_query.ObjectType_OBJECT_TABLE: "table", pg_query.ObjectType_OBJECT_INDEX: "index",
	pg_query.ObjectType_OBJECT_VIEW: "view", pg_query.ObjectType_OBJECT_MATVIEW: "materialized view"}

// absent tells whether none of the relations a DROP names (objects; keys are their state keys) exists.
func (a *analyzer) absent(objects []*pg_query.Node, keys []string) bool {
	if len(keys) == 0 || len(keys) != len(objects) {
		return false
	}
	for i, k := range keys {
		if !a.st.absent(k, len(objects[i].GetList().GetItems()) > 1) {
			return false
		}
	}
	return true
}

// noSuch says that a statement does nothing because no kind by the names (keys) exists.
func (a *analyzer) noSuch(kind string, names, keys []string) string {
	for _, k := range keys {
		if how := a.st.gone[k]; how != "" {
			return fmt.Sprintf("no %s %s exists: an earlier statement of this migration %s, so the statement does nothing", kind, orList(names), how)
		}
	}
	return fmt.Sprintf("no %s %s exists after the earlier migrations: the statement does nothing", kind, orList(names))
}

// orList joins names as prose: "a", "a or b", "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// keptWhenNothingDone are rules a statement that does nothing still earns: it fails all the same.
var keptWhenNothingDone = map[string]bool{"version-unsupported": true, "concurrently-in-transaction": true}

// nothingDone turns the findings the current statement added from index from on into those of a
// statement that does nothing (msg says why): safe, with no lock, rewrite or scan, one per rule, each
// keeping what it would say if the object existed (ifExists, for ApplyEvidence). The statement's
// strongest lock goes back to mark: it takes none, so missing-lock-timeout and
// statement-after-access-exclusive do not count it.
func (a *analyzer) nothingDone(from int, mark lockMark, msg string) {
	a.lock, a.lockKind = mark.lock, mark.kind
	seen := map[string]bool{}
	out := a.out[:from]
	for _, f := range a.out[from:] {
		if keptWhenNothingDone[f.Rule] {
			out = append(out, f)
			continue
		}
		if seen[f.Rule] {
			continue
		}
		seen[f.Rule] = true
		would := f
		f.ifExists = &would
		f.Risk, f.Message, f.Lock, f.Rewrite, f.Scan, f.Suggestion = Safe, msg, "", false, false, ""
		out = append(out, f)
	}
	a.out = out
}

// dropEffects raises the rules of a DROP that drops what it names (names, as written).
func (a *analyzer) dropEffects(d *pg_query.DropStmt, names []string, allFresh bool) {
	if d.Behavior == pg_query.DropBehavior_DROP_CASCADE {
		a.add("drop-cascade", "DROP … CASCADE also drops every dependent object (views, foreign keys, …)")
	}
	if a.partialRun() && !d.MissingOk && !d.Concurrent {
		a.add("non-idempotent-ddl", "DROP without IF EXISTS in a migration that runs outside a transaction")
	}
	list := strings.Join(names, ", ")
	switch d.RemoveType {
	case pg_query.ObjectType_OBJECT_INDEX:
		if d.Concurrent {
			a.concurrent("DROP INDEX CONCURRENTLY")
			if !a.inTx() && !d.MissingOk {
				a.add("non-idempotent-ddl", "DROP INDEX CONCURRENTLY without IF EXISTS in a migration that runs outside a transaction")
			}
			if !allFresh && !a.inTx() { // inside a transaction block it fails before it locks anything
				a.takes(lockSUE)
				a.queue = dropIndexConcurrentlyQueue(list)
			}
			return
		}
		if !allFresh {
			a.takes(lockAE)
			a.add("drop-index-blocking", fmt.Sprintf("DROP INDEX %s takes ACCESS EXCLUSIVE on its table", list))
		}
	case pg_query.ObjectType_OBJECT_TABLE:
		if !allFresh {
			a.takes(lockAE)
			a.add("drop-table", fmt.Sprintf("DROP TABLE %s destroys its data and locks every table it references by foreign key", list))
		}
	case pg_query.ObjectType_OBJECT_SCHEMA:
		if !allFresh {
			a.add("drop-schema-or-database", fmt.Sprintf("DROP SCHEMA %s destroys every object in it", list))
		}
	case pg_query.ObjectType_OBJECT_VIEW, pg_query.ObjectType_OBJECT_MATVIEW:
		if !allFresh {
			a.takesOn(lockAE, objectRelkind(d.RemoveType))
			a.add("replace-or-drop-view", fmt.Sprintf("DROP VIEW %s breaks its readers", list))
		}
	case pg_query.ObjectType_OBJECT_TRIGGER:
		if !allFresh {
			a.takes(lockAE)
			a.add("drop-or-toggle-trigger", "DROP TRIGGER takes ACCESS EXCLUSIVE on the table and stops what the trigger enforced").Lock = "ACCESS EXCLUSIVE"
		}
	case pg_query.ObjectType_OBJECT_POLICY:
		if !allFresh {
			a.takes(lockAE)
			a.add("row-level-security", "DROP POLICY takes ACCESS EXCLUSIVE and changes which rows roles see")
		}
	}
}

// dropNames returns the names a DROP names as written, and their keys; for triggers, policies and rules,
// the table's. Schemas are keyed by their bare name.
func (a *analyzer) dropNames(d *pg_query.DropStmt) (names, keys []string) {
	for _, o := range d.Objects {
		var items []*pg_query.Node
		if l := o.GetList(); l != nil {
			items = l.Items
		} else {
			items = []*pg_query.Node{o}
		}
		if tn := o.GetTypeName(); tn != nil {
			items = tn.Names
		}
		switch d.RemoveType {
		case pg_query.ObjectType_OBJECT_TRIGGER, pg_query.ObjectType_OBJECT_POLICY, pg_query.ObjectType_OBJECT_RULE:
			items = items[:max(len(items)-1, 0)]
		case pg_query.ObjectType_OBJECT_SCHEMA:
			if len(items) > 0 {
				names = append(names, items[0].GetString_().GetSval())
				keys = append(keys, items[0].GetString_().GetSval())
			}
			continue
		}
		if len(items) == 0 {
			continue
		}
		parts := make([]string, len(items))
		for i, it := range items {
			parts[i] = it.GetString_().GetSval()
		}
		names = append(names, strings.Join(parts, "."))
		keys = append(keys, a.st.qual(items))
	}
	return names, keys
}

func (a *analyzer) createTable(cs *pg_query.CreateStmt) {
	if a.partialRun() && !cs.IfNotExists {
		a.add("non-idempotent-ddl", "CREATE TABLE without IF NOT EXISTS in a migration that runs outside a transaction")
	}
	if cs.Partbound != nil && len(cs.InhRelations) == 1 {
		parent := cs.InhRelations[0].GetRangeVar()
		if pk := a.st.rel(parent); !a.st.isNew(pk) {
			a.takes(lockAE)
			f := a.add("create-partition", fmt.Sprintf("CREATE TABLE … PARTITION OF %s takes ACCESS EXCLUSIVE on %s", relName(parent), relName(parent)))
			if def := a.st.defaultPart[pk]; def != "" && !cs.Partbound.IsDefault && !a.st.isNew(def) {
				f.Risk, f.Scan = Dangerous, true
				f.Message += fmt.Sprintf(" and scans its DEFAULT partition %s under ACCESS EXCLUSIVE for rows that belong to the new partition", bare(def))
			}
		}
	}
	// Column names are compared as the parser gives them: "Id" and id are two columns.
	seen := map[string]bool{}
	var refs []*pg_query.RangeVar
	keys := tableKeyColumns(cs)
	if len(cs.TableElts) > 0 {
		a.parts = max(a.stmt.Offset(elementLocation(cs.TableElts[0])), 0)
	}
	for _, e := range cs.TableElts {
		if cd := e.GetColumnDef(); cd != nil {
			a.part = max(a.stmt.Offset(cd.Location), 0)
			if seen[cd.Colname] {
				a.add("duplicate-column-assignment", fmt.Sprintf("column %s is defined twice: the statement fails", cd.Colname))
			}
			seen[cd.Colname] = true
			a.columnTypeRules(cd, keys[cd.Colname])
			a.part = 0
			refs = append(refs, foreignKeyRefs(cd.Constraints)...)
		} else if k := e.GetConstraint(); k.GetContype() == pg_query.ConstrType_CONSTR_FOREIGN {
			refs = append(refs, k.Pktable)
		}
	}
	a.parts = 0
	a.newTableForeignKeys(a.st.rel(cs.Relation), refs)
}

// elementLocation is where an element of CREATE TABLE starts (a column, a table constraint); -1 for
// one the parser keeps no location of its start for (LIKE: its table's).
func elementLocation(e *pg_query.Node) int32 {
	switch {
	case e.GetColumnDef() != nil:
		return e.GetColumnDef().Location
	case e.GetConstraint() != nil:
		return e.GetConstraint().Location
	}
	return -1
}

// foreignKeyRefs are the tables the REFERENCES constraints of a column name.
func foreignKeyRefs(constraints []*pg_query.Node) []*pg_query.RangeVar {
	var refs []*pg_query.RangeVar
	for _, c := range constraints {
		if k := c.GetConstraint(); k.GetContype() == pg_query.ConstrType_CONSTR_FOREIGN {
			refs = append(refs, k.Pktable)
		}
	}
	return refs
}

// referenced names the tables of refs for messages: each once (by key), as first written, in the order
// first named, leaving out those whose key skip reports.
func (a *analyzer) referenced(refs []*pg_query.RangeVar, skip func(key string) bool) []string {
	var names []string
	seen := map[string]bool{}
	for _, rv := range refs {
		k := a.st.rel(rv)
		if seen[k] || skip != nil && skip(k) {
			continue
		}
		seen[k] = true
		names = append(names, relName(rv))
	}
	return names
}

// newTableForeignKeys judges the foreign keys of table self, created in this migration, that reference
// refs: PostgreSQL takes SHARE ROW EXCLUSIVE, briefly, on every referenced table; those that existed
// before the migration (not self, not one the migration created) make the finding, all of them named.
func (a *analyzer) newTableForeignKeys(self string, refs []*pg_query.RangeVar) {
	names := a.referenced(refs, func(k string) bool { return k == self || a.st.isNew(k) })
	if len(names) == 0 {
		return
	}
	a.takes(lockSRE)
	a.strongOn(lockSRE, names...)
	what := "the foreign key takes"
	if len(names) > 1 {
		what = "the foreign keys take"
	}
	f := a.add("create-table-with-fk", fmt.Sprintf("%s SHARE ROW EXCLUSIVE on %s (brief; needs lock_timeout)", what, andList(names)))
	f.Lock = "SHARE ROW EXCLUSIVE on " + strings.Join(names, ", ")
}

// andList joins names as prose: "a", "a and b", "a, b and c".
func andList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// tableKeyColumns are the columns a CREATE TABLE's table constraints make keys: PRIMARY KEY, UNIQUE and
// FOREIGN KEY columns, named as the parser gives them.
func tableKeyColumns(cs *pg_query.CreateStmt) map[string]bool {
	keys := map[string]bool{}
	for _, e := range cs.TableElts {
		k := e.GetConstraint()
		var cols []*pg_query.Node
		switch k.GetContype() {
		case pg_query.ConstrType_CONSTR_PRIMARY, pg_query.ConstrType_CONSTR_UNIQUE:
			cols = k.Keys
		case pg_query.ConstrType_CONSTR_FOREIGN:
			cols = k.FkAttrs
		}
		for _, c := range cols {
			keys[c.GetString_().GetSval()] = true
		}
	}
	return keys
}

// keyLike tells whether a column is a key or refers to one: a table constraint made it one (tableKey),
// it has a PRIMARY KEY, UNIQUE, REFERENCES or identity constraint, or its name says so (keyName).
func keyLike(cd *pg_query.ColumnDef, tableKey bool) bool {
	if tableKey || keyName(cd.Colname) {
		return true
	}
	for _, c := range cd.Constraints {
		switch c.GetConstraint().GetContype() {
		case pg_query.ConstrType_CONSTR_PRIMARY, pg_query.ConstrType_CONSTR_UNIQUE, pg_query.ConstrType_CONSTR_FOREIGN,
			pg_query.ConstrType_CONSTR_IDENTITY:
			return true
		}
	}
	return false
}

// keyName tells whether a column name, as PostgreSQL knows it, names a key: id or …_id in any letter
// case, and the quoted camelCase and PascalCase names ORMs such as Prisma write ("tenantId", "UserId",
// "ownerID"): Id or ID after a lower-case letter or a digit. "Paid", "valid" and "UUID" are not keys.
func keyName(name string) bool {
	lower := strings.ToLower(name)
	if lower == "id" || strings.HasSuffix(lower, "_id") {
		return true
	}
	if len(name) < 3 || !strings.HasSuffix(name, "Id") && !strings.HasSuffix(name, "ID") {
		return false
	}
	c := name[len(name)-3]
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

// columnTypeRules are the type-advice rules shared by CREATE TABLE and ADD COLUMN; tableKey says a table
// constraint of the same statement makes the column a key.
func (a *analyzer) columnTypeRules(cd *pg_query.ColumnDef, tableKey bool) {
	col, t := cd.Colname, cd.TypeName
	typ, mods := typeName(t)
	switch typ {
	case "json":
		a.add("json-column", fmt.Sprintf("column %s has type json: prefer jsonb", col))
	case "serial", "serial4", "smallserial", "serial2":
		a.add("prefer-bigint", fmt.Sprintf("column %s is %s: a 32-bit or smaller key overflows, and widening it later rewrites the table", col, typ))
	case "int4", "int2", "int", "integer", "smallint":
		// Counts and quantities stay small; keys grow with every row.
		if keyLike(cd, tableKey) {
			a.add("prefer-bigint", fmt.Sprintf("column %s is %s: a 32-bit or smaller key overflows, and widening it later rewrites the table", col, shownType(typ, nil)))
		}
	case "varchar":
		if len(mods) > 0 {
			a.add("prefer-text", fmt.Sprintf("column %s is varchar(%d): changing the limit later may rewrite the table; use text with a CHECK", col, mods[0]))
		}
	case "bpchar":
		a.add("prefer-text", fmt.Sprintf("column %s is char(n): blank-padded and no faster; use text", col))
	case "timestamp":
		a.add("prefer-timestamptz", fmt.Sprintf("column %s is timestamp without time zone: prefer timestamptz", col))
	}
	if serialTypes[typ] {
		a.add("prefer-identity", fmt.Sprintf("column %s is %s: prefer GENERATED BY DEFAULT AS IDENTITY", col, typ))
	}
}

// styleRules are the rules that look at every statement's names.
func (a *analyzer) styleRules(n *pg_query.Node) {
	// The parser truncates long identifiers in the tree, so the statement text is what tells.
	long := longIdentifier(a.stmt.Code()) // a VALUES list of literals names nothing: a seed's megabytes need no scanner
	if long != "" {
		a.add("identifier-too-long", fmt.Sprintf("identifier %q is %d bytes; PostgreSQL truncates it to 63, so later statements naming it in full miss", long, len(long)))
	}
	var target *pg_query.RangeVar
	switch {
	case n.GetCreateStmt() != nil:
		target = n.GetCreateStmt().Relation
	case n.GetAlterTableStmt() != nil:
		target = n.GetAlterTableStmt().Relation
	case n.GetIndexStmt() != nil:
		target = n.GetIndexStmt().Relation
	}
	if target != nil && target.Schemaname == "" {
		unqualified := target.Relname
		a.add("unqualified-name", fmt.Sprintf("table %s is not schema-qualified: it resolves through search_path", unqualified))
	}
	switch {
	case n.GetUpdateStmt() != nil:
		// As the parser gives them: "Name" and name are two columns.
		seen := map[string]bool{}
		for _, t := range n.GetUpdateStmt().TargetList {
			name := t.GetResTarget().GetName()
			if seen[name] {
				a.add("duplicate-column-assignment", fmt.Sprintf("column %s is assigned twice: the statement fails", name))
				break
			}
			seen[name] = true
		}
	case n.GetInsertStmt() != nil:
		seen := map[string]bool{}
		for _, t := range n.GetInsertStmt().Cols {
			name := t.GetResTarget().GetName()
			if seen[name] {
				a.add("duplicate-column-assignment", fmt.Sprintf("column %s is listed twice: the statement fails", name))
				break
			}
			seen[name] = true
		}
	}
}

// longIdentifier finds an identifier over 63 bytes in the statement text: the parser has already
// truncated it in the tree. The scanner tells identifiers from string literals and comments.
func longIdentifier(sql string) string {
	if !hasLongWord(sql) {
		return ""
	}
	res, err := pg_query.Scan(sql)
	if err != nil {
		return ""
	}
	for _, t := range res.Tokens {
		if t.Token != pg_query.Token_IDENT || t.End > int32(len(sql)) || t.Start < 0 {
			continue
		}
		text := strings.Trim(sql[t.Start:t.End], `"`)
		if len(text) > 63 {
			return text
		}
	}
	return ""
}

// hasLongWord is a fast pre-check: a run of over 63 identifier bytes, or a quoted run.
func hasLongWord(sql string) bool {
	run, quoted := 0, false
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case c == '"':
			quoted, run = !quoted, 0
		case quoted || c == '_' || c == '$' || c >= 0x80 || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
			run++
			if run > 63 {
				return true
			}
		default:
			run = 0
		}
	}
	return false
}
