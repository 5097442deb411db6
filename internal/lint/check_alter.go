package lint

import (
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

var serialTypes = map[string]bool{"serial": true, "serial4": true, "bigserial": true, "serial8": true, "smallserial": true, "serial2": true}

// suePerms are storage parameters that ALTER TABLE … SET changes under SHARE UPDATE EXCLUSIVE.
func sueParam(name string) bool {
	name = strings.ToLower(name)
	switch {
	case name == "fillfactor", name == "parallel_workers", name == "vacuum_index_cleanup", name == "vacuum_truncate",
		name == "toast_tuple_target", name == "log_autovacuum_min_duration",
		strings.HasPrefix(name, "autovacuum_"), strings.HasPrefix(name, "toast."):
		return true
	}
	return false
}

func (a *analyzer) alterTable(at *pg_query.AlterTableStmt) {
	rel, key := relName(at.Relation), a.st.rel(at.Relation)
	fresh := a.st.isNew(key)
	if at.MissingOk && !fresh && a.st.absent(key, at.Relation.GetSchemaname() != "") {
		// ALTER … IF EXISTS of a relation the known schema does not have does nothing.
		kind := relationKinds[at.Objtype]
		if kind == "" {
			kind = "relation"
		}
		from, mark := len(a.out), a.mark()
		a.alterEffects(at, rel, key, false, true)
		a.nothingDone(from, mark, a.noSuch(kind, []string{rel}, []string{key}))
		return
	}
	a.alterEffects(at, rel, key, fresh, false)
}

// alterEffects raises the rules of an ALTER TABLE (ALTER INDEX, VIEW …) on rel (key is its state key);
// nothing says the statement does nothing, so it counts no second ALTER of the table.
func (a *analyzer) alterEffects(at *pg_query.AlterTableStmt, rel, key string, fresh, nothing bool) {
	if at.Objtype == pg_query.ObjectType_OBJECT_INDEX {
		if fresh {
			return
		}
		for _, c := range at.Cmds {
			if c.GetAlterTableCmd().GetSubtype() == pg_query.AlterTableType_AT_SetTableSpace {
				a.takes(lockAE)
				a.add("set-tablespace", fmt.Sprintf("ALTER INDEX %s SET TABLESPACE copies the index under ACCESS EXCLUSIVE, blocking its table's readers and writers", rel))
				return
			}
		}
		for _, c := range at.Cmds {
			// ALTER INDEX … ATTACH PARTITION takes ACCESS EXCLUSIVE on the partition's index (measured on
			// 15; SHARE UPDATE EXCLUSIVE on the partitioned index, ACCESS SHARE on both tables): a catalog
			// change, but every query planned on the partition, read or write, queues behind it, as do
			// those on the partitioned table that reach the partition.
			if cmd := c.GetAlterTableCmd(); cmd.GetSubtype() == pg_query.AlterTableType_AT_AttachPartition {
				if rv := cmd.Def.GetPartitionCmd().GetName(); rv != nil && !a.st.isNew(a.st.rel(rv)) {
					a.takesKnown(lockAE, rv)
				}
			}
		}
		a.takes(lockSUE) // RENAME, SET (…): SHARE UPDATE EXCLUSIVE
		return
	}
	if at.Objtype == pg_query.ObjectType_OBJECT_TYPE && !nothing {
		if used := a.compositeUsedBy(key); used != "" {
			for _, c := range at.Cmds {
				if cmd := c.GetAlterTableCmd(); cmd.GetSubtype() == pg_query.AlterTableType_AT_AlterColumnType {
					// ATPrepAlterColumnType → find_composite_type_dependencies, CASCADE or not.
					f := a.add("change-column-type-coercible", fmt.Sprintf("ALTER TYPE %s ALTER ATTRIBUTE %s TYPE … fails: column %s is of type %s, and PostgreSQL refuses to change an attribute of a composite type a table column uses (\"cannot alter type %s because column %s uses it\"), so the deploy stops here",
						rel, cmd.Name, used, rel, bare(key), used))
					f.Risk = Dangerous
					f.Lock = "— (ERROR)"
					f.Suggestion = fmt.Sprintf("create a new composite type with the new attribute type, add a column of it, backfill it in batches, then switch readers and drop the column of %s", rel)
					return
				}
			}
		}
	}
	if !fresh && !nothing && !a.separateByDesign(key, at) {
		a.alters[key]++
		if a.alters[key] == 2 {
			a.add("multiple-alter-same-table", fmt.Sprintf("second ALTER TABLE on %s in this migration: combine the subcommands into one statement so the table is locked (and scanned or rewritten) once", rel))
		}
	}
	parts := a.subcommandParts(at)
	if parts != nil {
		a.parts = parts[0]
	}
	a.dropping = a.droppedChecks(key, at)
	a.fkScans, a.atCmds = nil, at.Cmds
	defer func() { a.dropping, a.fkScans, a.atCmds = nil, nil, nil }()
	for i, c := range at.Cmds {
		if cmd := c.GetAlterTableCmd(); cmd != nil {
			if parts != nil {
				a.part = parts[i]
			}
			a.alterCmd(at.Relation, a.relkindOf(at.Relation, at.Objtype), key, fresh, cmd)
		}
	}
	a.part, a.parts = 0, 0
	// Another subcommand of the ALTER TABLE (ADD COLUMN, SET NOT NULL…) takes ACCESS EXCLUSIVE on the
	// table, which it holds while the foreign key's validation scans: reads wait too (measured on 15).
	if held := a.heldOn(rel); held >= lockAE {
		for _, fk := range a.fkScans {
			if fk.at >= len(a.out) || a.out[fk.at].Rule != "add-foreign-key" {
				continue // not where it was put (no judgement of the statement removes findings today)
			}
			f := &a.out[fk.at]
			f.Message = fmt.Sprintf("ADD FOREIGN KEY scans %s and %s while holding ACCESS EXCLUSIVE on %s, which another subcommand of this ALTER TABLE takes (reads and writes blocked), and SHARE ROW EXCLUSIVE on %s (writes blocked)",
				rel, fk.ref, rel, fk.ref)
			f.Lock = "ACCESS EXCLUSIVE on " + rel + ", SHARE ROW EXCLUSIVE on " + fk.ref
		}
	}
}

// heldOn is the strongest lock, SHARE ROW EXCLUSIVE or stronger, the statement takes on pre-existing
// relation rel so far (see strongOn); lockNone when none.
func (a *analyzer) heldOn(rel string) lockLevel {
	for _, h := range a.strongRels {
		if h.rel == rel {
			return h.lock
		}
	}
	return lockNone
}

// alterCmd judges one ALTER TABLE subcommand on relation rv of relkind kind (key is its state key).
func (a *analyzer) alterCmd(rv *pg_query.RangeVar, kind, key string, fresh bool, cmd *pg_query.AlterTableCmd) {
	rel := relName(rv)
	// name is the column or constraint as PostgreSQL knows it (the parser has folded it): the state key and
	// what messages show.
	name := cmd.Name
	lock := lockAE
	defer func() {
		if !fresh {
			a.takesOn(lock, kind)
			if lock >= lockSRE {
				a.strongOn(lock, rel)
			}
		}
	}()
	if cmd.Behavior == pg_query.DropBehavior_DROP_CASCADE && (cmd.Subtype == pg_query.AlterTableType_AT_DropColumn || cmd.Subtype == pg_query.AlterTableType_AT_DropConstraint) {
		a.add("drop-cascade", fmt.Sprintf("DROP … CASCADE on %s also drops every dependent object (views, constraints, indexes)", rel))
	}
	switch cmd.Subtype {
	case pg_query.AlterTableType_AT_AddColumn:
		if cd := cmd.Def.GetColumnDef(); cd != nil {
			a.columnTypeRules(cd, false)
			if a.partialRun() && !cmd.MissingOk {
				a.add("non-idempotent-ddl", "ADD COLUMN without IF NOT EXISTS in a migration that runs outside a transaction: a retry after a partial run fails")
			}
			if fresh {
				a.newTableForeignKeys(key, foreignKeyRefs(cd.Constraints))
			} else {
				from := len(a.out)
				added := a.addColumn(rv, cd)
				// ADD COLUMN IF NOT EXISTS of a column the table may have already adds nothing.
				if t := a.st.known(key); added != nil && (!cmd.MissingOk || t != nil && t.cols[cd.Colname] == nil) {
					a.added[colKey(key, cd.Colname)] = added
				}
				// IF NOT EXISTS does not help a partition (measured on 15: it fails even for a column it has).
				_, partition := a.st.partOf[key]
				if why := a.st.partitionColumnFailure(rv, key); why != "" && (partition || !cmd.MissingOk) && len(a.out) > from {
					f := &a.out[from]
					f.Risk = Dangerous
					f.Message = fmt.Sprintf("ADD COLUMN %s fails: %s, so the deploy stops here", cd.Colname, why)
					f.Suggestion = "add the column to the partitioned table, without ONLY: PostgreSQL adds it to every partition"
				}
			}
		}
	case pg_query.AlterTableType_AT_AlterColumnType:
		delete(a.added, colKey(key, name)) // its rows hold what the type change made of them
		if cd := cmd.Def.GetColumnDef(); cd != nil {
			if n, _ := typeName(cd.TypeName); n == "json" {
				a.add("json-column", fmt.Sprintf("column %s changes to type json: prefer jsonb (json has no equality operator, breaking DISTINCT, UNION and unique indexes)", name))
			}
			if !fresh {
				a.alterType(rel, key, name, cd)
			}
		}
	case pg_query.AlterTableType_AT_SetNotNull:
		if fresh {
			return
		}
		// proof is a validated CHECK that implies name IS NOT NULL; gone is one the same ALTER TABLE
		// drops, when no other proves it.
		var proof, gone *check
		if t := a.st.known(key); t != nil {
			if c := t.cols[name]; c != nil && c.notNull {
				// PostgreSQL (every version) leaves a NOT NULL column as it is: no scan, no change;
				// the ACCESS EXCLUSIVE lock is still taken first.
				a.add("set-not-null-proven", fmt.Sprintf("%s.%s is already NOT NULL: SET NOT NULL changes nothing and scans nothing, it only takes a brief ACCESS EXCLUSIVE on %s", rel, name, rel))
				return
			}
			proof = t.nullProofExcept(name, a.dropping)
			gone = t.nullProofExcept(name, nil)
		}
		proven := proof != nil
		// Without ONLY, PostgreSQL sets the column NOT NULL in the tables below too, each proven by its own
		// CHECKs or scanned: a NO INHERIT CHECK proves the table alone.
		if proven && a.cfg.Major() >= 12 && rv.GetInh() {
			if below := a.st.unprovenBelow(key, name); len(below) > 0 {
				which := "a validated CHECK"
				if proof.name != "" {
					which = "the validated CHECK " + quoteIdent(proof.name)
				}
				f := a.add("set-not-null", fmt.Sprintf("SET NOT NULL on %s.%s is proven on %s by %s, but PostgreSQL sets the column NOT NULL in %s too, which no validated CHECK proves: it scans %s while holding ACCESS EXCLUSIVE",
					rel, name, rel, which, andList(below), andList(below)))
				f.subject = rel + "." + name
				f.below = a.tracedBelow(key)
				f.Suggestion = fmt.Sprintf("give %s a CHECK (%s IS NOT NULL) NOT VALID and VALIDATE it first, each in its own transaction; or write the CHECK on %s without NO INHERIT", andList(below), quoteIdent(name), rel)
				return
			}
		}
		if proven && a.cfg.Major() >= 12 {
			if isColumn(proof.expr.GetNullTest().GetArg(), name) {
				a.add("set-not-null-proven", fmt.Sprintf("SET NOT NULL on %s.%s is proven by a validated CHECK (%s IS NOT NULL): no scan", rel, name, quoteIdent(name)))
			} else {
				which := "a validated CHECK"
				if proof.name != "" {
					which = "the validated CHECK " + quoteIdent(proof.name)
				}
				a.add("set-not-null-proven", fmt.Sprintf("SET NOT NULL on %s.%s is proven by %s, whose expression implies %s IS NOT NULL: no scan", rel, name, which, quoteIdent(name)))
			}
			return
		}
		if ac := a.added[colKey(key, name)]; ac != nil && a.setNotNullAdded(rv, key, name, ac) {
			return
		}
		msg := fmt.Sprintf("SET NOT NULL on %s.%s scans the whole table while holding ACCESS EXCLUSIVE", rel, name)
		if gone != nil && a.cfg.Major() >= 12 {
			which := "the validated CHECK that proves it"
			if gone.name != "" {
				which = "the validated CHECK " + quoteIdent(gone.name) + ", which proves it,"
			}
			msg += fmt.Sprintf(": %s is dropped by the same ALTER TABLE, and PostgreSQL runs its drops before it sets NOT NULL, whatever the order they are written in", which)
		}
		f := a.add("set-not-null", msg)
		f.subject = rel + "." + name
		if rv.GetInh() {
			f.below = a.tracedBelow(key)
		}
		nn := quoteIdent(name + "_not_null")
		f.Suggestion = fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s IS NOT NULL) NOT VALID; then in another transaction VALIDATE CONSTRAINT %s; then SET NOT NULL (no scan); then, in another transaction again, DROP CONSTRAINT %s (a statement after SET NOT NULL in its transaction would keep ACCESS EXCLUSIVE held)", relIdent(rv), nn, quoteIdent(name), nn, nn)
		if proven {
			// PostgreSQL 12 taught SET NOT NULL to use a validated CHECK instead of scanning.
			f.Message += fmt.Sprintf(": PostgreSQL %d ignores the validated CHECK (%s IS NOT NULL); only 12 and later skip the scan with it", a.cfg.Major(), quoteIdent(name))
			f.Suggestion = "upgrade to PostgreSQL 12 or later first, or accept the scan in a maintenance window"
		}
	case pg_query.AlterTableType_AT_DropNotNull:
		if !fresh {
			a.add("drop-not-null", fmt.Sprintf("DROP NOT NULL on %s.%s: readers that assume a value get NULLs", rel, name))
		}
	case pg_query.AlterTableType_AT_ColumnDefault:
		if !fresh {
			a.add("set-drop-default", "")
		}
	case pg_query.AlterTableType_AT_AddIdentity, pg_query.AlterTableType_AT_SetIdentity, pg_query.AlterTableType_AT_DropIdentity:
		if !fresh {
			a.identityCmd(rv, rel, name, cmd)
		}
	case pg_query.AlterTableType_AT_SetExpression:
		if !fresh {
			a.add("set-generated-expression", fmt.Sprintf("SET EXPRESSION on %s.%s rewrites the table under ACCESS EXCLUSIVE", rel, name))
		}
	case pg_query.AlterTableType_AT_SetStorage, pg_query.AlterTableType_AT_SetCompression, pg_query.AlterTableType_AT_DropExpression:
		if !fresh {
			a.add("column-storage-options", "")
		}
	case pg_query.AlterTableType_AT_SetStatistics, pg_query.AlterTableType_AT_SetOptions, pg_query.AlterTableType_AT_ResetOptions:
		lock = lockSUE
		if !fresh {
			a.add("column-statistics", "")
		}
	case pg_query.AlterTableType_AT_DropColumn:
		delete(a.added, colKey(key, name))
		if a.partialRun() && !cmd.MissingOk {
			a.add("non-idempotent-ddl", "DROP COLUMN without IF EXISTS in a migration that runs outside a transaction")
		}
		if !fresh {
			f := a.add("drop-column", fmt.Sprintf("DROP COLUMN %s.%s: running code that still reads or writes it fails", rel, name))
			if why := a.st.partitionColumnFailure(rv, key); why != "" && !cmd.MissingOk {
				f.Risk = Dangerous
				f.Message = fmt.Sprintf("DROP COLUMN %s.%s fails: %s, so the deploy stops here", rel, name, why)
				f.Suggestion = "drop the column from the partitioned table, without ONLY: PostgreSQL drops it from every partition"
			} else {
				a.dropColumnUsers(f, rv, key, name, cmd.Behavior == pg_query.DropBehavior_DROP_CASCADE)
			}
		}
	case pg_query.AlterTableType_AT_AddConstraint:
		if c := cmd.Def.GetConstraint(); c != nil {
			lock = a.addConstraint(rv, key, fresh, c)
		}
	case pg_query.AlterTableType_AT_ValidateConstraint:
		lock = lockSUE
		if fresh {
			return
		}
		if a.inTx() && (a.txNotValid[colKey(key, name)] || a.txStrong) {
			a.add("validate-in-same-transaction", validateHeld(name, rel, a.txStrongOn))
		} else {
			a.add("validate-constraint", "")
		}
	case pg_query.AlterTableType_AT_DropConstraint:
		if !fresh {
			a.add("drop-constraint", fmt.Sprintf("DROP CONSTRAINT %s on %s (a foreign key also takes ACCESS EXCLUSIVE on the referenced table)", name, rel))
		}
	case pg_query.AlterTableType_AT_AlterConstraint:
		if !fresh {
			a.add("alter-rename-constraint", "")
		}
	case pg_query.AlterTableType_AT_SetLogged, pg_query.AlterTableType_AT_SetUnLogged:
		if fresh {
			return
		}
		what := "SET LOGGED"
		if cmd.Subtype == pg_query.AlterTableType_AT_SetUnLogged {
			what = "SET UNLOGGED"
		}
		_, part := a.st.partitioned[key]
		switch {
		case part && a.cfg.Major() >= 18:
			f := a.add("set-logged-unlogged", fmt.Sprintf("%s on partitioned table %s fails: PostgreSQL 18 and later refuse it on a partitioned table, so the deploy stops here", what, rel))
			f.Rewrite = false
			f.Suggestion = fmt.Sprintf("%s on each partition instead (each one is rewritten under ACCESS EXCLUSIVE)", what)
		case part:
			// A partitioned table has no storage, and PostgreSQL (measured on 15 and 17) neither recurses
			// to the partitions nor records the persistence on the parent: nothing changes.
			f := a.add("set-logged-unlogged", fmt.Sprintf("%s on partitioned table %s changes nothing: it has no storage of its own, and PostgreSQL %d leaves its partitions, and those created later, as they are; it only takes a brief ACCESS EXCLUSIVE on %s", what, rel, a.cfg.Major(), rel))
			f.Risk, f.Rewrite, f.Lock = Caution, false, "ACCESS EXCLUSIVE brief"
			f.Suggestion = fmt.Sprintf("%s on each partition instead (each one is rewritten under ACCESS EXCLUSIVE), or drop the statement", what)
		default:
			a.add("set-logged-unlogged", fmt.Sprintf("SET LOGGED/UNLOGGED rewrites %s and its indexes under ACCESS EXCLUSIVE", rel))
		}
	case pg_query.AlterTableType_AT_SetTableSpace:
		if !fresh {
			a.add("set-tablespace", fmt.Sprintf("SET TABLESPACE copies %s's data files under ACCESS EXCLUSIVE", rel))
		}
	case pg_query.AlterTableType_AT_SetAccessMethod:
		// PostgreSQL 17's SET ACCESS METHOD DEFAULT (no name) is default_table_access_method, heap unless
		// configured otherwise: on a heap table, as SET ACCESS METHOD heap, it does nothing.
		if !fresh && !strings.EqualFold(cmd.Name, "heap") && cmd.Name != "" {
			f := a.add("set-access-method", fmt.Sprintf("SET ACCESS METHOD %s rewrites %s under ACCESS EXCLUSIVE", cmd.Name, rel))
			f.subject = fmt.Sprintf("SET ACCESS METHOD %s on %s", cmd.Name, rel)
		}
	case pg_query.AlterTableType_AT_SetRelOptions, pg_query.AlterTableType_AT_ResetRelOptions:
		lock = lockSUE
		var strong []string
		for _, o := range cmd.Def.GetList().GetItems() {
			if d := o.GetDefElem(); d != nil {
				name := d.Defname
				if d.Defnamespace != "" {
					name = d.Defnamespace + "." + name
				}
				if !sueParam(name) {
					strong = append(strong, name)
				}
			}
		}
		if len(strong) > 0 {
			lock = lockAE
		}
		if _, part := a.st.partitioned[key]; part && cmd.Subtype == pg_query.AlterTableType_AT_SetRelOptions && len(cmd.Def.GetList().GetItems()) > 0 {
			// PostgreSQL knows no storage parameter of a partitioned table (RELOPT_KIND_PARTITIONED has
			// none): every SET fails, "unrecognized parameter" (measured on 15; RESET passes).
			f := a.add("storage-params", fmt.Sprintf("SET (…) on partitioned table %s fails: a partitioned table takes no storage parameters (\"unrecognized parameter\"), so the deploy stops here", rel))
			f.Risk, f.Lock = Dangerous, lock.String()
			f.Suggestion = fmt.Sprintf("set the parameters on each partition of %s instead (ALTER TABLE <partition> SET (…))", rel)
			return
		}
		if fresh || len(strong) == 0 {
			return // fillfactor, autovacuum_*, toast.*: SHARE UPDATE EXCLUSIVE, future writes only
		}
		f := a.add("storage-params", fmt.Sprintf("storage parameter %s takes ACCESS EXCLUSIVE on %s", strings.Join(strong, ", "), rel))
		f.Risk, f.Lock = Caution, "ACCESS EXCLUSIVE"
	case pg_query.AlterTableType_AT_ChangeOwner:
		if !fresh {
			a.add("alter-owner", "")
		}
	case pg_query.AlterTableType_AT_AddInherit, pg_query.AlterTableType_AT_DropInherit, pg_query.AlterTableType_AT_AddOf, pg_query.AlterTableType_AT_DropOf:
		if !fresh {
			a.add("inherit-change", "")
		}
	case pg_query.AlterTableType_AT_DetachPartition:
		pc := cmd.Def.GetPartitionCmd()
		// With a DEFAULT partition, PostgreSQL locks it too (ACCESS EXCLUSIVE, measured on 15), and
		// refuses CONCURRENTLY: "cannot detach partitions concurrently when a default partition exists"
		// (also when it is the one detached).
		def := a.st.defaultPart[key]
		if pc.GetConcurrent() {
			lock = lockSUE
			if a.cfg.Major() < 14 {
				a.add("version-unsupported", fmt.Sprintf("DETACH PARTITION … CONCURRENTLY is not available on PostgreSQL %d (it arrived in 14): the statement fails", a.cfg.Major()))
			}
			refused := a.refusesTx("DETACH PARTITION … CONCURRENTLY")
			if !refused && def != "" && a.cfg.Major() >= 14 {
				f := a.add("detach-partition-blocking", fmt.Sprintf("DETACH PARTITION … CONCURRENTLY fails: %s has a DEFAULT partition %s, and PostgreSQL refuses to detach concurrently while one exists (\"cannot detach partitions concurrently when a default partition exists\"), so the deploy stops here", rel, bare(def)))
				f.Risk, f.Lock = Dangerous, "— (ERROR)"
				f.Suggestion = fmt.Sprintf("DETACH PARTITION without CONCURRENTLY (ACCESS EXCLUSIVE on %s, the partition and %s) under a short lock_timeout, with retries", rel, bare(def))
			} else if !refused && !fresh && !a.st.isNew(a.st.rel(pc.GetName())) {
				// Its second transaction takes ACCESS EXCLUSIVE on the partition: the rehearsal sees it.
				a.takesKnown(lockAE, pc.GetName())
				refs := a.detachReferencing(key)
				a.queue = detachConcurrentlyQueue(rel, relName(pc.GetName()), refs)
				if len(refs) > 0 {
					f := a.add("detach-partition-blocking", fmt.Sprintf("DETACH PARTITION … CONCURRENTLY still takes ACCESS EXCLUSIVE on %s, which %s %s by foreign key: PostgreSQL drops the foreign key's copy for the partition there, after scanning %s under SHARE (writes blocked) for rows that point into it; CONCURRENTLY spares %s's readers and writers, not %s",
						andList(refs), refer(refs), rel, andList(refs), rel, andList(refs)))
					f.Scan = true
					f.Suggestion = fmt.Sprintf("run it at a quiet time under a short lock_timeout, with retries; one that times out in its second transaction leaves %s detach-pending, which ALTER TABLE %s DETACH PARTITION %s FINALIZE completes", relName(pc.GetName()), rel, relName(pc.GetName()))
				}
			}
		} else if !fresh {
			var f *Finding
			if def != "" && def != a.st.rel(pc.GetName()) {
				if !a.st.isNew(def) {
					a.takes(lockAE) // the DEFAULT partition
				}
				f = a.add("detach-partition-blocking", fmt.Sprintf("DETACH PARTITION takes ACCESS EXCLUSIVE on %s, the partition and its DEFAULT partition %s", rel, bare(def)))
				f.Suggestion = fmt.Sprintf("CONCURRENTLY is refused while %s has a DEFAULT partition (%s): run it under a short lock_timeout, with retries, at a quiet time", rel, bare(def))
			} else if def != "" {
				f = a.add("detach-partition-blocking", fmt.Sprintf("DETACH PARTITION takes ACCESS EXCLUSIVE on %s and the partition", rel))
				f.Suggestion = fmt.Sprintf("CONCURRENTLY is refused for a DEFAULT partition (%s): run it under a short lock_timeout, with retries, at a quiet time", bare(def))
			} else {
				f = a.add("detach-partition-blocking", fmt.Sprintf("DETACH PARTITION takes ACCESS EXCLUSIVE on %s and the partition", rel))
			}
			if refs := a.detachReferencing(key); len(refs) > 0 && f != nil {
				f.Scan = true
				f.Message += fmt.Sprintf(", and on %s, which %s %s by foreign key: PostgreSQL drops the foreign key's copy for the partition there, after scanning %s under SHARE for rows that point into it", andList(refs), refer(refs), rel, andList(refs))
				if def == "" {
					f.Suggestion = fmt.Sprintf("CONCURRENTLY spares %s's readers and writers but still takes ACCESS EXCLUSIVE on %s: run it at a quiet time under a short lock_timeout, with retries", rel, andList(refs))
				}
			}
		}
	case pg_query.AlterTableType_AT_DetachPartitionFinalize:
		lock = lockSUE
	case pg_query.AlterTableType_AT_AttachPartition:
		lock = lockSUE
		if a.cfg.Major() < 12 {
			lock = lockAE // SHARE UPDATE EXCLUSIVE on the parent arrived in 12
		}
		part := relName(cmd.Def.GetPartitionCmd().GetName())
		partKey := a.st.rel(cmd.Def.GetPartitionCmd().GetName())
		def := a.st.defaultPart[key]
		if def == partKey || a.st.isNew(def) {
			def = ""
		}
		var scans []string
		if !a.st.isNew(partKey) {
			a.takes(lockAE) // the partition being attached, whatever the parent
			// A validated CHECK that bounds every key column, which is NOT NULL or tested IS NOT NULL
			// in it, can imply the bound (PostgreSQL then skips the scan); one on other columns cannot.
			proven := false
			if keys := a.st.partitioned[key]; len(keys) > 0 && a.st.boundable[key] {
				if t := a.st.known(partKey); t != nil {
					for _, ck := range t.checks {
						proven = proven || ck.validated && impliesBound(ck.expr, keys, t)
					}
				}
			}
			if !proven {
				scans = append(scans, part)
			}
		}
		defScan := false
		if def != "" {
			a.takes(lockAE) // the DEFAULT partition is checked for rows of the new bound
			// A validated CHECK of the DEFAULT partition that excludes the new bound spares the scan
			// (PostgreSQL: "updated partition constraint for default partition … is implied by existing
			// constraints"); the lock stays.
			defScan = !a.defaultExcludes(key, def, cmd.Def.GetPartitionCmd().GetBound())
		}
		// The partitioned table's indexes are built on the attached table, under its lock, unless it
		// has a matching one.
		builds := false
		if pt, t := a.st.known(key), a.st.known(partKey); pt != nil && t != nil && !a.st.isNew(partKey) {
			for _, ix := range pt.indexes {
				builds = builds || !slices.ContainsFunc(t.indexes, func(c []string) bool { return slices.Equal(c, ix) })
			}
		}
		oldParent := !fresh && a.cfg.Major() < 12
		if len(scans) == 0 && !defScan && !oldParent && !builds {
			return
		}
		var msg string
		switch {
		case len(scans) > 0 && defScan:
			msg = fmt.Sprintf("ATTACH PARTITION scans %s under ACCESS EXCLUSIVE to check the bound, and scans the DEFAULT partition %s under ACCESS EXCLUSIVE for rows that belong to it", part, bare(def))
		case defScan:
			msg = fmt.Sprintf("ATTACH PARTITION scans the DEFAULT partition %s under ACCESS EXCLUSIVE for rows that belong to %s", bare(def), part)
		case len(scans) > 0:
			msg = fmt.Sprintf("ATTACH PARTITION scans %s under ACCESS EXCLUSIVE to check the bound", part)
		default:
			msg = fmt.Sprintf("ATTACH PARTITION of %s", part)
		}
		if def != "" && !defScan {
			msg += fmt.Sprintf("; a validated CHECK of the DEFAULT partition %s excludes the new bound, so it is not scanned, but it is locked ACCESS EXCLUSIVE", bare(def))
		}
		if builds {
			msg += fmt.Sprintf("; it builds the indexes of %s that %s lacks on %s under ACCESS EXCLUSIVE", rel, part, part)
		}
		f := a.add("attach-partition-scan", msg)
		if defScan {
			f.Risk = Dangerous // a live partition with data, blocked for the scan
		}
		if oldParent {
			f.Risk = Dangerous
			f.Message += fmt.Sprintf("; on PostgreSQL %d it also takes ACCESS EXCLUSIVE on %s, blocking every query on the whole partitioned table (12 and later take SHARE UPDATE EXCLUSIVE)", a.cfg.Major(), rel)
			f.Lock = "ACCESS EXCLUSIVE on parent and partition (+default)"
		}
	case pg_query.AlterTableType_AT_EnableTrig, pg_query.AlterTableType_AT_EnableAlwaysTrig, pg_query.AlterTableType_AT_EnableReplicaTrig,
		pg_query.AlterTableType_AT_DisableTrig, pg_query.AlterTableType_AT_EnableTrigAll, pg_query.AlterTableType_AT_DisableTrigAll,
		pg_query.AlterTableType_AT_EnableTrigUser, pg_query.AlterTableType_AT_DisableTrigUser:
		lock = lockSRE
		switch {
		case cmd.Subtype == pg_query.AlterTableType_AT_DisableTrigAll ||
			cmd.Subtype == pg_query.AlterTableType_AT_DisableTrig && strings.HasPrefix(cmd.Name, "RI_ConstraintTrigger"):
			// The internal triggers that enforce foreign keys stop too, for every session, also on a table
			// the migration created: what the migration or the application writes while they are off is
			// never checked, not even when they come back on.
			f := a.add("drop-or-toggle-trigger", fmt.Sprintf("DISABLE TRIGGER %s on %s turns off the internal triggers that enforce its foreign keys, for every session until they are enabled again: "+
				"rows written meanwhile that break a foreign key go in unnoticed and stay, also after ENABLE", triggerWord(cmd), rel))
			f.Risk, f.Lock = Dangerous, "SHARE ROW EXCLUSIVE"
			f.Suggestion = "DISABLE TRIGGER USER (only user triggers) or name the triggers; to load data, load it in foreign-key order, or add the foreign keys NOT VALID after and VALIDATE them"
		case !fresh:
			a.add("drop-or-toggle-trigger", "ENABLE/DISABLE TRIGGER takes SHARE ROW EXCLUSIVE and changes what writes do").Lock = "SHARE ROW EXCLUSIVE"
		}
	case pg_query.AlterTableType_AT_EnableRowSecurity, pg_query.AlterTableType_AT_ForceRowSecurity:
		if !fresh {
			a.add("row-level-security", fmt.Sprintf("enabling row level security on %s denies every row to roles without a policy", rel))
		}
	case pg_query.AlterTableType_AT_DisableRowSecurity:
		if !fresh {
			f := a.add("row-level-security", fmt.Sprintf("DISABLE ROW LEVEL SECURITY on %s stops its policies: every role with privileges on the table sees and changes every row", rel))
			f.Risk = Dangerous
			f.Suggestion = "keep row level security on and change the policies (CREATE/ALTER POLICY); a DBA should approve turning it off"
		}
	case pg_query.AlterTableType_AT_NoForceRowSecurity:
		if !fresh {
			a.add("row-level-security", fmt.Sprintf("NO FORCE ROW LEVEL SECURITY on %s: its owner bypasses the policies again", rel))
		}
	case pg_query.AlterTableType_AT_ReplicaIdentity:
		if ri := cmd.Def.GetReplicaIdentityStmt(); ri.GetIdentityType() == "i" && a.knownNullable(key, sibling(key, ri.GetName())) {
			// PostgreSQL refuses an index with a nullable column (or an expression) as replica identity.
			f := a.add("replica-identity", fmt.Sprintf("REPLICA IDENTITY USING INDEX %s fails: the index has a column of %s that is not NOT NULL (\"cannot be used as replica identity because column … is nullable\"), so the deploy stops here", ri.GetName(), rel))
			f.Risk = Dangerous
			f.Suggestion = "make the index's columns NOT NULL first (CHECK … NOT VALID, VALIDATE, SET NOT NULL), or use another unique index of NOT NULL columns"
		} else if !fresh {
			a.add("replica-identity", "")
		}
	case pg_query.AlterTableType_AT_ClusterOn, pg_query.AlterTableType_AT_DropCluster:
		lock = lockSUE
	}
}

