package schema

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// properties restores, on the objects of the before-catalog, what the up changed of their owner,
// privileges, storage parameters, replica identity, extended statistics (with their owners and
// comments), CLUSTER index, column statistics targets, compression and options (n_distinct), a
// materialized view's populated state, view columns' defaults, index columns' statistics targets, each schema's default privileges and its
// collations' owners and comments, and the database-wide default privileges, for objects the down
// re-created (which start from the defaults) as for those it kept. Collations and column storage are
// only noticed: the generated down says it does not restore them.
func (g *downGen) properties() {
	a, b := g.a, g.b
	for _, k := range sortedKeys(b.Schemas) {
		x, ax := b.Schemas[k], a.Schemas[k]
		cur := Access{}
		if ax != nil && !g.wasCreated(KindSchema, k) {
			cur = ax.Access
		}
		g.access(KindSchema, k, "SCHEMA", Ident(k), x.Access, cur, g.wasCreated(KindSchema, k) || ax == nil)
		if fresh := ax == nil || g.wasCreated(KindSchema, k); fresh && x.DefaultPrivileges != "" {
			g.defaultPrivileges(k, x.DefaultPrivileges, "")
		} else if !fresh && ax.DefaultPrivileges != x.DefaultPrivileges {
			g.defaultPrivileges(k, x.DefaultPrivileges, ax.DefaultPrivileges)
		}
		if ax != nil && ax.Collations != x.Collations {
			had, has := collationLines(x.Collations), collationLines(ax.Collations)
			for _, n := range slices.Sorted(mapKeys(has)) {
				if _, ok := had[n]; !ok {
					g.add(fmt.Sprintf("drop the collation %s the up created", n), "DROP COLLATION "+QIdent(k, strings.Trim(n, `"`)))
				}
			}
			for _, n := range slices.Sorted(mapKeys(had)) {
				if has[n] != had[n] {
					g.irreversible(fmt.Sprintf("not restored: collation %s in schema %s (%s)", n, display(k), had[n]))
				}
			}
		}
		if ax != nil {
			// The collations the down cannot bring back are not restored above; those it keeps are not fresh.
			g.notes(KindCollation, "COLLATION", k, x.CollationNotes, ax.CollationNotes, func(string) bool { return false })
		}
	}
	if a.DefaultPrivileges != b.DefaultPrivileges {
		g.defaultPrivileges("", b.DefaultPrivileges, a.DefaultPrivileges)
	}
	for _, k := range sortedKeys(b.Tables) {
		t, at := b.Tables[k], a.Tables[k]
		fresh := g.wasCreated(KindTable, k) || at == nil
		cur := &Table{}
		if !fresh {
			cur = at
		}
		target := qkey(k)
		g.access(KindTable, k, "TABLE", target, t.Access, cur.Access, fresh)
		g.options(KindTable, k, "TABLE", target, t.Options, cur.Options)
		if !fresh && cur.AccessMethod != t.AccessMethod {
			// A re-created table was created with its own (createTableSQL).
			g.add(fmt.Sprintf("restore the access method of table %s", display(k)),
				"ALTER TABLE "+target+" SET ACCESS METHOD "+Ident(or(t.AccessMethod, "heap")))
		}
		// A re-created table starts in the database's default: CREATE TABLE as the catalog writes it
		// names no tablespace.
		if cur.Tablespace != t.Tablespace && !t.Foreign() {
			g.tablespace(KindTable, k, "TABLE", target, t.Tablespace)
		}
		if cur.ReplicaIdentity != t.ReplicaIdentity {
			ri := strings.ToUpper(t.ReplicaIdentity)
			switch {
			case ri == "":
				ri = "DEFAULT"
			case strings.HasPrefix(t.ReplicaIdentity, "index "):
				ri = "USING INDEX " + strings.TrimPrefix(t.ReplicaIdentity, "index ")
			}
			g.add(fmt.Sprintf("restore the replica identity of table %s", display(k)), "ALTER TABLE "+target+" REPLICA IDENTITY "+ri)
		}
		if cur.ForceRowSecurity != t.ForceRowSecurity {
			verb := "NO FORCE"
			if t.ForceRowSecurity {
				verb = "FORCE"
			}
			g.add(fmt.Sprintf("restore FORCE ROW LEVEL SECURITY on table %s", display(k)), "ALTER TABLE "+target+" "+verb+" ROW LEVEL SECURITY")
		}
		g.definitions(k, target, "extended statistics", cur.Statistics, t.Statistics, statisticsName, func(name string) string { return "DROP STATISTICS " + name })
		// Those definitions created again start as the down's user's, with no comment.
		had, has := defsByName(t.Statistics, statisticsName), defsByName(cur.Statistics, statisticsName)
		g.notes(KindStatistics, "STATISTICS", "", t.StatisticsNotes, cur.StatisticsNotes, func(key string) bool {
			// pg_get_statisticsobjdef qualifies the name, public too
			s, name := schemaAndName(key)
			n := Ident(s) + "." + Ident(name)
			return has[n] != had[n]
		})
		for _, c := range t.Columns {
			var ac *Column
			if !fresh {
				ac = at.Column(c.Name)
			}
			if ac == nil {
				ac = &Column{}
			}
			if ac.Statistics != c.Statistics {
				n := c.Statistics
				if n == "" {
					n = "-1"
				}
				g.add(fmt.Sprintf("restore the statistics target of column %s", display(subKey(k, c.Name))),
					"ALTER TABLE "+target+" ALTER COLUMN "+Ident(c.Name)+" SET STATISTICS "+n)
			}
			// The table's owner, restored above, took the old one's place in its columns' ACLs too.
			if have := newOwnerACL(ac.Privileges, cur.Owner, t.Owner); have != c.Privileges {
				g.columnPrivileges(k, target, c.Name, c.Privileges, have)
			}
			if c.Identity != "" {
				g.identitySequence(t, c, at, ac)
			}
			if ac.Storage != c.Storage {
				if c.Storage == "" {
					g.irreversible(fmt.Sprintf("not restored: the storage of column %s (back to its type's default)", display(subKey(k, c.Name))))
				} else {
					g.add(fmt.Sprintf("restore the storage of column %s", display(subKey(k, c.Name))),
						"ALTER TABLE "+target+" ALTER COLUMN "+Ident(c.Name)+" SET STORAGE "+strings.ToUpper(c.Storage))
				}
			}
			g.columnSettings(k, "TABLE", target, c.Name, c.Compression, ac.Compression, c.Options, ac.Options)
		}
	}
	for _, k := range sortedKeys(b.Indexes) {
		x, ax := b.Indexes[k], a.Indexes[k]
		// An index the down built again (itself or with its constraint or relation) is in the default
		// tablespace: pg_get_indexdef names none.
		fresh := ax == nil || g.wasCreated(KindIndex, k) || x.Constraint != "" && g.wasCreated(KindConstraint, subKey(x.QTable(), x.Constraint))
		have := ""
		if !fresh {
			have = ax.Tablespace
		}
		if have != x.Tablespace {
			g.tablespace(KindIndex, k, "INDEX", qkey(k), x.Tablespace)
		}
		haveStats := ""
		if !fresh {
			haveStats = ax.Statistics
		}
		g.indexStatistics(k, x.Statistics, haveStats)
		was := ax != nil && !g.wasCreated(KindIndex, k) && ax.Clustered
		if was == x.Clustered {
			continue
		}
		if x.Clustered {
			g.add(fmt.Sprintf("cluster table %s on index %s again", display(x.QTable()), display(k)),
				"ALTER TABLE "+QIdent(x.Schema, x.Table)+" CLUSTER ON "+Ident(x.Name))
		} else if bt := b.Tables[x.QTable()]; bt != nil && !g.otherClustered(x.QTable(), k) {
			g.add(fmt.Sprintf("table %s was not clustered", display(x.QTable())), "ALTER TABLE "+QIdent(x.Schema, x.Table)+" SET WITHOUT CLUSTER")
		}
	}
	for _, k := range sortedKeys(b.Views) {
		v, av := b.Views[k], a.Views[k]
		fresh := g.wasCreated(kindOfView(v), k) || av == nil
		cur := &View{}
		if !fresh {
			cur = av
		}
		word := "VIEW"
		if v.Materialized {
			word = "MATERIALIZED VIEW"
		}
		// The owner first, as access does it for other kinds: the privileges are restored on the ACL the
		// owner's change leaves.
		g.ownerAs(kindOfView(v), k, word, qkey(k), v.Owner, cur.Owner, fresh)
		g.access(kindOfView(v), k, "TABLE", qkey(k), v.Access, cur.Access, fresh)
		g.options(kindOfView(v), k, word, qkey(k), v.Options, cur.Options)
		if !fresh && v.Materialized && cur.AccessMethod != v.AccessMethod {
			g.add(fmt.Sprintf("restore the access method of materialized view %s", display(k)),
				"ALTER MATERIALIZED VIEW "+qkey(k)+" SET ACCESS METHOD "+Ident(or(v.AccessMethod, "heap")))
		}
		if v.Materialized && cur.Tablespace != v.Tablespace {
			g.tablespace(KindMaterializedView, k, word, qkey(k), v.Tablespace)
		}
		// A materialized view the down created again was created populated or not (createViewSQL).
		if v.Materialized && !fresh && cur.NoData != v.NoData {
			if v.NoData {
				g.add(fmt.Sprintf("materialized view %s was not populated: empty it again", display(k)),
					"REFRESH MATERIALIZED VIEW "+qkey(k)+" WITH NO DATA")
			} else {
				g.add(fmt.Sprintf("materialized view %s was populated: refresh it", display(k)), "REFRESH MATERIALIZED VIEW "+qkey(k))
			}
		}
		g.viewColumns(k, word, v, cur)
	}
	// Sequences, routines and types: owner and privileges only.
	restore := func(kind, key, keyword, target string, want Access, have *Access) {
		fresh := have == nil || g.wasCreated(kind, key)
		cur := Access{}
		if !fresh {
			cur = *have
		}
		g.access(kind, key, keyword, target, want, cur, fresh)
	}
	for _, k := range sortedKeys(b.Sequences) {
		restore(KindSequence, k, "SEQUENCE", qkey(k), b.Sequences[k].Access, accessIn(a.Sequences, k))
	}
	for _, k := range sortedKeys(b.Functions) {
		f := b.Functions[k]
		restore(f.kindName(), k, "ROUTINE", QIdent(f.Schema, f.Name)+"("+f.Args+")", f.Access, accessIn(a.Functions, k))
	}
	for _, k := range sortedKeys(b.Enums) {
		restore(KindEnum, k, "TYPE", qkey(k), b.Enums[k].Access, accessIn(a.Enums, k))
	}
	for _, k := range sortedKeys(b.Domains) {
		restore(KindDomain, k, "DOMAIN", qkey(k), b.Domains[k].Access, accessIn(a.Domains, k))
	}
	for _, k := range sortedKeys(b.Composites) {
		restore(KindComposite, k, "TYPE", qkey(k), b.Composites[k].Access, accessIn(a.Composites, k))
	}
	bRanges, aRanges := rangeTypes(b), rangeTypes(a)
	for _, k := range sortedKeys(bRanges) {
		restore(KindRange, k, "TYPE", qkey(k), bRanges[k].Access, accessIn(aRanges, k))
	}
	g.textSearchProperties()
	g.publicationProperties()
}

