package lint

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// The constraints other than tables' CHECKs, which the state follows by name only: the PRIMARY KEY,
// UNIQUE, EXCLUDE and FOREIGN KEY constraints of tables, and the CHECKs of domains. ChooseConstraintName
// skips every name pg_constraint has in the schema when it names an unnamed CHECK, of a table or of a
// domain, so theirs decide the name such a CHECK gets, and so which CHECK a later DROP or VALIDATE
// CONSTRAINT of that name reaches. The names PostgreSQL chooses for the others end in _pkey, _key,
// _excl or _fkey (and a number), never in a CHECK's _check: only the names they are given count.

// keyConstraint is a table's PRIMARY KEY, UNIQUE, EXCLUDE or FOREIGN KEY constraint with a name it was
// given, or a FOREIGN KEY without one.
type keyConstraint struct {
	name string   // as PostgreSQL knows it, and the key
	cols []string // the table's columns it uses: DROP COLUMN drops it with any of them
	// ref is a foreign key's referenced table, which goes only with its foreign keys (DROP … CASCADE).
	ref string
	// refCols are a foreign key's referenced columns as written, none for the referenced table's
	// primary key.
	refCols []string
	// indexed says an index of the constraint's name backs it (not a foreign key): renaming the index
	// renames the constraint.
	indexed bool
}

// addKeyConstraint records constraint c (not a CHECK) of table t (key tname) when it has a name: the
// one given, else with USING INDEX the index's, which it takes. col is the column a column constraint
// is written on ("" for a table constraint).
func (s *state) addKeyConstraint(t *table, tname string, c *pg_query.Constraint, col string) {
	name := c.Conname
	if name == "" {
		name = c.Indexname
	}
	if name == "" && c.Contype == pg_query.ConstrType_CONSTR_FOREIGN {
		// A foreign key is kept without a name too: a type change of its columns, on either side,
		// drops and adds it again, which locks the other table (see alterType).
		name = s.foreignKeyName(tname, col, colNames(c.FkAttrs))
	}
	if name == "" {
		return
	}
	kc := &keyConstraint{name: name, indexed: c.Contype != pg_query.ConstrType_CONSTR_FOREIGN}
	switch {
	case col != "":
		kc.cols = []string{col}
	case c.Indexname != "":
		kc.cols = slices.Clone(s.indexCols[sibling(tname, c.Indexname)])
	default:
		kc.cols = append(append(colNames(c.Keys), colNames(c.Including)...), colNames(c.FkAttrs)...)
		for _, e := range c.Exclusions { // (element, operator) pairs: the element's column or expression
			if ie := e.GetList().GetItems(); len(ie) > 0 {
				if el := ie[0].GetIndexElem(); el != nil && el.Name != "" {
					kc.cols = append(kc.cols, el.Name)
				} else {
					kc.cols = append(kc.cols, exprColumns(ie[0])...)
				}
			}
		}
		kc.cols = append(kc.cols, exprColumns(c.WhereClause)...)
	}
	if c.Contype == pg_query.ConstrType_CONSTR_FOREIGN {
		kc.ref = s.rel(c.Pktable)
		kc.refCols = colNames(c.PkAttrs)
	}
	if t.constraints == nil {
		t.constraints = map[string]*keyConstraint{}
	}
	t.constraints[name] = kc
	if kc.ref != "" {
		s.refBy.add(kc.ref, tname)
	}
	s.conNamed.add(constraintKey(keySchema(tname), name), tname)
}

// foreignKeyName is the name PostgreSQL gives an unnamed foreign key of table tname over column col (a
// column constraint) or cols: ChooseConstraintName's <table>_<columns>_fkey, then fkey1, fkey2 … while
// a key constraint of the schema has it (the CHECKs, which could have it too, are not looked at: a
// CHECK named as a foreign key would be is rare, and walking every table's made lint quadratic).
func (s *state) foreignKeyName(tname, col string, cols []string) string {
	if col != "" {
		cols = []string{col}
	}
	schema := keySchema(tname)
	for pass := 0; ; pass++ {
		label := "fkey"
		if pass > 0 {
			label += strconv.Itoa(pass)
		}
		if name := makeObjectName(bare(tname), strings.Join(cols, "_"), label); len(s.constraintTables(schema, name)) == 0 {
			return name
		}
	}
}