// defaultExcludes tells whether a validated CHECK of def, the DEFAULT partition of partitioned table
// key, excludes RANGE bound b of a partition being attached, so PostgreSQL skips the scan of def. Only
// the proof it can make for sure: a single key column, a CHECK NOT (… k >= lo AND k < hi …) (> and <=,
// BETWEEN too; IS NOT NULL or not) whose range covers b's, the values compared when both are numbers,
// else only when written the same. A CHECK excluding another range leaves the scan (measured on 15).
func (a *analyzer) defaultExcludes(key, def string, b *pg_query.PartitionBoundSpec) bool {
	keys := a.st.partitioned[key]
	t := a.st.known(def)
	if len(keys) != 1 || !a.st.boundable[key] || t == nil || b == nil || len(a.st.partitioned[def]) > 0 ||
		b.Strategy != "r" || len(b.Lowerdatums) != 1 || len(b.Upperdatums) != 1 {
		return false
	}
	k := keys[0]
	lo, hi := b.Lowerdatums[0], b.Upperdatums[0]
	for _, ck := range t.checks {
		if !ck.validated {
			continue
		}
		n := ck.expr.GetBoolExpr()
		if n == nil || n.Boolop != pg_query.BoolExprType_NOT_EXPR || len(n.Args) != 1 {
			continue
		}
		if excludesRange(n.Args[0], k, lo, hi) {
			return true
		}
	}
	return false
}