// columnSettings restores the compression method and attribute options (n_distinct) of column name of
// the relation target (keyword TABLE or MATERIALIZED VIEW), want as before the up, have as now ("" for a
// column the down made again, which has neither).
func (g *downGen) columnSettings(key, keyword, target, name, wantCompression, haveCompression, wantOptions, haveOptions string) {
	where := display(subKey(key, name))
	if haveCompression != wantCompression {
		g.add(fmt.Sprintf("restore the compression of column %s", where),
			"ALTER "+keyword+" "+target+" ALTER COLUMN "+Ident(name)+" SET COMPRESSION "+or(wantCompression, "default"))
	}
	g.options(KindColumn, subKey(key, name), keyword, target+" ALTER COLUMN "+Ident(name), wantOptions, haveOptions)
}

// viewColumns restores the properties of view v's columns (keyword VIEW or MATERIALIZED VIEW): a view
// column's default (ALTER VIEW … ALTER COLUMN … SET DEFAULT), a materialized view column's statistics
// target, storage, compression and options. cur is the view as it is now, empty when the down made it
// again. Their comments and privileges are not restored: the down's proof says so.
func (g *downGen) viewColumns(k, keyword string, v, cur *View) {
	have := map[string]*ViewColumn{}
	for _, c := range cur.ColumnDetails {
		have[c.Name] = c
	}
	for _, c := range v.ColumnDetails {
		ac := have[c.Name]
		if ac == nil {
			ac = &ViewColumn{}
		}
		where := display(subKey(k, c.Name))
		alter := "ALTER " + keyword + " " + qkey(k) + " ALTER COLUMN " + Ident(c.Name)
		if ac.Default != c.Default {
			if c.Default == "" {
				g.add(fmt.Sprintf("drop the default of view column %s", where), alter+" DROP DEFAULT")
			} else {
				g.add(fmt.Sprintf("restore the default of view column %s", where), alter+" SET DEFAULT "+c.Default)
			}
		}
		if ac.Statistics != c.Statistics {
			g.add(fmt.Sprintf("restore the statistics target of column %s", where), alter+" SET STATISTICS "+or(c.Statistics, "-1"))
		}
		if ac.Storage != c.Storage {
			if c.Storage == "" {
				g.irreversible(fmt.Sprintf("not restored: the storage of column %s (back to its type's default)", where))
			} else {
				g.add(fmt.Sprintf("restore the storage of column %s", where), alter+" SET STORAGE "+strings.ToUpper(c.Storage))
			}
		}
		g.columnSettings(k, keyword, qkey(k), c.Name, c.Compression, ac.Compression, c.Options, ac.Options)
	}
}

