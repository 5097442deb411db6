package lint

import (
	"maps"
	"slices"
	"strconv"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// The CHECK constraints of tables, which the state follows by name (VALIDATE, DROP CONSTRAINT) and by
// expression (a validated CHECK proves SET NOT NULL; a type change re-checks them).

// addCheck records CHECK constraint c of table tname, written on the table or on a column, under its
// name: the one it is given, else the one PostgreSQL chooses (ChooseConstraintName), so that a later
// VALIDATE or DROP CONSTRAINT of that name finds it. The tables below tname get it too, but for a NO
// INHERIT one.
func (s *state) addCheck(t *table, tname string, c *pg_query.Constraint) {
	cols := exprColumns(c.RawExpr)
	name := c.Conname
	if name == "" {
		schema := keySchema(tname)
		name = checkName(bare(tname), slices.Compact(slices.Sorted(slices.Values(cols))), func(n string) bool {
			return s.constraintNamed(schema, n)
		})
	}
	if own := t.checks[name]; own != nil && own.parents > 0 {
		// CREATE TABLE … INHERITS or PARTITION OF declaring a CHECK it inherits (the same name and
		// expression, or PostgreSQL refuses it): the two are one, the table's own too, but for a
		// partition's, which PostgreSQL keeps inherited only.
		own.local = !s.partition(tname)
		return
	}
	ck := &check{name: name, validated: !c.SkipValidation, cols: cols, expr: c.RawExpr, local: true, noInherit: c.IsNoInherit}
	t.checks[name] = ck
	s.setFuncUser("c:"+tname+"\x00"+name, funcUser{kind: userCheck, table: tname, name: name}, c.RawExpr)
	if !ck.noInherit {
		s.addToChildren(tname, ck, map[string]bool{tname: true})
	}
}

// addToChildren gives the partitions and inheritance children of table key a copy of its new CHECK ck,
// as PostgreSQL adds it to them (validated, or not, as ck), and theirs. A child that has a CHECK of that
// name (of the same expression, or PostgreSQL refuses the ADD) has it from one more parent, and keeps
// it as it is, its own children too. path holds the tables on the way down: a cycle, which PostgreSQL
// refuses but the state records as written, ends there; a table below two children is reached twice,
// as PostgreSQL reaches it, and has the CHECK from both.
func (s *state) addToChildren(key string, ck *check, path map[string]bool) {
	name := ck.name
	for _, child := range s.children(key) {
		t := s.tables[child]
		if t == nil || path[child] {
			continue
		}
		if own := t.checks[name]; own != nil {
			s.inheritedOnce(child, own)
			continue
		}
		c := &check{name: ck.name, cols: slices.Clone(ck.cols), validated: ck.validated, expr: ck.expr, parents: 1}
		t.checks[name] = c
		path[child] = true
		s.addToChildren(child, c, path)
		delete(path, child)
	}
}

// inheritedOnce counts one more parent that table child has its CHECK ck from. A partition's CHECK is
// never its own, and from its one partitioned table (PostgreSQL sets conislocal false, coninhcount 1);
// an inheritance child's stays its own if it was.
func (s *state) inheritedOnce(child string, ck *check) {
	ck.parents++
	if s.partition(child) {
		ck.local, ck.parents = false, 1
	}
}

// partition tells whether table key is a partition.
func (s *state) partition(key string) bool {
	_, ok := s.partOf[key]
	return ok
}

// inheritChecks follows table child put below table parent, as a partition or an inheritance child.
// Created so (CREATE TABLE … PARTITION OF, … INHERITS), it gets a valid copy of each of the parent's
// CHECKs but those NO INHERIT, one it has from an earlier parent counting one more; attached (ATTACH
// PARTITION, ALTER TABLE … INHERIT), it must already have one of each name (PostgreSQL refuses it
// otherwise), which it now has from the parent too.
func (s *state) inheritChecks(child, parent string, attached bool) {
	src, t := s.tables[parent], s.tables[child]
	if src == nil || t == nil {
		return
	}
	for key, ck := range src.checks {
		if ck.noInherit {
			continue
		}
		if own := t.checks[key]; own != nil {
			s.inheritedOnce(child, own)
			continue
		}
		if !attached {
			t.checks[key] = &check{name: ck.name, cols: slices.Clone(ck.cols), validated: true, expr: ck.expr, parents: 1}
		}
	}
}

// uninheritChecks follows table child taken from below table parent (DETACH PARTITION, ALTER TABLE … NO
// INHERIT): the CHECKs it has from the parent stay, from one parent fewer, and its own once it has
// them from none (PostgreSQL's RemoveInheritance).
func (s *state) uninheritChecks(child, parent string) {
	src, t := s.tables[parent], s.tables[child]
	if src == nil || t == nil {
		return
	}
	for key, ck := range src.checks {
		if own := t.checks[key]; own != nil && !ck.noInherit && own.parents > 0 {
			own.parents--
			own.local = own.local || own.parents == 0
		}
	}
}

// validateCheck follows VALIDATE CONSTRAINT name of table key: the CHECK is valid, and so are the copies
// of the tables below it (a NO INHERIT one has none).
func (s *state) validateCheck(key, name string) {
	if t := s.tables[key]; t != nil && t.checks[name] != nil {
		t.checks[name].validated = true
		if t.checks[name].noInherit {
			return
		}
	}
	for _, k := range s.inheritors(key) {
		if t := s.tables[k]; t != nil && t.checks[name] != nil {
			t.checks[name].validated = true
		}
	}
}

// dropCheck follows DROP CONSTRAINT name of table key (only: ALTER TABLE ONLY). PostgreSQL refuses to
// drop a CHECK the table has from a parent. The children's copies go with it when it is all they have
// them from, and theirs; otherwise they stay, from one parent fewer (with ONLY, as their own).
func (s *state) dropCheck(key, name string, only bool) {
	if t := s.tables[key]; t != nil && t.checks[name] != nil {
		ck := t.checks[name]
		if ck.parents > 0 {
			return
		}
		delete(t.checks, name)
		if ck.noInherit {
			return
		}
	}
	s.dropFromChildren(key, name, only, map[string]bool{key: true})
}

// dropFromChildren drops from the children of table key their copies of its CHECK name, which it no
// longer has, as dropCheck says; path is as addToChildren's.
func (s *state) dropFromChildren(key, name string, only bool, path map[string]bool) {
	for _, child := range s.children(key) {
		t := s.tables[child]
		if t == nil || path[child] || t.checks[name] == nil || t.checks[name].parents == 0 {
			continue
		}
		switch ck := t.checks[name]; {
		case only:
			ck.parents--
			ck.local = true
		case ck.parents == 1 && !ck.local:
			delete(t.checks, name)
			path[child] = true
			s.dropFromChildren(child, name, false, path)
			delete(path, child)
		default:
			ck.parents--
		}
	}
}

// dropColumnChecks follows DROP COLUMN col of table key (only: ALTER TABLE ONLY): the CHECKs that use
// the column go with it, whatever else they use. PostgreSQL drops the column from the tables below
// too, and so their CHECKs on it, where it is inherited only: always in a partition, in an inheritance
// child that does not declare the column (the state knows the columns a table declares; one it has from
// two parents stays as well, which the state does not tell). A child that declares it keeps it, and
// its CHECKs, and so do the tables below it.
func (s *state) dropColumnChecks(key, col string, only bool) {
	dropped := map[string]bool{key: true}
	for queue := []string{key}; len(queue) > 0; queue = queue[1:] {
		if t := s.tables[queue[0]]; t != nil {
			maps.DeleteFunc(t.checks, func(_ string, ck *check) bool { return slices.Contains(ck.cols, col) })
		}
		if only {
			break
		}
		for _, child := range s.children(queue[0]) {
			if t := s.tables[child]; !dropped[child] && (s.partition(child) || t == nil || t.cols[col] == nil) {
				dropped[child] = true
				queue = append(queue, child)
			}
		}
	}
}

// checkName is the name PostgreSQL gives an unnamed CHECK on table rel whose expression uses the
// distinct columns cols: makeObjectName's rel_col_check when it uses one column, else rel_check, its
// label followed by 1, 2, … while used says a constraint has that name.
func checkName(rel string, cols []string, used func(string) bool) string {
	col := ""
	if len(cols) == 1 {
		col = cols[0]
	}
	for pass := 0; ; pass++ {
		label := "check"
		if pass > 0 {
			label += strconv.Itoa(pass)
		}
		if name := makeObjectName(rel, col, label); !used(name) {
			return name
		}
	}
}

// likeTable follows LIKE src in CREATE TABLE tname: the copy has src's columns, NOT NULL included, and
// with INCLUDING CONSTRAINTS its CHECKs under their names, valid (PostgreSQL skips their validation:
// the table is empty).
func (s *state) likeTable(t *table, l *pg_query.TableLikeClause) {
	src := s.known(s.rel(l.Relation))
	if src == nil {
		return
	}
	for name, c := range src.cols {
		if t.cols[name] == nil {
			t.cols[name] = &column{typ: c.typ, mods: slices.Clone(c.mods), notNull: c.notNull}
		}
	}
	if l.Options&likeConstraints == 0 {
		return
	}
	for key, ck := range src.checks {
		t.checks[key] = &check{name: ck.name, cols: slices.Clone(ck.cols), validated: true, expr: ck.expr, local: true, noInherit: ck.noInherit}
	}
}

// likeConstraints is CREATE_TABLE_LIKE_CONSTRAINTS in TableLikeClause.Options, PostgreSQL's bit mask
// (not pg_query's TableLikeOption enum, which numbers the options).
const likeConstraints = 1 << 2

// renameCheck follows RENAME CONSTRAINT old TO nw of table key: a CHECK of that name is known by the
// new one from now on (a later VALIDATE or DROP names it so, and its old name is free for the next
// unnamed CHECK), in the tables below it too (a NO INHERIT one only in key). PostgreSQL refuses to
// rename a CHECK the table has from a parent.
func (s *state) renameCheck(key, old, nw string) {
	if t := s.tables[key]; t != nil && t.checks[old] != nil {
		if ck := t.checks[old]; ck.parents > 0 {
			return
		}
		renamed := t.checks[old]
		s.renameIn(t, old, nw)
		if renamed.noInherit {
			return
		}
	}
	for _, k := range s.inheritors(key) {
		if t := s.tables[k]; t != nil && t.checks[old] != nil {
			s.renameIn(t, old, nw)
		}
	}
}

// renameIn renames table t's CHECK old (its key) to nw.
func (s *state) renameIn(t *table, old, nw string) {
	ck := t.checks[old]
	delete(t.checks, old)
	ck.name = nw
	t.checks[nw] = ck
}