// excludesRange tells whether expr, the argument of a CHECK's NOT, is true on every value of column
// k from lo (included) to hi (excluded): an AND of IS NOT NULL k and comparisons of k with constants
// that bound it from both sides at or beyond lo and hi.
func excludesRange(expr *pg_query.Node, k string, lo, hi *pg_query.Node) bool {
	conj := conjuncts(expr)
	isKey := func(n *pg_query.Node) bool {
		if tc := n.GetTypeCast(); tc != nil {
			n = tc.Arg
		}
		cr := n.GetColumnRef()
		return cr != nil && len(cr.Fields) > 0 && cr.Fields[len(cr.Fields)-1].GetString_().GetSval() == k
	}
	// cmp compares constants x and y: -1, 0, 1, or ok false when it cannot tell.
	cmp := func(x, y *pg_query.Node) (int, bool) {
		cx, cy := constOf(x), constOf(y)
		if cx == nil || cy == nil {
			return 0, false
		}
		if fx, okx := constNum(cx); okx {
			if fy, oky := constNum(cy); oky {
				return fx.Cmp(fy), true
			}
			return 0, false
		}
		if sx, sy := cx.GetSval(), cy.GetSval(); sx != nil && sy != nil && sx.Sval == sy.Sval {
			return 0, true
		}
		return 0, false
	}
	lower, upper := false, false
	for _, c := range conj {
		e := c.GetAExpr()
		if e == nil {
			if nt := c.GetNullTest(); nt != nil && nt.Nulltesttype == pg_query.NullTestType_IS_NOT_NULL && isKey(nt.Arg) {
				continue
			}
			return false // another condition narrows what the CHECK excludes
		}
		op := lastName(e.Name)
		switch {
		case e.Kind == pg_query.A_Expr_Kind_AEXPR_BETWEEN && isKey(e.Lexpr):
			l := e.Rexpr.GetList().GetItems()
			if len(l) != 2 {
				return false
			}
			if r, ok := cmp(l[0], lo); ok && r <= 0 {
				lower = true
			}
			if r, ok := cmp(hi, l[1]); ok && r <= 0 {
				upper = true
			}
		case e.Kind == pg_query.A_Expr_Kind_AEXPR_OP && (op == ">=" || op == ">" || op == "<" || op == "<="):
			v, flip := e.Rexpr, false
			if !isKey(e.Lexpr) {
				if !isKey(e.Rexpr) {
					return false
				}
				v, flip = e.Lexpr, true
			}
			if flip {
				op = map[string]string{">=": "<=", ">": "<", "<": ">", "<=": ">="}[op]
			}
			switch op {
			case ">=": // k >= v excludes from lo when v <= lo
				if r, ok := cmp(v, lo); ok && r <= 0 {
					lower = true
				}
			case ">":
				if r, ok := cmp(v, lo); ok && r < 0 {
					lower = true
				}
			default: // k < v or k <= v covers up to hi (excluded) when hi <= v
				if r, ok := cmp(hi, v); ok && r <= 0 {
					upper = true
				}
			}
		default:
			return false
		}
	}
	return lower && upper
}

