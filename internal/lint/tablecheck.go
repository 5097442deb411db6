package lint

import (
	"slices"
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// The CHECK constraints of tables, which the state follows by name (VALIDATE, DROP CONSTRAINT) and by
// expression (a validated CHECK proves SET NOT NULL; a type change re-checks them).

// addCheck records CHECK constraint c of table tname, written on the table or on a column, under its
// name: the one it is given, else the one PostgreSQL chooses (ChooseConstraintName), so that a later
// VALIDATE or DROP CONSTRAINT of that name finds it.
func (s *state) addCheck(t *table, tname string, c *pg_query.Constraint) {
	cols := exprColumns(c.RawExpr)
	name := c.Conname
	if name == "" {
		schema, _, _ := strings.Cut(tname, ".")
		name = checkName(bare(tname), slices.Compact(slices.Sorted(slices.Values(cols))), func(n string) bool {
			return s.constraintNamed(schema, n)
		})
	}
	ck := &check{name: name, validated: !c.SkipValidation, cols: cols, expr: c.RawExpr}
	t.checks[strings.ToLower(name)] = ck
	s.addToPartitions(tname, ck)
}

// addToPartitions gives the partitions of table key (theirs too) a copy of its new CHECK ck, as
// PostgreSQL adds it to them (validated, or not, as ck).
func (s *state) addToPartitions(key string, ck *check) {
	for _, part := range s.partitions(key) {
		if pt := s.tables[part]; pt != nil {
			c := *ck
			c.cols, c.inherited = slices.Clone(ck.cols), true
			pt.checks[strings.ToLower(c.name)] = &c
		}
	}
}

// inheritChecks follows partition part of table parent. Created as one (CREATE TABLE … PARTITION OF),
// it gets a valid copy of each of the parent's CHECKs; attached, it must already have one of each name
// (PostgreSQL refuses it otherwise), which becomes inherited.
func (s *state) inheritChecks(part, parent string, attached bool) {
	src, t := s.tables[parent], s.tables[part]
	if src == nil || t == nil {
		return
	}
	for key, ck := range src.checks {
		if own := t.checks[key]; own != nil {
			own.inherited = true
			continue
		}
		if !attached {
			t.checks[key] = &check{name: ck.name, cols: slices.Clone(ck.cols), validated: true, expr: ck.expr, inherited: true}
		}
	}
}

// validateCheck follows VALIDATE CONSTRAINT name of table key: the CHECK is valid, and so are its
// partitions' copies.
func (s *state) validateCheck(key, name string) {
	for _, k := range append([]string{key}, s.partitions(key)...) {
		if t := s.tables[k]; t != nil {
			if ck := t.checks[strings.ToLower(name)]; ck != nil {
				ck.validated = true
			}
		}
	}
}

// dropCheck follows DROP CONSTRAINT name of table key: its partitions' inherited copies go too (a
// partition's own CHECK of that name stays).
func (s *state) dropCheck(key, name string) {
	name = strings.ToLower(name)
	if t := s.tables[key]; t != nil {
		delete(t.checks, name)
	}
	for _, part := range s.partitions(key) {
		if t := s.tables[part]; t != nil && t.checks[name] != nil && t.checks[name].inherited {
			delete(t.checks, name)
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

// constraintNamed tells whether a CHECK of a table of schema has name: ChooseConstraintName looks for
// the names it tries among all the constraints of the table's schema, not just the table's, and
// compares them exactly (a quoted "Orders_check" is not orders_check). The state follows CHECKs only:
// a PRIMARY KEY, UNIQUE, foreign key or domain constraint named as a CHECK would be goes unseen.
func (s *state) constraintNamed(schema, name string) bool {
	for key, t := range s.tables {
		if ts, _, _ := strings.Cut(key, "."); ts != schema {
			continue
		}
		for _, ck := range t.checks {
			if ck.name == name {
				return true
			}
		}
	}
	return false
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
		t.checks[key] = &check{name: ck.name, cols: slices.Clone(ck.cols), validated: true, expr: ck.expr}
	}
}

// likeConstraints is CREATE_TABLE_LIKE_CONSTRAINTS in TableLikeClause.Options, PostgreSQL's bit mask
// (not pg_query's TableLikeOption enum, which numbers the options).
const likeConstraints = 1 << 2

// renameCheck follows RENAME CONSTRAINT old TO nw of table key: a CHECK of that name is known by the
// new one from now on (a later VALIDATE or DROP names it so, and its old name is free for the next
// unnamed CHECK), in its partitions too.
func (s *state) renameCheck(key, old, nw string) {
	for _, k := range append([]string{key}, s.partitions(key)...) {
		if t := s.tables[k]; t != nil {
			if ck := t.checks[strings.ToLower(old)]; ck != nil {
				delete(t.checks, strings.ToLower(old))
				ck.name = nw
				t.checks[strings.ToLower(nw)] = ck
			}
		}
	}
}