// indexStatistics restores the statistics targets of index k's columns (ALTER INDEX … ALTER COLUMN 1
// SET STATISTICS 500), want as before the up and have as now, each "column number: target" joined by
// ", " ("" for an index the down built again, which has none).
func (g *downGen) indexStatistics(k, want, have string) {
	if want == have {
		return
	}
	split := func(s string) map[string]string {
		out := map[string]string{}
		if s != "" {
			for _, e := range strings.Split(s, ", ") {
				n, v, _ := strings.Cut(e, ": ")
				out[n] = v
			}
		}
		return out
	}
	w, h := split(want), split(have)
	nums := slices.Collect(maps.Keys(w))
	for n := range h {
		if _, ok := w[n]; !ok {
			nums = append(nums, n)
		}
	}
	slices.SortFunc(nums, func(a, b string) int { // column numbers, in order
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return x - y
	})
	for _, n := range nums {
		if w[n] != h[n] {
			g.add(fmt.Sprintf("restore the statistics target of column %s of index %s", n, display(k)),
				"ALTER INDEX "+qkey(k)+" ALTER COLUMN "+n+" SET STATISTICS "+or(w[n], "-1"))
		}
	}
}

// tablespace moves a relation back to tablespace want ("" for the database's default, which SET
// TABLESPACE names pg_default). The tablespace itself is the server's, not the database's: the down
// expects it to be there, as the up found it.
func (g *downGen) tablespace(kind, key, keyword, target, want string) {
	g.add(fmt.Sprintf("move %s %s back to tablespace %s", kind, display(key), or(want, "pg_default")),
		fmt.Sprintf("ALTER %s %s SET TABLESPACE %s", keyword, target, Ident(or(want, "pg_default"))))
}