// conjuncts returns the terms of expr's top-level AND (nested ANDs flattened), or expr alone.
func conjuncts(expr *pg_query.Node) []*pg_query.Node {
	if b := expr.GetBoolExpr(); b != nil && b.Boolop == pg_query.BoolExprType_AND_EXPR {
		var out []*pg_query.Node
		for _, arg := range b.Args {
			out = append(out, conjuncts(arg)...)
		}
		return out
	}
	return []*pg_query.Node{expr}
}

// constOf returns the constant n is, through a type cast, or nil.
func constOf(n *pg_query.Node) *pg_query.A_Const {
	if tc := n.GetTypeCast(); tc != nil {
		n = tc.Arg
	}
	c := n.GetAConst()
	if c == nil || c.Isnull {
		return nil
	}
	return c
}

// constNum returns the number constant c is, if it is one.
func constNum(c *pg_query.A_Const) (*big.Rat, bool) {
	switch {
	case c.GetIval() != nil:
		return new(big.Rat).SetInt64(int64(c.GetIval().Ival)), true
	case c.GetFval() != nil:
		return new(big.Rat).SetString(c.GetFval().Fval)
	}
	return nil, false
}

// impliesBound tells whether CHECK expression expr of table t can imply a RANGE or LIST partition bound
// on key columns keys: its top-level AND bounds each key column from both sides (>=/> and </<=,
// BETWEEN, = or IN), and each is NOT NULL or tested IS NOT NULL in it. A partition's constraint
// includes "key IS NOT NULL", which a CHECK passing on NULL does not imply: on PostgreSQL 15 a
// validated CHECK (ts >= … AND ts < …) on a nullable ts still leaves ATTACH PARTITION to scan. The
// bound values themselves are not compared.
func impliesBound(expr *pg_query.Node, keys []string, t *table) bool {
	conj := conjuncts(expr)
	colOf := func(n *pg_query.Node) string {
		if tc := n.GetTypeCast(); tc != nil {
			n = tc.Arg
		}
		if cr := n.GetColumnRef(); cr != nil && len(cr.Fields) > 0 {
			return cr.Fields[len(cr.Fields)-1].GetString_().GetSval()
		}
		return ""
	}
	notNull, lower, upper := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, c := range conj {
		if nt := c.GetNullTest(); nt != nil && nt.Nulltesttype == pg_query.NullTestType_IS_NOT_NULL {
			notNull[colOf(nt.Arg)] = true
		}
		e := c.GetAExpr()
		if e == nil {
			continue
		}
		op := lastName(e.Name)
		switch e.Kind {
		case pg_query.A_Expr_Kind_AEXPR_BETWEEN, pg_query.A_Expr_Kind_AEXPR_BETWEEN_SYM, pg_query.A_Expr_Kind_AEXPR_IN:
			col := colOf(e.Lexpr)
			lower[col], upper[col] = true, true
		case pg_query.A_Expr_Kind_AEXPR_OP_ANY:
			if op == "=" {
				col := colOf(e.Lexpr)
				lower[col], upper[col] = true, true
			}
		case pg_query.A_Expr_Kind_AEXPR_OP:
			col, flip := colOf(e.Lexpr), false
			if col == "" {
				col, flip = colOf(e.Rexpr), true
			}
			switch {
			case op == "=":
				lower[col], upper[col] = true, true
			case (op == ">" || op == ">=") != flip && (op == ">" || op == ">=" || op == "<" || op == "<="):
				lower[col] = true
			case op == ">" || op == ">=" || op == "<" || op == "<=":
				upper[col] = true
			}
		}
	}
	for _, k := range keys {
		c := t.cols[k]
		if !lower[k] || !upper[k] || !notNull[k] && (c == nil || !c.notNull) {
			return false
		}
	}
	return true
}