// foreignKeyPartners are the tables, other than table key and not new to the change, that a foreign key
// over its column col joins it to, with the key's name: those it references, and those whose foreign
// key references col (named, or as the primary key: a unique key of col alone, as the state knows
// keys). A type change of col drops and adds such a key again.
func (s *state) foreignKeyPartners(key, col string) map[string]string {
	out := map[string]string{}
	if t := s.tables[key]; t != nil {
		for _, kc := range t.constraints {
			if kc.ref != "" && kc.ref != key && slices.Contains(kc.cols, col) && !s.isNew(kc.ref) {
				out[kc.ref] = kc.name
			}
		}
	}
	t := s.tables[key]
	for _, other := range s.referencing(key) {
		if other == key || s.isNew(other) {
			continue
		}
		for _, kc := range s.tables[other].constraints {
			if kc.ref != key {
				continue
			}
			if slices.Contains(kc.refCols, col) || len(kc.refCols) == 0 && t != nil && slices.ContainsFunc(t.uniques, func(u []string) bool { return len(u) == 1 && u[0] == col }) {
				out[other] = kc.name
			}
		}
	}
	return out
}

// constraintTables lists the tables of schema with a key constraint named name.
func (s *state) constraintTables(schema, name string) []string {
	return s.conNamed.lookup(constraintKey(schema, name), func(key string) bool {
		t := s.tables[key]
		return t != nil && keySchema(key) == schema && t.constraints[name] != nil
	})
}

// constraintKey is where conNamed lists the tables of schema with a key constraint named name.
func constraintKey(schema, name string) string { return schema + "\x00" + name }

// dropConstraint follows DROP CONSTRAINT name of table key (only: ALTER TABLE ONLY).
func (s *state) dropConstraint(key, name string, only bool) {
	s.dropCheck(key, name, only)
	if t := s.tables[key]; t != nil {
		delete(t.constraints, name)
	}
}

// renameConstraint follows RENAME CONSTRAINT old TO nw of table key.
func (s *state) renameConstraint(key, old, nw string) {
	s.renameCheck(key, old, nw)
	if t := s.tables[key]; t != nil {
		if kc := t.constraints[old]; kc != nil {
			delete(t.constraints, old)
			kc.name = nw
			t.constraints[nw] = kc
			s.conNamed.add(constraintKey(keySchema(key), nw), key)
		}
	}
}

// renameConstraintIndex follows relation old renamed to nw: when it is the index of a constraint, the
// constraint takes its new name (PostgreSQL's RenameRelationInternal). An index's name is unique in its
// schema, so at most one constraint of the schema is named after it.
func (s *state) renameConstraintIndex(old, nw string) {
	schema, name := keySchema(old), bare(old)
	for _, key := range s.constraintTables(schema, name) {
		if kc := s.tables[key].constraints[name]; kc.indexed && kc.name == name {
			s.renameConstraint(key, name, bare(nw))
			return
		}
	}
}

// dropColumnConstraints drops the constraints of table t that use column col.
func dropColumnConstraints(t *table, col string) {
	maps.DeleteFunc(t.constraints, func(_ string, kc *keyConstraint) bool { return slices.Contains(kc.cols, col) })
}

// addDomainCheck records CHECK c of domain key under its name: the one it is given, else the one
// ChooseConstraintName gives it (<domain>_check, then a number).
func (s *state) addDomainCheck(key string, c *pg_query.Constraint) {
	name := c.Conname
	if name == "" {
		schema := keySchema(key)
		name = checkName(bare(key), nil, func(n string) bool { return s.constraintNamed(schema, n) })
	}
	s.domainChecks[key] = append(s.domainChecks[key], name)
}

// dropDomainCheck follows ALTER DOMAIN key DROP CONSTRAINT name.
func (s *state) dropDomainCheck(key, name string) {
	s.domainChecks[key] = slices.DeleteFunc(s.domainChecks[key], func(n string) bool { return n == name })
}

// renameDomainCheck follows ALTER DOMAIN key RENAME CONSTRAINT old TO nw.
func (s *state) renameDomainCheck(key, old, nw string) {
	if i := slices.Index(s.domainChecks[key], old); i >= 0 {
		s.domainChecks[key][i] = nw
	}
}

// constraintNamed tells whether a constraint of schema has name: ChooseConstraintName looks for the
// names it tries among all the constraints of the schema (pg_constraint's conname and connamespace):
// the CHECKs of its tables, their other constraints with a given name, the CHECKs of its domains (a
// domain's NOT NULL has no row on PostgreSQL 15); not among indexes. It compares them exactly (a quoted
// "Orders_check" is not orders_check).
func (s *state) constraintNamed(schema, name string) bool {
	for key, t := range s.tables {
		if keySchema(key) != schema {
			continue
		}
		for _, ck := range t.checks {
			if ck.name == name {
				return true
			}
		}
		for _, kc := range t.constraints {
			if kc.name == name {
				return true
			}
		}
	}
	for key, names := range s.domainChecks {
		if keySchema(key) == schema && slices.Contains(names, name) {
			return true
		}
	}
	return false
}