// identitySequence restores what the identity sequence of column c of table t (as the before-catalog
// has them) had of its own: its name, privileges, comment, persistence, data type and options. ac is the column
// as it is now: an empty Column when the down made it (or its table) again, whose sequence then has
// the name PostgreSQL gives and nothing else; at is its table.
func (g *downGen) identitySequence(t *Table, c *Column, at *Table, ac *Column) {
	want, have := c.IdentitySequence, ac.IdentitySequence
	if want == nil {
		want = &IdentitySequence{}
	}
	name := IdentitySequenceName(t.Name, c.Name)
	if ac.Identity == "" || have == nil {
		have = &IdentitySequence{}
	} else if at != nil {
		name = identitySequenceName(at, ac)
	}
	wantName := identitySequenceName(t, c)
	where := display(subKey(t.QName(), c.Name))
	if name != wantName {
		g.add(fmt.Sprintf("restore the name of the identity sequence of column %s", where),
			"ALTER SEQUENCE "+QIdent(t.Schema, name)+" RENAME TO "+Ident(wantName))
	}
	target := QIdent(t.Schema, wantName)
	if have.Privileges != want.Privileges {
		// Empty: the owner's defaults, which GRANT ALL gives back once the others are revoked.
		owner := role(t.Owner) + "=rwU/" + role(t.Owner)
		g.access(KindSequence, Key(t.Schema, wantName), "SEQUENCE", target, Access{Owner: t.Owner, Privileges: or(want.Privileges, owner)},
			Access{Owner: t.Owner, Privileges: or(have.Privileges, owner)}, false)
	}
	if have.Comment != want.Comment {
		g.add(fmt.Sprintf("restore the comment on the identity sequence of column %s", where), commentSQL("SEQUENCE "+target, want.Comment))
	}
	if have.Unlogged != want.Unlogged {
		mode := "LOGGED"
		if want.Unlogged {
			mode = "UNLOGGED"
		}
		g.add(fmt.Sprintf("restore the persistence of the identity sequence of column %s", where), "ALTER SEQUENCE "+target+" SET "+mode)
	}
	// Its data type: a column the down changes back to its type gives it that type (ALTER COLUMN TYPE
	// changes the identity sequence's too).
	haveType := have.Type
	if ac.Type != c.Type {
		haveType = ""
	}
	if haveType != want.Type {
		// Its options before a type that narrows it (see identityOptions).
		g.identityOptionsBefore(t, c, ac, or(haveType, c.Type), or(want.Type, c.Type))
		// Min and max that are the defaults of the type it has become those of the type it gets.
		g.add(fmt.Sprintf("restore the data type of the identity sequence of column %s", where), "ALTER SEQUENCE "+target+" AS "+or(want.Type, c.Type))
	}
	// Its options once it has that type back: AS moves a bound that was the old type's.
	g.identityOptions(t, c, ac, identitySequenceType(c))
}