// addColumn judges ADD COLUMN cd on the pre-existing relation rv, and returns what a later SET NOT NULL
// of the column needs to know of it: nil for a column that is NOT NULL already (identity, serial) or one
// PostgreSQL refuses.
func (a *analyzer) addColumn(rv *pg_query.RangeVar, cd *pg_query.ColumnDef) *addedColumn {
	rel, col := relName(rv), cd.Colname
	typ, _ := typeName(cd.TypeName)
	var def *pg_query.Node
	var notNull, identity, generated, unique, checkC, defaultClause bool
	notNull = cd.IsNotNull
	for _, n := range cd.Constraints {
		c := n.GetConstraint()
		switch c.GetContype() {
		case pg_query.ConstrType_CONSTR_DEFAULT:
			def, defaultClause = c.RawExpr, true
		case pg_query.ConstrType_CONSTR_NOTNULL:
			notNull = true
		case pg_query.ConstrType_CONSTR_IDENTITY:
			identity = true
		case pg_query.ConstrType_CONSTR_GENERATED:
			generated = true
		case pg_query.ConstrType_CONSTR_UNIQUE, pg_query.ConstrType_CONSTR_PRIMARY:
			unique = true
		case pg_query.ConstrType_CONSTR_CHECK:
			checkC = true
		}
	}
	if cd.RawDefault != nil {
		def, defaultClause = cd.RawDefault, true
	}
	// DEFAULT NULL fills the column with NULLs as no DEFAULT does: PostgreSQL stores no default for it,
	// or, on a column of a domain, one that overrides the domain's with NULL.
	nullDefault := nullLiteral(def)
	if nullDefault {
		def = nil
	}
	ofDomain := ""
	if def == nil && !nullDefault {
		// Without a DEFAULT of its own the column takes its domain's, rewriting the table as the same
		// DEFAULT written on the column does when it is volatile.
		if def = a.st.domainDefault(cd.TypeName); def != nil {
			ofDomain = fmt.Sprintf(" (the DEFAULT of its domain %s)", typ)
		}
	}
	head, notNullText := columnText(a.stmt, cd)
	added := &addedColumn{stmtIdx: a.stmtIdx, line: a.stmt.PosOf(a.stmt.Offset(cd.Location)).Line, head: head, notNull: notNullText,
		filled: def != nil || generated}
	flagged := false
	switch {
	case serialTypes[typ]:
		a.add("add-column-serial", fmt.Sprintf("ADD COLUMN %s %s fills every row from a sequence: the table and its indexes are rewritten under ACCESS EXCLUSIVE", col, typ))
		flagged, added = true, nil
	case identity:
		a.add("add-column-identity", fmt.Sprintf("ADD COLUMN %s … AS IDENTITY rewrites %s and its indexes under ACCESS EXCLUSIVE", col, rel))
		flagged, added = true, nil
	case generated:
		a.add("add-column-generated-stored", fmt.Sprintf("ADD COLUMN %s … GENERATED ALWAYS AS (…) STORED rewrites %s under ACCESS EXCLUSIVE", col, rel))
		flagged = true
		added.pass, added.passFor = "rewrite", "its GENERATED … STORED expression"
	case a.st.constrainedDomain(cd.TypeName):
		a.add("add-column-constrained-domain", fmt.Sprintf("ADD COLUMN %s of constrained domain %s rewrites %s to check every row", col, typ, rel))
		flagged = true
		added.pass, added.passFor = "rewrite", "the constraints of its domain "+typ
	case def != nil && refuses(def, placeDefault):
		flagged, added = true, nil // PostgreSQL refuses it: refused-expression says so (see refusedExpressions)
	case def != nil:
		// A function of the history is judged by its CREATE FUNCTION: VOLATILE unless it says otherwise.
		switch c := a.st.defaultVolatility(def); c.verdict {
		case volVolatile:
			added.pass, added.passFor = "rewrite", fmt.Sprintf("its volatile DEFAULT %s()", c.fn)
			a.add("add-column-volatile-default", fmt.Sprintf("ADD COLUMN %s with volatile DEFAULT %s()%s rewrites %s and all its indexes under ACCESS EXCLUSIVE%s", col, c.fn, ofDomain, rel, because(c.why)))
		case volUnknown:
			why := fmt.Sprintf("the parser does not know whether %s() is volatile", c.fn)
			if c.why != "" {
				why = c.why
			}
			f := a.add("add-column-default-nonvolatile", fmt.Sprintf("ADD COLUMN %s with DEFAULT %s()%s: %s; if it is volatile, %s and its indexes are rewritten under ACCESS EXCLUSIVE. The rehearsal's trace decides", col, c.fn, ofDomain, why, rel))
			f.Risk = Caution
			f.Suggestion = "add the column without a default, then ALTER COLUMN … SET DEFAULT, then backfill in batches"
			f.undecidedDefault = true
			added.undecided = true
		default:
			f := a.add("add-column-default-nonvolatile", fmt.Sprintf("ADD COLUMN %s with a non-volatile DEFAULT%s is metadata-only on PostgreSQL 11+%s", col, ofDomain, because(c.why)))
			f.Suggestion = ""
			// A judgement from a function's CREATE FUNCTION is the parser's reading: the trace may correct it.
			f.knownDefault = !c.user
			if a.cfg.Major() <= 10 {
				added.pass, added.passFor = "rewrite", fmt.Sprintf("its DEFAULT, which PostgreSQL %d stores in every row", a.cfg.Major())
				f.Suggestion = "add the column without a default, then ALTER COLUMN … SET DEFAULT, then backfill in batches"
				f.Risk, f.Rewrite = Dangerous, true
				f.Message = fmt.Sprintf("ADD COLUMN %s with a DEFAULT rewrites %s on PostgreSQL %d (fast defaults arrived in 11)", col, rel, a.cfg.Major())
			}
		}
		flagged = true
	}
	if notNull && def == nil && !identity && !generated && !serialTypes[typ] {
		without := "without DEFAULT"
		if nullDefault {
			without = "with DEFAULT NULL, which is no default,"
		}
		a.add("add-column-required", fmt.Sprintf("ADD COLUMN %s NOT NULL %s fails on a table that has rows", col, without))
		a.scansShort(rv) // PostgreSQL's check of the new column stops at the first row, failing the statement
		flagged = true
	}
	if unique {
		a.add("add-column-inline-unique-pk", fmt.Sprintf("ADD COLUMN %s with UNIQUE/PRIMARY KEY builds an index while holding ACCESS EXCLUSIVE on %s", col, rel))
		flagged = true
	}
	if checkC {
		a.add("add-column-inline-check", fmt.Sprintf("ADD COLUMN %s with CHECK scans %s under ACCESS EXCLUSIVE", col, rel))
		flagged = true
		if added != nil && added.pass == "" {
			added.pass, added.passFor = "scan", "its CHECK"
		}
	}
	if refs := a.referenced(foreignKeyRefs(cd.Constraints), nil); len(refs) > 0 {
		f := a.add("add-column-inline-fk", fmt.Sprintf("ADD COLUMN %s REFERENCES %s also locks the referenced table (SHARE ROW EXCLUSIVE)", col, andList(refs)))
		f.Lock = fmt.Sprintf("ACCESS EXCLUSIVE on %s + SHARE ROW EXCLUSIVE on %s", rel, strings.Join(refs, ", "))
		f.Scan = false
		// PostgreSQL skips the validation of the new key only when the column has no DEFAULT clause
		// (transformAlterTableStmt looks at raw_default): with one, DEFAULT NULL included, it checks
		// every existing row against the referenced table, as ADD FOREIGN KEY without NOT VALID does;
		// a domain's DEFAULT is no DEFAULT clause and skips it (measured on 15).
		if defaultClause || generated || serialTypes[typ] {
			f.Risk, f.Scan = Dangerous, true
			f.Message = fmt.Sprintf("ADD COLUMN %s with a DEFAULT and REFERENCES %s validates the foreign key on every row of %s: a full scan under ACCESS EXCLUSIVE on %[3]s, with SHARE ROW EXCLUSIVE on %[2]s", col, andList(refs), rel)
			f.Suggestion = fmt.Sprintf("add the column without REFERENCES, then ALTER TABLE %s ADD CONSTRAINT … FOREIGN KEY (%s) REFERENCES … NOT VALID, then VALIDATE CONSTRAINT in a later transaction", relIdent(rv), quoteIdent(col))
		}
		flagged = true
	}
	if !flagged {
		a.add("add-column-nullable", fmt.Sprintf("ADD COLUMN %s without default or constraints is metadata-only (brief ACCESS EXCLUSIVE)", col))
	}
	return added
}

// because is why, for the end of a message: " (why)", or "" without one.
func because(why string) string {
	if why == "" {
		return ""
	}
	return " (" + why + ")"
}

// nullLiteral tells whether n is the NULL literal, cast or not (NULL::text): as a DEFAULT, no default
// at all.
func nullLiteral(n *pg_query.Node) bool {
	for n.GetTypeCast() != nil {
		n = n.GetTypeCast().Arg
	}
	c := n.GetAConst()
	return c != nil && c.Isnull
}

// validateHeld is validate-in-same-transaction's message for VALIDATE CONSTRAINT name on rel, in a
// transaction whose earlier statements hold the locks held (SHARE ROW EXCLUSIVE or stronger; ADD
// CONSTRAINT … NOT VALID takes one on rel). VALIDATE itself takes only SHARE UPDATE EXCLUSIVE on rel,
// which blocks neither reads nor writes: the harm is in the locks already held, kept for as long as the
// scan reads rel, on tables other than rel as much as on it.
func validateHeld(name, rel string, held []heldLock) string {
	if len(held) == 0 {
		return fmt.Sprintf("VALIDATE CONSTRAINT %s runs in a transaction that already holds SHARE ROW EXCLUSIVE or stronger on a table an earlier statement locked: it stays locked for the whole validation scan of %s", name, rel)
	}
	var levels []lockLevel
	byLevel := map[lockLevel][]string{}
	var all, writes []string
	for _, h := range held {
		if byLevel[h.lock] == nil {
			levels = append(levels, h.lock)
		}
		byLevel[h.lock] = append(byLevel[h.lock], h.rel)
		if h.lock >= lockAE {
			all = append(all, h.rel)
		} else {
			writes = append(writes, h.rel)
		}
	}
	var locks []string
	for _, l := range levels {
		locks = append(locks, l.String()+" on "+andList(byLevel[l]))
	}
	var blocked []string
	if len(all) > 0 {
		blocked = append(blocked, "reads and writes of "+andList(all))
	}
	if len(writes) > 0 {
		blocked = append(blocked, "writes to "+andList(writes))
	}
	return fmt.Sprintf("VALIDATE CONSTRAINT %s on %s runs in a transaction that already holds %s (VALIDATE itself takes only SHARE UPDATE EXCLUSIVE on %[2]s): %[4]s stay blocked for the whole validation scan",
		name, rel, andList(locks), strings.Join(blocked, " and "))
}