// accessOf is how objects that embed Access hand it out (see accessIn).
func (a *Access) accessOf() *Access { return a }

// accessIn is the Access of object k of m, nil when m has no such object.
func accessIn[T interface{ accessOf() *Access }](m map[string]T, k string) *Access {
	if x, ok := m[k]; ok {
		return x.accessOf()
	}
	return nil
}

// otherClustered tells whether another index of table is the clustered one in the before-catalog.
func (g *downGen) otherClustered(table, except string) bool {
	for k, x := range g.b.Indexes {
		if k != except && x.QTable() == table && x.Clustered {
			return true
		}
	}
	return false
}

// access restores the owner and privileges of one object. keyword is what ALTER ... OWNER and GRANT
// call it (TABLE, SEQUENCE, ROUTINE, TYPE, DOMAIN, SCHEMA, FOREIGN DATA WRAPPER, FOREIGN SERVER); fresh
// objects start from the defaults.
func (g *downGen) access(kind, key, keyword, target string, want, have Access, fresh bool) {
	alter := keyword
	switch keyword {
	case "FOREIGN SERVER":
		alter = "SERVER"
	case "ROUTINE", "TABLE":
		if kind == KindProcedure {
			alter = "PROCEDURE"
		} else if kind == KindFunction {
			alter = "FUNCTION"
		} else if kind == KindView || kind == KindMaterializedView {
			alter = "" // ownerAs handles views, which ALTER TABLE ... OWNER also takes but names oddly
		}
	}
	if alter != "" {
		g.ownerAs(kind, key, alter, target, want.Owner, have.Owner, fresh)
	}
	if want.Privileges == "" {
		return
	}
	what := fmt.Sprintf("restore the privileges on %s %s", kind, display(key))
	if !fresh {
		// ALTER ... OWNER TO, just above (or, for views, before), put the new owner in the old one's
		// place in the ACL.
		if want.Owner != "" && have.Owner != want.Owner {
			have.Privileges = newOwnerACL(have.Privileges, have.Owner, want.Owner)
		}
		if have.Privileges != want.Privileges {
			g.aclDiff("", what, want.Privileges, have.Privileges, "", keyword+" "+target)
		}
		return
	}
	if defaultACL(want, kind) {
		return
	}
	// An object the down made again has the defaults of its kind, which depend on the server's
	// version (MAINTAIN on tables from 17 on): they are revoked from PUBLIC and the owner, and the
	// ACL it had granted whole.
	from := []string{"PUBLIC"}
	if want.Owner != "" {
		from = append(from, g.roleIn(want.Owner))
	}
	g.add(what, fmt.Sprintf("REVOKE ALL ON %s %s FROM %s", keyword, target, strings.Join(from, ", ")))
	g.grants(what, want.Privileges, "", keyword+" "+target)
}