func (a *analyzer) addConstraint(rv *pg_query.RangeVar, key string, fresh bool, c *pg_query.Constraint) lockLevel {
	rel := relName(rv)
	name := c.Conname // the state key, as PostgreSQL knows it
	switch c.Contype {
	case pg_query.ConstrType_CONSTR_CHECK:
		if fresh {
			return lockAE
		}
		if c.SkipValidation {
			a.txNotValid[colKey(key, name)] = true
			a.add("add-constraint-not-valid", "")
		} else {
			a.add("add-check-constraint", fmt.Sprintf("ADD CONSTRAINT %s CHECK scans %s under ACCESS EXCLUSIVE", c.Conname, rel))
		}
		return lockAE
	case pg_query.ConstrType_CONSTR_FOREIGN:
		ref := a.st.rel(c.Pktable)
		_, partitioned := a.st.partitioned[key]
		partitioned = partitioned && a.cfg.Major() < 18 // NOT VALID foreign keys on partitioned tables arrived in 18
		if partitioned && c.SkipValidation {
			f := a.add("version-unsupported", fmt.Sprintf("ADD FOREIGN KEY … NOT VALID on partitioned table %s fails on PostgreSQL %d (\"cannot add NOT VALID foreign key on partitioned table\"; 18 allows it): the deploy stops here", rel, a.cfg.Major()))
			f.Suggestion = partitionedForeignKey(rel)
			return lockSRE
		}
		if fresh && (a.st.isNew(ref) || ref == key) {
			return lockSRE
		}
		if how := a.st.filled[key]; fresh && how != "" && !c.SkipValidation {
			// CREATE TABLE … AS (SELECT … INTO) filled the new table: the validation reads every row
			// while the referenced table, which the application uses, stays under SHARE ROW EXCLUSIVE.
			a.takes(lockSRE)
			a.strongOn(lockSRE, relName(c.Pktable))
			f := a.add("add-foreign-key", fmt.Sprintf("ADD FOREIGN KEY on %s, which %s filled with rows, reads every one of them to validate it while holding SHARE ROW EXCLUSIVE on %s (writes to it blocked)",
				rel, how, relName(c.Pktable)))
			f.Lock = "SHARE ROW EXCLUSIVE on " + relName(c.Pktable)
			return lockSRE
		}
		if fresh {
			// The new table is empty (or the foreign key NOT VALID), so the validation scan is instant or
			// none; the referenced table only gets SHARE ROW EXCLUSIVE briefly, as with an inline REFERENCES.
			a.newTableForeignKeys(key, []*pg_query.RangeVar{c.Pktable})
			return lockSRE
		}
		if !a.st.isNew(ref) && ref != key {
			a.strongOn(lockSRE, relName(c.Pktable)) // on the referenced table too
		}
		if c.SkipValidation {
			a.txNotValid[colKey(key, name)] = true
			a.add("add-constraint-not-valid", "").Lock = "SHARE ROW EXCLUSIVE on both tables"
		} else {
			f := a.add("add-foreign-key", fmt.Sprintf("ADD FOREIGN KEY scans %s and %s while holding SHARE ROW EXCLUSIVE on both (writes blocked)", rel, relName(c.Pktable)))
			if ref != key {
				a.fkScans = append(a.fkScans, fkScan{len(a.out) - 1, relName(c.Pktable)})
			}
			if partitioned {
				f.Suggestion = partitionedForeignKey(rel)
			}
		}
		if t := a.st.known(key); t != nil && !fresh {
			cols := colNames(c.FkAttrs) // state keys
			indexed := false
			for _, ix := range t.indexes {
				if len(ix) >= len(cols) && slices.Equal(ix[:len(cols)], cols) {
					indexed = true
				}
			}
			if !indexed && len(cols) > 0 {
				var names, idents []string // as PostgreSQL knows them, for the message and for SQL
				for _, n := range c.FkAttrs {
					names = append(names, n.GetString_().GetSval())
					idents = append(idents, quoteIdent(n.GetString_().GetSval()))
				}
				// An index lives in its table's schema: CREATE INDEX takes an unqualified name.
				index := quoteIdent(rv.Relname + "_" + strings.Join(names, "_") + "_idx")
				a.add("fk-missing-index", fmt.Sprintf("no index on %s (%s): deletes and updates on %s scan %s", rel, strings.Join(names, ", "), relName(c.Pktable), rel)).Suggestion =
					fmt.Sprintf("CREATE INDEX CONCURRENTLY %s ON %s (%s);", index, relIdent(rv), strings.Join(idents, ", "))
			}
		}
		return lockSRE
	case pg_query.ConstrType_CONSTR_UNIQUE, pg_query.ConstrType_CONSTR_PRIMARY:
		if fresh {
			return lockAE
		}
		kind := "UNIQUE"
		if c.Contype == pg_query.ConstrType_CONSTR_PRIMARY {
			kind = "PRIMARY KEY"
		}
		if c.Indexname == "" {
			var f *Finding
			if c.Contype == pg_query.ConstrType_CONSTR_PRIMARY {
				f = a.add("add-primary-key", fmt.Sprintf("ADD PRIMARY KEY builds an index on %s while holding ACCESS EXCLUSIVE", rel))
			} else {
				f = a.add("add-unique-constraint", fmt.Sprintf("ADD %s builds an index on %s while holding ACCESS EXCLUSIVE", kind, rel))
			}
			if _, partitioned := a.st.partitioned[key]; partitioned {
				f.Message = fmt.Sprintf("ADD %s on partitioned table %s builds an index on each partition, holding ACCESS EXCLUSIVE on %s and SHARE on the partition (writes blocked) while it is built", kind, rel, rel)
				f.Suggestion = partitionedUnique(rel, kind)
			}
			return lockAE
		}
		if _, partitioned := a.st.partitioned[key]; partitioned {
			f := a.add("constraint-using-index", fmt.Sprintf("ADD %s USING INDEX %s on partitioned table %s fails: PostgreSQL does not support USING INDEX on a partitioned table, so the deploy stops here", kind, c.Indexname, rel))
			f.Risk = Dangerous
			f.Lock = "— (ERROR)"
			f.Suggestion = partitionedUnique(rel, kind)
			return lockAE
		}
		if why := a.st.usingRefused[sibling(key, c.Indexname)]; why != "" {
			f := a.add("constraint-using-index", fmt.Sprintf("ADD %s USING INDEX %s on %s fails (%s): a constraint takes over only a plain unique index, so the deploy stops here", kind, c.Indexname, rel, why))
			f.Risk = Dangerous
			f.Lock = "— (ERROR)"
			f.Suggestion = fmt.Sprintf("a constraint takes over only a plain unique btree index on the columns themselves, in their default order: build one with CREATE UNIQUE INDEX CONCURRENTLY … ON %s (columns), then ADD CONSTRAINT … %s USING INDEX it; a unique index on expressions or a partial one already enforces its uniqueness without a constraint", rel, kind)
			return lockAE
		}
		if c.Contype == pg_query.ConstrType_CONSTR_PRIMARY {
			switch nullable, known := a.nullableIndex(key, sibling(key, c.Indexname)); {
			case !known:
				// The index (made by a migration not read, or by a statement the state does not follow)
				// or its table is not known: PostgreSQL sets its columns NOT NULL, scanning the table for
				// each nullable one, which cannot be told here.
				f := a.add("constraint-using-index-nullable", fmt.Sprintf("PRIMARY KEY USING INDEX %s on %s: the index's columns and whether they are NOT NULL are not known here; "+
					"PostgreSQL sets them NOT NULL, and for a nullable one that scans the whole of %s while holding ACCESS EXCLUSIVE", c.Indexname, rel, rel))
				f.Risk = Caution
				f.Suggestion = "make sure the index's columns are NOT NULL first; for a nullable one, ADD CONSTRAINT … CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT it in another transaction, " +
					"then add the primary key: PostgreSQL 12+ takes the validated CHECK as proof and does not scan"
				return lockAE
			case nullable:
				a.add("constraint-using-index-nullable", fmt.Sprintf("PRIMARY KEY USING INDEX %s on nullable columns runs an implicit SET NOT NULL: it scans the whole of %s while holding ACCESS EXCLUSIVE", c.Indexname, rel))
				return lockAE
			}
		}
		a.add("constraint-using-index", fmt.Sprintf("ADD %s USING INDEX %s on %s: the constraint takes over the index, no build or scan, brief ACCESS EXCLUSIVE", kind, c.Indexname, rel))
		return lockAE
	case pg_query.ConstrType_CONSTR_EXCLUSION:
		if !fresh {
			a.add("add-exclusion-constraint", "")
		}
	}
	return lockAE
}

// partitionedForeignKey is the safe way to add a foreign key to partitioned table rel before PostgreSQL
// 18, which refuses NOT VALID there: ADD on the parent takes over a validated equal constraint of each
// partition instead of scanning it (measured on 15: no scan, ACCESS EXCLUSIVE on the referenced table as
// it drops the partitions' own action triggers there).
func partitionedForeignKey(rel string) string {
	return fmt.Sprintf("add the foreign key NOT VALID to each partition of %s and VALIDATE CONSTRAINT it there, each in its own transaction; "+
		"then ADD it to %s under the same name and columns: PostgreSQL takes over the partitions' validated constraints without a scan "+
		"(a brief ACCESS EXCLUSIVE on the referenced table)", rel, rel)
}

// partitionedUnique is the safe way to add a UNIQUE or PRIMARY KEY (kind) constraint to partitioned
// table rel, where PostgreSQL refuses CREATE INDEX CONCURRENTLY and ADD CONSTRAINT … USING INDEX. ADD on
// the parent adopts an equal index of a partition only when a constraint of the partition owns it; a
// bare unique index is passed over and another built (measured on 15). With them the parent builds and
// scans nothing, holding ACCESS EXCLUSIVE on rel and SHARE on each partition for the catalog change;
// a primary key on a column nullable on the parent also takes ACCESS EXCLUSIVE on each partition to set
// it NOT NULL, with no scan when the partitions' primary keys made it NOT NULL there.
func partitionedUnique(rel, kind string) string {
	first := ""
	if kind == "PRIMARY KEY" {
		first = "make the key's columns NOT NULL on each partition first (CHECK … IS NOT NULL NOT VALID, VALIDATE CONSTRAINT, SET NOT NULL), then "
	}
	return fmt.Sprintf("%sCREATE UNIQUE INDEX CONCURRENTLY on each partition of %s over the same columns and ALTER TABLE <partition> ADD CONSTRAINT <name> %s USING INDEX <that index>; "+
		"then ADD the %s to %s as written: PostgreSQL adopts the partitions' constraints and indexes without a build or scan "+
		"(ACCESS EXCLUSIVE on %s and SHARE on each partition, briefly). PostgreSQL refuses CREATE INDEX CONCURRENTLY and ADD CONSTRAINT … USING INDEX on a partitioned table", first, rel, kind, kind, rel, rel)
}

// nullableIndex reports whether index of table rel has a column not known to be NOT NULL (nor proven
// so by a validated CHECK, which PostgreSQL 12+ takes instead of a scan when it sets the column NOT
// NULL); known is false when the index or the table is not known, and with it whether it has one.
func (a *analyzer) nullableIndex(rel, index string) (nullable, known bool) {
	cols, ok := a.st.indexCols[index]
	t := a.st.known(rel)
	if !ok || t == nil {
		return false, false
	}
	for _, c := range cols {
		if col := t.cols[c]; (col == nil || !col.notNull) && (a.cfg.Major() < 12 || t.nullProof(c) == nil) {
			return true, true
		}
	}
	return false, true
}

// knownNullable reports whether a known index has a column the state knows and knows not to be NOT
// NULL (unlike nullableIndex, a column the state does not know counts for nothing).
func (a *analyzer) knownNullable(rel, index string) bool {
	t := a.st.known(rel)
	if t == nil {
		return false
	}
	for _, c := range a.st.indexCols[index] {
		if col := t.cols[c]; col != nil && !col.notNull {
			return true
		}
	}
	return false
}

// utcSuggestion is the way to change a column between timestamp and timestamptz without a rewrite.
const utcSuggestion = "set the session's time zone to UTC just before the change, in the same migration: SET LOCAL TIME ZONE 'UTC' " +
	"(in its transaction; SET TIME ZONE 'UTC' in a migration run without one). PostgreSQL 12+ then changes the type without rewriting the table, " +
	"reading the stored values as UTC; check that they are"

// alterType judges a column's type change; name is the column as PostgreSQL knows it.
func (a *analyzer) alterType(rel, key, name string, cd *pg_query.ColumnDef) {
	col := name // the state key: the column as PostgreSQL knows it
	newT, newM := typeName(cd.TypeName)
	var old *column
	if t := a.st.known(key); t != nil {
		old = t.cols[col]
	}
	// The types as messages show them, with their modifiers and the collation the change sets:
	// varchar(200) -> varchar(100), text -> text COLLATE "C".
	shownNew, shownOld := shownType(newT, newM)+shownCollate(cd.CollClause), ""
	if old != nil {
		shownOld = shownType(old.typ, old.mods)
	}
	change := fmt.Sprintf("%s.%s: %s -> %s", rel, name, shownOld, shownNew) // the subject of a finding on a known column
	using := cd.RawDefault != nil && !plainUsing(cd.RawDefault, col, cd.TypeName)
	// A domain without constraints converts as its base type does (PostgreSQL's
	// ATColumnChangeRequiresRewrite looks through its CoerceToDomain).
	baseT, baseM := newT, newM
	if base := a.st.domainBase[a.st.qual(cd.TypeName.GetNames())]; base != nil && len(cd.TypeName.GetArrayBounds()) == 0 {
		baseT, baseM = typeName(base)
	}
	// Between timestamp and timestamptz PostgreSQL 12+ relabels the value under TimeZone UTC, unless the
	// new type's precision rounds it (the cast yields no precision).
	zoneCoercible := old != nil && timeZoneChange(old.typ, newT) && precisionKept(nil, newM) && a.cfg.Major() >= 12
	var f *Finding
	switch {
	case old != nil && !using && zoneCoercible && a.utcZone.on():
		// The script set the session's TimeZone to UTC before it: binary-coercible (PostgreSQL 12+).
		if f = a.exprIndexRebuild(rel, key, name, change); f == nil {
			f = a.opclassIndexRebuild(rel, key, name, old.typ, newT, change)
		}
		if f == nil {
			f = a.add("change-column-type-coercible", fmt.Sprintf("%s.%s: %s -> %s is binary-coercible under the UTC time zone the migration sets before it: no rewrite, brief ACCESS EXCLUSIVE", rel, name, shownOld, shownNew))
		}
		f.subject = change
	case old != nil && !using && zoneCoercible:
		// Binary-coercible only when the session's TimeZone is UTC (PostgreSQL 12+).
		f = a.add("change-column-type-rewrite", fmt.Sprintf("%s.%s: %s -> %s rewrites the table and its indexes under ACCESS EXCLUSIVE unless the session's TimeZone is UTC (only then does PostgreSQL 12+ skip the rewrite)", rel, name, shownOld, shownNew))
		f.timeZoneDependent = true
		f.subject = change
		f.Suggestion = utcSuggestion
	case old != nil && !using && timeZoneChange(old.typ, newT) && a.cfg.Major() >= 12:
		// To a precision below 6: the converted value is rounded, row by row, whatever the time zone.
		f = a.add("change-column-type-rewrite", fmt.Sprintf("%s.%s: %s -> %s rewrites the table and its indexes under ACCESS EXCLUSIVE whatever the session's TimeZone: "+
			"the conversion yields a value of no precision, which PostgreSQL rounds to %d fractional digits row by row", rel, name, shownOld, shownNew, newM[0]))
		f.subject = change
		f.Suggestion = fmt.Sprintf("change it to %s without a precision (or %s(6)), so that no row is rounded, and %s", newT, newT, utcSuggestion)
	case old != nil && a.st.domains[a.st.qual(cd.TypeName.GetNames())]:
		// Every row is checked against the domain's constraints: PostgreSQL rewrites the table even
		// from the domain's own base type.
		f = a.add("change-column-type-rewrite", fmt.Sprintf("%s.%s changes to constrained domain %s: the table is rewritten under ACCESS EXCLUSIVE", rel, name, newT))
		f.subject = change
	case old != nil && !using && coercible(old.typ, old.mods, baseT, baseM):
		if cd.CollClause != nil && a.indexed(key, col) {
			f = a.add("change-column-collation-index-rebuild", fmt.Sprintf("%s changes collation: its indexes are rebuilt under ACCESS EXCLUSIVE", change))
		} else if f = a.exprIndexRebuild(rel, key, name, change); f != nil {
			f.subject = change
		} else if f = a.opclassIndexRebuild(rel, key, name, old.typ, newT, change); f != nil {
			f.subject = change
		} else {
			f = a.add("change-column-type-coercible", fmt.Sprintf("%s.%s: %s -> %s is binary-coercible: no rewrite, brief ACCESS EXCLUSIVE", rel, name, shownOld, shownNew))
			f.subject = change
		}
	case old != nil || using:
		f = a.add("change-column-type-rewrite", fmt.Sprintf("%s.%s changes type to %s: the table and its indexes are rewritten under ACCESS EXCLUSIVE", rel, name, shownNew))
	case newT == "text" || newT == "varchar" || newT == "citext" || newT == "numeric" || newT == "timestamptz" || newT == "timestamp" || newT == "inet":
		// The old type is unknown: these targets are often binary-coercible; the rehearsal decides.
		f = a.add("change-column-type-coercible", fmt.Sprintf("%s.%s changes type to %s: the old type is unknown to the parser, the rehearsal decides whether the table is rewritten", rel, name, shownNew))
		f.Risk = Caution
		if (newT == "timestamptz" || newT == "timestamp") && precisionKept(nil, newM) && a.cfg.Major() >= 12 && !a.utcZone.on() {
			// From the other timestamp type the change rewrites unless TimeZone is UTC, as the rehearsal's is.
			f.Message += fmt.Sprintf("; from %s it rewrites the table unless the session's TimeZone is UTC", otherTimestamp(newT))
			f.timeZoneDependent = true
			f.Suggestion = utcSuggestion
		}
	default:
		f = a.add("change-column-type-rewrite", fmt.Sprintf("%s.%s changes type to %s: most type changes rewrite the table and its indexes under ACCESS EXCLUSIVE (the rehearsal confirms)", rel, name, shownNew))
	}
	if f.subject == "" { // before any later finding moves it
		f.subject = fmt.Sprintf("%s.%s changing type to %s", rel, name, shownNew)
	}
	if partners := a.st.foreignKeyPartners(key, col); len(partners) > 0 {
		// PostgreSQL drops and adds again every foreign key over the column, on either side
		// (RememberConstraintForRebuilding): dropping one takes ACCESS EXCLUSIVE on its other table until
		// the transaction ends, and adding it validates it again, reading both tables, unless the types
		// stay compatible (measured on 15: orders.user_id bigint to int locks users ACCESS EXCLUSIVE,
		// SHARE ROW EXCLUSIVE and ROW SHARE, and reads both tables).
		others := slices.Sorted(maps.Keys(partners))
		var keys []string
		for _, o := range others {
			keys = append(keys, partners[o])
		}
		f.foreignKeys = fmt.Sprintf("; the foreign key %s is dropped and added again: ACCESS EXCLUSIVE on %s until the transaction ends, "+
			"through the rewrite and the key's validation (a scan of both tables, skipped only when the types stay compatible)", andList(keys), andList(others))
		f.Message += f.foreignKeys
		for _, o := range others {
			f.Lock += "; ACCESS EXCLUSIVE on " + o + " (foreign key dropped and added again)"
		}
	}
	if views := a.st.viewsUsing(key, col); len(views) > 0 {
		for i, v := range views {
			views[i] = bare(v)
		}
		f.Risk = Dangerous
		f.Message += fmt.Sprintf("; but it fails: %s uses the column, and PostgreSQL cannot alter type of a column used by a view or rule, so the deploy stops here", andList(views))
		f.Suggestion = fmt.Sprintf("in one transaction: DROP %s, change the type, CREATE it again; or leave the column and add a new one", andList(views))
	}
	if t := a.st.known(key); t != nil {
		for _, k := range slices.Sorted(maps.Keys(t.checks)) { // the first by name: a stable message
			if ck := t.checks[k]; slices.Contains(ck.cols, col) {
				a.add("change-column-type-with-checks", fmt.Sprintf("%s.%s is used by CHECK %s, which is re-validated (scan) after the type change", rel, name, ck.name))
				break
			}
		}
	}
}