// grants adds the GRANTs that give back the ACL entries of acl ("grantee=privileges/grantor", joined by
// commas) on object on (TABLE t, SCHEMA s...); columns, "" or "(col)", follows each privilege. Each
// step's comment is what says whose privileges they are (restore the privileges on ...), followed by
// the grantee.
func (g *downGen) grants(what, acl, columns, on string) { g.grantsAs("", what, acl, columns, on) }

// grantsAs is grants with each statement after prefix (ALTER DEFAULT PRIVILEGES ... ).
func (g *downGen) grantsAs(prefix, what, acl, columns, on string) {
	for _, it := range strings.Split(acl, ",") {
		grantee, rest, ok := strings.Cut(it, "=")
		if !ok {
			continue
		}
		privs, _, _ := strings.Cut(rest, "/")
		plain, option := aclPrivileges(privs)
		to := g.roleIn(grantee)
		for _, p := range []struct {
			privs []string
			tail  string
		}{{plain, ""}, {option, " WITH GRANT OPTION"}} {
			if len(p.privs) == 0 {
				continue
			}
			if columns != "" {
				for i := range p.privs {
					p.privs[i] += " " + columns
				}
			}
			g.add(fmt.Sprintf("%s: grant %s to %s%s", what, strings.Join(p.privs, ", "), to, strings.ToLower(p.tail)),
				fmt.Sprintf("%sGRANT %s ON %s TO %s%s", prefix, strings.Join(p.privs, ", "), on, to, p.tail))
		}
	}
}

// defaultPrivileges restores the ALTER DEFAULT PRIVILEGES ... IN SCHEMA entries of schema, or the
// database-wide ones when schema is "", from have to want (default privileges lines, "role: tables:
// grantee=privileges/grantor,..."): for each role and object kind that differs, what the grantees have
// now is revoked and what they had is granted. A database-wide entry replaces the built-in defaults
// (see defaultprivileges.go): without one, the role and PUBLIC hold those, revoked like any grantee's,
// and granted back where want has none.
func (g *downGen) defaultPrivileges(schema, want, have string) {
	w, h := defaultPrivilegeLines(want), defaultPrivilegeLines(have)
	var sorted [][2]string
	for _, m := range []map[[2]string]string{w, h} {
		for k := range m {
			if !slices.Contains(sorted, k) {
				sorted = append(sorted, k)
			}
		}
	}
	slices.SortFunc(sorted, func(a, b [2]string) int { return strings.Compare(a[0]+"\x00"+a[1], b[0]+"\x00"+b[1]) })
	for _, k := range sorted {
		wacl, wok := w[k]
		hacl, hok := h[k]
		if wok == hok && wacl == hacl {
			continue
		}
		prefix := "ALTER DEFAULT PRIVILEGES FOR ROLE " + g.roleIn(k[0]) + " "
		comment := fmt.Sprintf("restore the database-wide default privileges of %s on %s", k[0], k[1])
		if schema != "" {
			prefix += "IN SCHEMA " + Ident(schema) + " "
			comment = fmt.Sprintf("restore the default privileges of %s on %s in schema %s", k[0], k[1], display(schema))
		}
		on := strings.ToUpper(k[1])
		// A schema's role and kind without an entry grant nothing; database-wide, they have the built-in
		// defaults, which read as the entry that gives the role every privilege the other side's entry
		// gives it, when that is every privilege of the kind on some version.
		if schema == "" && !hok {
			hacl, hok = builtInACL(k[0], k[1], wacl)
		}
		if schema == "" && !wok {
			wacl, wok = builtInACL(k[0], k[1], hacl)
		}
		if schema != "" || wok && hok {
			g.aclDiff(prefix, comment, wacl, hacl, "", on)
			continue
		}
		// Every privilege on one version is not on another (MAINTAIN on tables from 17 on): revoked
		// all, then given back whole.
		var from []string
		if !hok {
			from = append(from, g.roleIn(k[0]))
			if k[1] == "functions" || k[1] == "types" {
				from = append(from, "PUBLIC")
			}
		}
		for _, it := range aclItems(hacl) {
			if to := g.roleIn(it.grantee); !slices.Contains(from, to) {
				from = append(from, to)
			}
		}
		if len(from) > 0 {
			g.add(comment+": revoke from "+strings.Join(from, ", "), prefix+"REVOKE ALL ON "+on+" FROM "+strings.Join(from, ", "))
		}
		if !wok {
			for _, grant := range builtInGrants(g.roleIn(k[0]), k[1]) {
				g.add(comment+": the built-in ones", prefix+grant)
			}
			continue
		}
		g.grantsAs(prefix, comment, wacl, "", on)
	}
}