// plainUsing tells whether a USING expression only reads column col, bare or cast to the new type t
// (USING name, USING name::text): PostgreSQL plans it to the same conversion as no USING, so it rewrites
// the table only when that would (measured on 15: varchar(50) to text USING name::text keeps the
// relfilenode).
func plainUsing(n *pg_query.Node, col string, t *pg_query.TypeName) bool {
	if tc := n.GetTypeCast(); tc != nil {
		castT, castM := typeName(tc.TypeName)
		newT, newM := typeName(t)
		if shortType(castT) != shortType(newT) || !slices.Equal(castM, newM) {
			return false
		}
		n = tc.Arg
	}
	cr := n.GetColumnRef()
	return cr != nil && len(cr.Fields) == 1 && cr.Fields[0].GetString_().GetSval() == col
}

// timeZoneChange tells whether a type change is between timestamp and timestamptz, either way.
func timeZoneChange(oldT, newT string) bool {
	oldT, newT = shortType(oldT), shortType(newT)
	return oldT == "timestamp" && newT == "timestamptz" || oldT == "timestamptz" && newT == "timestamp"
}

func otherTimestamp(t string) string {
	if t == "timestamp" {
		return "timestamptz"
	}
	return "timestamp"
}

// exprIndexRebuild raises change-column-collation-index-rebuild for a binary-coercible type change of
// column name of rel (key is its state key) that an index uses in an expression or its predicate, and
// returns it; nil when no index does. PostgreSQL keeps the storage of an index on the plain column, but
// rebuilds one with expressions or a predicate (CheckIndexCompatible does not compare them), scanning
// the table under ACCESS EXCLUSIVE (measured on 15).
func (a *analyzer) exprIndexRebuild(rel, key, name, change string) *Finding {
	t := a.st.known(key)
	if t == nil {
		return nil
	}
	col := name
	var names []string
	for _, ix := range slices.Sorted(maps.Keys(t.exprIndexes)) {
		if !slices.Contains(t.exprIndexes[ix], col) {
			continue
		}
		if ix == "" {
			names = append(names, "an index created without a name")
		} else {
			names = append(names, bare(ix))
		}
	}
	if len(names) == 0 {
		return nil
	}
	return a.add("change-column-collation-index-rebuild", fmt.Sprintf("%s is binary-coercible, so the table is not rewritten, but %s uses the column in an expression or a predicate: PostgreSQL rebuilds it, scanning %s under ACCESS EXCLUSIVE",
		change, andList(names), rel))
}

// opclassIndexRebuild raises change-column-collation-index-rebuild for a binary-coercible type change of
// column name of rel (key is its state key) to a type whose default operator class is another (int4 to
// oid, bit to varbit, text to bpchar or citext, timestamp to timestamptz) when an index has the column, and
// returns it; nil otherwise. PostgreSQL keeps the table's storage but builds every such index again
// (CheckIndexCompatible compares the operator classes), scanning the table under ACCESS EXCLUSIVE
// (measured on 15).
func (a *analyzer) opclassIndexRebuild(rel, key, name, oldT, newT, change string) *Finding {
	if indexType(oldT) == indexType(newT) || !a.indexed(key, name) {
		return nil
	}
	return a.add("change-column-collation-index-rebuild", fmt.Sprintf("%s is binary-coercible, so the table is not rewritten, but the column's indexes change operator class with the type: PostgreSQL rebuilds them, scanning %s under ACCESS EXCLUSIVE",
		change, rel))
}

func (a *analyzer) indexed(rel, col string) bool {
	t := a.st.known(rel)
	if t == nil {
		return false
	}
	for _, ix := range t.indexes {
		if slices.Contains(ix, col) {
			return true
		}
	}
	return false
}

// triggerWord is how a DISABLE TRIGGER command names what it disables: ALL, or the trigger's name.
func triggerWord(cmd *pg_query.AlterTableCmd) string {
	if cmd.Subtype == pg_query.AlterTableType_AT_DisableTrigAll {
		return "ALL"
	}
	return quoteIdent(cmd.Name)
}

// shownType is a type as a message shows it: its name with the modifiers written after it
// (varchar(100), numeric(10,2), timestamp(3)), an interval's fields and precision as format_type spells
// them (interval day to second(3)).
// sqlSpelling is how a migration spells the types the parser names by their internal names: the parser
// reads int as int4 and char(n) as bpchar(n), and a message should show what the author wrote.
var sqlSpelling = map[string]string{
	"int2": "smallint", "int4": "integer", "int8": "bigint", "float4": "real", "float8": "double precision",
	"bool": "boolean", "bpchar": "char", "varbit": "bit varying",
}

// SQLTypeName is the type's name as a migration spells it, for one the parser names internally (int4:
// integer, bpchar: char); other names as they are.
func SQLTypeName(name string) string {
	if sql, ok := sqlSpelling[name]; ok {
		return sql
	}
	return name
}

func shownType(typ string, mods []int) string {
	base, array := strings.CutSuffix(typ, "[]")
	if sql := SQLTypeName(base); sql != base {
		base = sql
		if typ = base; array {
			typ += "[]"
		}
	}
	if base == "interval" && len(mods) > 0 {
		out := "interval"
		if mods[0] != intervalFullRange {
			out += " " + intervalFields[mods[0]]
		}
		if len(mods) > 1 {
			out += "(" + strconv.Itoa(mods[1]) + ")"
		}
		if array {
			out += "[]"
		}
		return out
	}
	if len(mods) == 0 {
		return typ
	}
	ms := make([]string, len(mods))
	for i, m := range mods {
		ms[i] = strconv.Itoa(m)
	}
	out := base + "(" + strings.Join(ms, ",") + ")"
	if array {
		out += "[]"
	}
	return out
}

// intervalFullRange is the field mask of an interval written without fields (INTERVAL_FULL_RANGE): the
// parser gives interval(3) the typmods (intervalFullRange, 3).
const intervalFullRange = 0x7fff

// intervalFields spells the field masks an interval's first typmod holds (PostgreSQL's INTERVAL_MASK of
// each field, or-ed from the first to the last), as format_type does.
var intervalFields = func() map[int]string {
	const month, year, day, hour, minute, second = 1 << 1, 1 << 2, 1 << 3, 1 << 10, 1 << 11, 1 << 12
	return map[int]string{
		year: "year", month: "month", day: "day", hour: "hour", minute: "minute", second: "second",
		year | month: "year to month", day | hour: "day to hour", day | hour | minute: "day to minute",
		day | hour | minute | second: "day to second", hour | minute: "hour to minute",
		hour | minute | second: "hour to second", minute | second: "minute to second",
	}
}()

// shownCollate is the COLLATE clause of a type change as a message shows it, "" without one.
func shownCollate(c *pg_query.CollateClause) string {
	if c == nil {
		return ""
	}
	var parts []string
	for _, n := range c.Collname {
		parts = append(parts, quoteIdent(n.GetString_().GetSval()))
	}
	return " COLLATE " + strings.Join(parts, ".")
}

// compositeUsedBy names a table column ("t.col") the state knows to be of composite type key, or of an
// array of it, "" when it knows none. The state keeps a column's type by its last name only.
func (a *analyzer) compositeUsedBy(key string) string {
	name := bare(key)
	for _, tk := range slices.Sorted(maps.Keys(a.st.tables)) {
		t := a.st.tables[tk]
		if t == nil {
			continue
		}
		for _, cn := range slices.Sorted(maps.Keys(t.cols)) {
			if c := t.cols[cn]; c != nil && (c.typ == name || c.typ == name+"[]") {
				return bare(tk) + "." + cn
			}
		}
	}
	return ""
}

// separateByDesign tells an ALTER TABLE that multiple-alter-same-table must not ask to combine with
// another: one that only validates constraints (alone, VALIDATE CONSTRAINT scans under SHARE UPDATE
// EXCLUSIVE; in an ALTER TABLE with other subcommands, under their stronger lock), or only drops CHECKs
// that prove a column NOT NULL (in the ALTER TABLE of the SET NOT NULL they prove, PostgreSQL drops them
// first and the SET NOT NULL scans the table).
func (a *analyzer) separateByDesign(key string, at *pg_query.AlterTableStmt) bool {
	t := a.st.known(key)
	if len(at.Cmds) == 0 {
		return false
	}
	for _, c := range at.Cmds {
		cmd := c.GetAlterTableCmd()
		switch cmd.GetSubtype() {
		case pg_query.AlterTableType_AT_ValidateConstraint:
		case pg_query.AlterTableType_AT_DropConstraint:
			ck := (*check)(nil)
			if t != nil {
				ck = t.checks[cmd.Name]
			}
			if ck == nil || !slices.ContainsFunc(ck.cols, func(col string) bool { return provesNotNull(ck.expr, col) }) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// detachReferencing are the pre-existing tables other than partitioned table key whose foreign keys
// reference it, by their names as messages show them: DETACH PARTITION, with or without CONCURRENTLY,
// drops the foreign key's copy for the partition on each (ACCESS EXCLUSIVE, measured on 15), after
// checking under SHARE that none of their rows points into the partition. It notes the locks.
func (a *analyzer) detachReferencing(key string) []string {
	var refs []string
	for _, r := range a.st.referencing(key) {
		if r == key || a.st.isNew(r) {
			continue
		}
		name := bare(r)
		if keySchema(r) != keySchema(key) {
			name = traceName(r)
		}
		refs = append(refs, name)
		a.takesKnownKey(lockAE, r)
		a.strongOn(lockAE, name)
	}
	return refs
}

// refer is "references" or "reference", for the tables of a message.
func refer(tables []string) string {
	if len(tables) == 1 {
		return "references"
	}
	return "reference"
}