// columnPrivileges restores the column-level privileges of one column (GRANT SELECT (col) ON ...):
// each grantee loses what the up gave it on the column and gets back what the up took.
func (g *downGen) columnPrivileges(key, target, column, want, have string) {
	what := fmt.Sprintf("restore the privileges on column %s", display(subKey(key, column)))
	g.aclDiff("", what, want, have, "("+Ident(column)+")", "TABLE "+target)
}

// notes restores the owners and comments of the objects kept as lines of another's definitions (a
// table's extended statistics, keyed in want by their keys, a schema's collations, by their names in
// schema), from have to want; an object have lacks is one the down does not bring back (left alone), and one
// recreated tells of one the down created again (which starts as its user's, with no comment).
func (g *downGen) notes(kind, keyword, schema string, want, have map[string]Note, recreated func(key string) bool) {
	for _, n := range sortedKeys(want) {
		w, h := want[n], Note{}
		key := n
		if schema != "" {
			key = Key(schema, n)
		}
		cur, ok := have[n]
		fresh := recreated(key)
		switch {
		case fresh:
		case ok:
			h = cur
		default:
			continue
		}
		target := qkey(key)
		g.ownerAs(kind, key, keyword, target, w.Owner, h.Owner, fresh)
		if w.Comment != h.Comment {
			g.add(fmt.Sprintf("restore the comment on %s %s", kind, display(key)), commentSQL(keyword+" "+target, w.Comment))
		}
	}
}

// ownerAs restores an object's owner with ALTER keyword target OWNER TO.
func (g *downGen) ownerAs(kind, key, keyword, target, want, have string, fresh bool) {
	if want == "" || (!fresh && want == have) {
		return
	}
	if fresh && want == g.a.User {
		return // a re-created object is its creator's
	}
	g.add(fmt.Sprintf("restore the owner of %s %s", kind, display(key)), fmt.Sprintf("ALTER %s %s OWNER TO %s", keyword, target, g.roleIn(want)))
}

// options restores storage parameters (or view options): what the up set is reset, what it changed or
// removed is set again.
func (g *downGen) options(kind, key, keyword, target, want, have string) {
	if want == have {
		return
	}
	wantKV, haveKV := splitOptions(want), splitOptions(have)
	var reset, set []string
	for k := range haveKV {
		if _, ok := wantKV[k]; !ok {
			reset = append(reset, k)
		}
	}
	for k, v := range wantKV {
		if haveKV[k] != v {
			set = append(set, k+"="+v)
		}
	}
	slices.Sort(reset)
	slices.Sort(set)
	if len(reset) > 0 {
		g.add(fmt.Sprintf("restore the options of %s %s", kind, display(key)), fmt.Sprintf("ALTER %s %s RESET (%s)", keyword, target, strings.Join(reset, ", ")))
	}
	if len(set) > 0 {
		g.add(fmt.Sprintf("restore the options of %s %s", kind, display(key)), fmt.Sprintf("ALTER %s %s SET (%s)", keyword, target, strings.Join(set, ", ")))
	}
}

func splitOptions(s string) map[string]string {
	out := map[string]string{}
	if s == "" {
		return out
	}
	for _, kv := range strings.Split(s, ", ") {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out
}

// definitions restores a table's rules or extended statistics, kept one definition per line: those the
// up added or changed are dropped, those it dropped or changed are created again from their definition.
func (g *downGen) definitions(key, target, what, have, want string, name func(def string) string, drop func(name string) string) {
	if have == want {
		return
	}
	haveDefs, wantDefs := defsByName(have, name), defsByName(want, name)
	for _, n := range slices.Sorted(mapKeys(haveDefs)) {
		if wantDefs[n] != haveDefs[n] {
			g.add(fmt.Sprintf("drop the %s %s the up put on table %s", what, n, display(key)), drop(n))
		}
	}
	for _, n := range slices.Sorted(mapKeys(wantDefs)) {
		if haveDefs[n] != wantDefs[n] {
			g.add(fmt.Sprintf("create the %s %s on table %s again", what, n, display(key)), strings.TrimSuffix(wantDefs[n], ";"))
		}
	}
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// defsByName splits definitions, one per line (a rule's may span lines: a line starting with CREATE
// begins the next), by the name each defines.
func defsByName(s string, name func(string) string) map[string]string {
	out := map[string]string{}
	if s == "" {
		return out
	}
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			def := strings.Join(cur, "\n")
			out[name(def)] = def
		}
		cur = nil
	}
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "CREATE ") {
			flush()
		}
		cur = append(cur, l)
	}
	flush()
	return out
}

// ruleName is the (quoted) name in "CREATE RULE name AS ...".
func ruleName(def string) string { return leadingName(strings.TrimPrefix(def, "CREATE RULE ")) }

// statisticsName is the (qualified, quoted) name in "CREATE STATISTICS schema.name ...".
func statisticsName(def string) string {
	return leadingName(strings.TrimPrefix(def, "CREATE STATISTICS "))
}

// leadingName reads a possibly qualified, possibly quoted name at the start of s, as written.
func leadingName(s string) string {
	i := 0
	for i < len(s) {
		if s[i] == '"' {
			j := i + 1
			for j < len(s) {
				if s[j] == '"' {
					if j+1 < len(s) && s[j+1] == '"' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			i = j + 1
		} else {
			for i < len(s) && s[i] != '.' && s[i] != ' ' && s[i] != '(' && s[i] != '\n' {
				i++
			}
		}
		if i < len(s) && s[i] == '.' {
			i++
			continue
		}
		break
	}
	return s[:min(i, len(s))]
}

// role quotes a role name as ACL entries and owners print it (already quoted when it needs quotes).
func role(name string) string {
	if strings.HasPrefix(name, `"`) {
		return name
	}
	return Ident(name)
}

// aclLetters are the privileges of ACL entries (aclitem's letters).
var aclLetters = map[byte]string{
	'r': "SELECT", 'w': "UPDATE", 'a': "INSERT", 'd': "DELETE", 'D': "TRUNCATE", 'x': "REFERENCES", 't': "TRIGGER",
	'X': "EXECUTE", 'U': "USAGE", 'C': "CREATE", 'c': "CONNECT", 'T': "TEMPORARY", 'm': "MAINTAIN",
}

// aclPrivileges reads an ACL entry's letters ("arw*d") into privileges given plainly and with the grant
// option (a letter followed by *).
func aclPrivileges(letters string) (plain, option []string) {
	for i := 0; i < len(letters); i++ {
		p, ok := aclLetters[letters[i]]
		if !ok {
			continue
		}
		if i+1 < len(letters) && letters[i+1] == '*' {
			option = append(option, p)
			i++
		} else {
			plain = append(plain, p)
		}
	}
	return plain, option
}

// defaultACL tells whether an object's privileges are those a new object gets: its owner's own, and for
// functions, procedures and types PUBLIC's EXECUTE or USAGE.
func defaultACL(a Access, kind string) bool {
	switch kind {
	case KindFunction, KindProcedure:
		if !slices.Contains(strings.Split(a.Privileges, ","), "=X/"+role(a.Owner)) {
			return false
		}
	case KindEnum, KindDomain, KindComposite, KindRange, KindLanguage:
		if !slices.Contains(strings.Split(a.Privileges, ","), "=U/"+role(a.Owner)) {
			return false
		}
	}
	for _, it := range strings.Split(a.Privileges, ",") {
		grantee, rest, _ := strings.Cut(it, "=")
		privs, grantor, _ := strings.Cut(rest, "/")
		switch {
		case grantor != a.Owner && role(grantor) != role(a.Owner):
			return false
		case grantee == a.Owner || role(grantee) == role(a.Owner):
		case grantee == "" && privs == "X" && (kind == KindFunction || kind == KindProcedure):
		case grantee == "" && privs == "U" && (kind == KindEnum || kind == KindDomain || kind == KindComposite || kind == KindRange ||
			kind == KindLanguage):
		default:
			return false
		}
	}
	return true
}

// collationLines splits a schema's collations ("name: provider locale ...", one per line) by name.
func collationLines(s string) map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(s, "\n") {
		if n, rest, ok := strings.Cut(l, ": "); ok {
			out[n] = rest
		}
	}
	return out
}
