package lint

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/schemagate/schemagate/internal/sqlparse"
)

// state is what the analysis knows about the database: objects of Config.Schema (pre-existing) and
// objects the migration, or an earlier new migration of the change, created so far (exempt from lock
// rules). Relations, indexes, types and
// domains are keyed by their schema-qualified name as PostgreSQL resolves it ("public.users"): the
// parser already folds unquoted identifiers to lower case and keeps quoted ones, and an unqualified
// name means the first schema of the search path. Schemas are keyed by their bare name.
type state struct {
	created map[string]bool // relations, indexes, types and schemas created in this migration
	// change are the objects earlier new migrations of the same change created (Config.ChangeCreated,
	// or earlier migrations of a Sequence), by key, to the id of the migration that created each: the
	// change's new migrations deploy together, before the application that uses what they create, so
	// their locks hold up no one's queries (see isNew). What holds only within the transaction that
	// created an object (ALTER TYPE … ADD VALUE of a type created in it) does not hold for them.
	change map[string]string
	exists map[string]bool // relations, indexes, types and schemas the state knows to exist (see know)
	// bareExists counts the keys of exists by bare name, for absent's unqualified names.
	bareExists map[string]int
	// complete says the state describes every object the migration names (Config.Schema was given, or
	// earlier migrations of a folder built it): an object it does not know does not exist. Otherwise an
	// object it does not know may exist.
	complete bool
	tables   map[string]*table
	domains  map[string]bool // domains with CHECK / NOT NULL constraints
	// domainChecks are the names of the CHECKs of domains, by domain key (see constraintNamed).
	domainChecks map[string][]string
	// domainBase is the base type of each domain, through the domains it is over.
	domainBase map[string]*pg_query.TypeName
	// domainDefaults are the DEFAULT expressions of domains, their own or their base domain's: a
	// column of the domain added without a DEFAULT of its own gets it.
	domainDefaults map[string]*pg_query.Node
	// viewCols maps each view and materialized view to the columns it uses, by table key: PostgreSQL
	// refuses to change the type of such a column, or to drop it without CASCADE, while the view exists.
	viewCols map[string]map[string][]string
	// viewOut maps each view to its output columns, in order (see viewOutput): a CREATE OR REPLACE VIEW
	// may only add columns at the end.
	viewOut   map[string][]string
	indexCols map[string][]string // index -> key columns
	// usingRefused says, for an index in indexCols, why ADD CONSTRAINT … USING INDEX of it fails, in
	// PostgreSQL's words ("" for none; see usingIndexRefusal).
	usingRefused map[string]string
	indexTable   map[string]string   // index -> its table, for the indexes in indexCols
	partitioned  map[string][]string // partitioned table -> partition key columns
	// boundable are the partitioned tables whose partition bounds a CHECK on the key columns can imply:
	// partitioned by RANGE or LIST on plain columns (not on expressions, not by HASH).
	boundable   map[string]bool
	defaultPart map[string]string // partitioned table -> its DEFAULT partition
	partOf      map[string]string // partition -> its partitioned table
	// inherits maps each table created with INHERITS, or given a parent by ALTER TABLE … INHERIT, to its
	// parents (not its partitioned table: see partOf). PostgreSQL carries a RENAME COLUMN to these
	// children as to partitions, and gives them their parents' CHECKs.
	inherits map[string][]string
	schema   string // the first schema of the search path
	// kinds is the relkind (pg_class.relkind: r, p, v, m, S, f, i) of each relation the state knows
	// the kind of, by key: what messages call it, whatever the statement that names it says (ALTER
	// TABLE also takes a view or a sequence).
	kinds map[string]string
	// filled names, by key, the statement that created each table with rows in it (CREATE TABLE … AS,
	// SELECT … INTO, without WITH NO DATA): new to the change, but not empty, so a foreign key added to
	// it reads every row while it locks the referenced table.
	filled map[string]string
	// owned maps each sequence known to be owned by a column (serial, identity, OWNED BY) to that
	// column, "table key.column": PostgreSQL refuses to move such a sequence to another schema, and
	// drops it with its column.
	owned map[string]string
	// ownedBy, indexesOf, viewUsers, exprIxOf and refBy index owned, indexTable, viewCols, the tables'
	// exprIndexes and their foreign keys' references by what they name (see refIndex).
	ownedBy, indexesOf, viewUsers, exprIxOf, refBy refIndex
	// conNamed indexes the tables' key constraints by schema and name (see constraintKey).
	conNamed refIndex
	// childIx indexes partOf and inherits by parent: a table's partitions and inheritance children.
	childIx refIndex

	// What absent needs to tell that an object does not exist (with complete):
	//
	// gone are the objects the migration being judged dropped, renamed or moved to another schema, each
	// with what says which ("drops it", "renames it", "moves it to another schema").
	gone map[string]string
	// temps are the keys of s.exists in the temporary schema (keySchema is tempSchema), kept by know:
	// forgetTemp runs after every migration, and walking every key the history made there made lint
	// quadratic in its length.
	temps map[string]bool
	// autoNames are the indexes whose name PostgreSQL chose (CREATE INDEX without a name, an unnamed
	// PRIMARY KEY / UNIQUE / EXCLUDE, LIKE … INCLUDING INDEXES, the indexes a partition gets from its
	// parent), as far as the state can tell how (see autoIndex): by table key, which a DROP or a move of
	// the table reads, and by autoPrefix of the name it had, which autoOwners reads for every name that
	// may be such an index (each is in both; walking them all there and for each DROP made lint
	// quadratic in the history's length).
	autoNames    map[string]map[autoName]bool
	autoByPrefix map[string]map[autoName]bool
	// unmodeled are the lower-cased words of statements that may create objects the state does not
	// follow: DO blocks and function bodies that build no SQL at run time, statements that do not parse.
	// A name among them may exist (see noteUnmodeled).
	unmodeled map[string]bool
	// functions are the functions the history defines: name -> whether its body may build SQL at run
	// time (EXECUTE) or call other code.
	functions map[string]bool
	// userFuncs are the functions the history defines, by name, each overload by its key (funcKey):
	// what a DEFAULT calling one makes of ADD COLUMN (see defaultVolatility).
	userFuncs map[string]map[string]*userFunc
	// routines are the functions (not procedures) the history defines, by key (funcKey), with their bodies:
	// what the columns a body names, which PostgreSQL does not track, make of DROP COLUMN (see trigger.go).
	routines map[string]*routine
	// naming and colUsers index routines for each DROP and RENAME COLUMN, which would otherwise read
	// every function of the history (see indexRoutine): the routines whose body names name.col (in
	// routine.refs), and those whose routine.cols has a table's key.
	naming   map[dotted]map[*routine]bool
	colUsers map[string]map[*routine]bool
	// funcUsers are the indexes, stored generated columns, CHECK and exclusion constraints and partition
	// keys whose expressions call functions, by an id of the object ("i:" and the index's key, "g:" and
	// the column's, "c:", "x:" or "p:" and the table's …), and usersOf indexes them by the functions'
	// names: what CREATE OR REPLACE FUNCTION leaves stale (see funcusers.go).
	funcUsers map[string]*funcUser
	usersOf   refIndex
	// unnamedUsers numbers the ids of the indexes and exclusion constraints PostgreSQL names.
	unnamedUsers int
	// triggers are the triggers the history creates, by table key, then by name.
	triggers map[string]map[string]*trigger
	// opaque says code ran whose effect cannot be told from any text the state saw (a DO block or a
	// function that builds SQL at run time, a function the history does not define, a table moved to
	// another schema with its indexes): any object may exist.
	opaque bool
}

type table struct {
	cols    map[string]*column
	indexes [][]string // key columns of each non-partial index
	uniques [][]string // key columns of the primary key and each unique index or constraint
	checks  map[string]*check
	// exprIndexes maps each index whose expressions or predicate use columns (by key; "" for one whose
	// name PostgreSQL chose) to those columns: PostgreSQL rebuilds such an index on any type change of
	// them, even a binary-coercible one, where it keeps the storage of other indexes.
	exprIndexes map[string][]string
	// constraints are the PRIMARY KEY, UNIQUE, EXCLUDE and FOREIGN KEY constraints with a given name, by
	// name as PostgreSQL knows it: an unnamed CHECK's name skips theirs (see constraintNamed).
	constraints map[string]*keyConstraint
}

type column struct {
	typ     string
	mods    []int
	notNull bool
}

type check struct {
	name      string // as PostgreSQL knows it, and the key
	cols      []string
	validated bool
	expr      *pg_query.Node // the CHECK's expression
	// local and parents are PostgreSQL's conislocal and coninhcount: whether the table declares the CHECK,
	// and from how many parents it has it (a partition's copy of its partitioned table's CHECK is not local,
	// from one). A DROP CONSTRAINT on a parent drops a child's copy when that parent is all it has it from.
	local   bool
	parents int
	// noInherit is NO INHERIT: the tables below do not get the CHECK.
	noInherit bool
}

// defaultSchema is the first schema of PostgreSQL's default search path ("$user", public) when no
// schema is named after the user.
const defaultSchema = "public"

func newState() *state {
	return &state{created: map[string]bool{}, change: map[string]string{}, exists: map[string]bool{}, bareExists: map[string]int{}, unmodeled: map[string]bool{}, tables: map[string]*table{}, domains: map[string]bool{}, domainChecks: map[string][]string{}, domainDefaults: map[string]*pg_query.Node{}, domainBase: map[string]*pg_query.TypeName{}, viewCols: map[string]map[string][]string{}, viewOut: map[string][]string{}, indexCols: map[string][]string{}, usingRefused: map[string]string{},
		indexTable: map[string]string{}, partitioned: map[string][]string{}, boundable: map[string]bool{}, defaultPart: map[string]string{}, partOf: map[string]string{},
		inherits: map[string][]string{}, schema: defaultSchema,
		kinds: map[string]string{}, filled: map[string]string{}, owned: map[string]string{},
		ownedBy: refIndex{}, indexesOf: refIndex{}, viewUsers: refIndex{}, exprIxOf: refIndex{}, refBy: refIndex{}, conNamed: refIndex{}, childIx: refIndex{},
		gone: map[string]string{}, temps: map[string]bool{}, autoNames: map[string]map[autoName]bool{}, autoByPrefix: map[string]map[autoName]bool{}, functions: map[string]bool{}, userFuncs: map[string]map[string]*userFunc{},
		routines: map[string]*routine{}, naming: map[dotted]map[*routine]bool{}, colUsers: map[string]map[*routine]bool{}, triggers: map[string]map[string]*trigger{},
		funcUsers: map[string]*funcUser{}, usersOf: refIndex{}}
}

func (s *state) table(name string) *table {
	t := s.tables[name]
	if t == nil {
		t = &table{cols: map[string]*column{}, checks: map[string]*check{}}
		s.tables[name] = t
	}
	return t
}

// creates records that a statement creates object name, and whether it is new: a CREATE without IF
// NOT EXISTS fails unless it is; with IF NOT EXISTS it is new only when the state is complete and
// does not know it (or the migration created it earlier). created says the statement belongs to the
// migration being judged (not to Config.Schema or an earlier migration).
func (s *state) creates(name string, ifNotExists, created bool) bool {
	isNew := !ifNotExists || s.isNew(name) || s.complete && !s.exists[name]
	s.know(name, true)
	delete(s.gone, name)
	if created && isNew {
		s.created[name] = true
	}
	return isNew
}

// createsRel is creates for a relation of relkind kind, which it records when the relation is new.
func (s *state) createsRel(name, kind string, ifNotExists, created bool) bool {
	isNew := s.creates(name, ifNotExists, created)
	if isNew {
		s.kinds[name] = kind
	}
	return isNew
}

// isNew tells whether object key is new to the change: the migration being judged created it, or an
// earlier new migration of the change did (see change). The lock and rewrite rules let such objects be.
func (s *state) isNew(key string) bool {
	if s.created[key] {
		return true
	}
	_, ok := s.change[key]
	return ok
}

// drops forgets a dropped object and what goes with it, and returns their keys: a table's indexes, the
// sequences its columns own, its partitions (PostgreSQL drops a partitioned table with them), and what
// only DROP … CASCADE drops with it (the DROP fails otherwise, and the deploy stops): its inheritance
// children and the views that use its columns.
func (s *state) drops(name string) []string {
	delete(s.created, name)
	delete(s.change, name)
	s.know(name, false)
	delete(s.tables, name)
	delete(s.indexCols, name)
	delete(s.usingRefused, name)
	delete(s.indexTable, name)
	delete(s.viewCols, name)
	delete(s.viewOut, name)
	delete(s.triggers, name) // a table's triggers go with it
	for r := range s.colUsers[name] {
		delete(r.cols, name) // a table of that name made later is another table
	}
	delete(s.colUsers, name)
	// It leaves its parents first, so that no table below it finds it below itself again (two tables
	// attached to or inheriting from each other, which PostgreSQL refuses: see inheritors).
	delete(s.partOf, name)
	delete(s.inherits, name)
	for _, tkey := range s.exprIndexTables(name) {
		delete(s.tables[tkey].exprIndexes, name)
	}
	delete(s.partitioned, name)
	delete(s.boundable, name)
	delete(s.defaultPart, name)
	maps.DeleteFunc(s.defaultPart, func(_, part string) bool { return part == name })
	delete(s.kinds, name)
	delete(s.filled, name)
	delete(s.domains, name)
	delete(s.domainDefaults, name)
	delete(s.domainBase, name)
	delete(s.domainChecks, name)
	for _, tkey := range s.referencing(name) {
		// The foreign keys that reference a table go with it: PostgreSQL drops a referenced table only
		// with CASCADE.
		maps.DeleteFunc(s.tables[tkey].constraints, func(_ string, kc *keyConstraint) bool { return kc.ref == name })
	}
	delete(s.owned, name)
	for n := range s.autoNames[name] {
		s.forgetAutoName(n)
	}
	along := s.children(name)
	along = append(along, s.ownedSeqs(name)...)
	along = append(along, s.indexesOn(name)...)
	along = append(along, s.viewsOf(name)...)
	dropped := []string{name}
	for _, k := range along {
		dropped = append(dropped, s.drops(k)...)
	}
	return dropped
}

// know records whether object key exists.
func (s *state) know(key string, exists bool) {
	switch {
	case exists && !s.exists[key]:
		s.exists[key] = true
		s.bareExists[bare(key)]++
		// A key whose schema is pg_temp holds those bytes, quoted or not: most keys skip cutting it.
		if strings.Contains(key, tempSchema) && keySchema(key) == tempSchema {
			s.temps[key] = true
		}
	case !exists && s.exists[key]:
		delete(s.exists, key)
		delete(s.temps, key)
		s.bareExists[bare(key)]--
	}
}

// noteUnmodeled records the words of a statement whose effect the state does not follow: an object it
// names may exist. The words are identifiers as the text writes them, lower-cased (a quoted "Users"
// counts as users: the state can only err towards "may exist").
func (s *state) noteUnmodeled(sql string) {
	for _, w := range strings.FieldsFunc(strings.ToLower(sql), func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '$')
	}) {
		s.unmodeled[w] = true
	}
}

// mentioned tells whether the statements the state does not follow name name: every word of it is
// among theirs.
func (s *state) mentioned(name string) bool {
	words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '$')
	})
	for _, w := range words {
		if !s.unmodeled[w] {
			return false
		}
	}
	return len(words) > 0
}

// absent tells whether the state knows that no relation (table, view, index …) by the name of key
// exists, so that DROP … IF EXISTS or ALTER … IF EXISTS of it does nothing: no relation by that name
// may exist but for the indexes PostgreSQL named (see unknown), and PostgreSQL named none so.
func (s *state) absent(key string, qualified bool) bool {
	return s.unknown(key, qualified) && len(s.autoOwners(key, qualified)) == 0
}

// unknown tells whether no relation by the name of key may exist but an index PostgreSQL named (see
// autoOwners): the state describes the whole history (complete), no code ran whose effect it cannot
// see (opaque), and no relation by that name is known, nor text it cannot follow names it.
// qualified says the statement names the schema; an unqualified name is unknown only when no schema
// has it (the search path may reach schemas after the first, and temporary tables come before it).
func (s *state) unknown(key string, qualified bool) bool {
	if !s.complete || s.opaque || key == "" || s.exists[key] {
		return false
	}
	name := bare(key)
	if s.mentioned(name) {
		return false
	}
	return qualified || s.bareExists[name] == 0
}

// lacksUniqueIndex tells whether materialized view key is known to have no unique index on plain
// columns without a predicate, which REFRESH … CONCURRENTLY needs (PostgreSQL: "cannot refresh
// materialized view concurrently"). Any doubt (a partial history, code the state cannot follow, a
// statement naming the view it did not model) says no.
func (s *state) lacksUniqueIndex(key string) bool {
	if !s.complete || s.opaque || s.kinds[key] != "m" || s.mentioned(bare(key)) {
		return false
	}
	if t := s.known(key); t != nil {
		for _, u := range t.uniques {
			if len(u) > 0 && !slices.Contains(u, "") {
				return false
			}
		}
	}
	return true
}

// known returns the table when the schema or the migration described it.
func (s *state) known(name string) *table { return s.tables[name] }

// rel is the key of a relation: schema.name, the schema from the search path when the name has none.
func (s *state) rel(rv *pg_query.RangeVar) string {
	if rv == nil {
		return ""
	}
	if rv.Schemaname == "" && rv.Relpersistence == "t" {
		return relKey(tempSchema, rv.Relname)
	}
	if rv.Schemaname != "" {
		return relKey(rv.Schemaname, rv.Relname)
	}
	return s.unqualified(rv.Relname)
}

// tempSchema is the schema the state keys temporary relations by: the session's own pg_temp_N.
const tempSchema = "pg_temp"

// unqualified is the key of the relation an unqualified name finds: a temporary relation of the
// migration (CREATE TEMP TABLE earlier in it, not dropped since), as pg_temp comes first in the search
// path for relations, else the first schema of the search path.
func (s *state) unqualified(name string) string {
	if key := relKey(tempSchema, name); s.exists[key] {
		return key
	}
	return relKey(s.schema, name)
}

// forgetTemp forgets the temporary relations: a migration runs in a session of its own, where those of
// an earlier one (or of the schema) do not exist.
func (s *state) forgetTemp() {
	for key := range s.temps {
		if s.exists[key] { // drops may have dropped it with an earlier one
			s.drops(key)
		}
	}
}

// constrainedDomain tells whether type t is a domain with CHECK or NOT NULL constraints of its own or of
// a domain it is based on. An array of such a domain is not one: its elements are not checked when a
// column of it is added.
func (s *state) constrainedDomain(t *pg_query.TypeName) bool {
	return t != nil && len(t.ArrayBounds) == 0 && s.domains[s.qual(t.Names)]
}

// usedColumns lists the columns of known tables that a view's query uses, by table key: a column
// qualified by its table or alias, an unqualified one that exactly one table of the query has, and
// every column known at that point for * (PostgreSQL expands it when the view is created).
func (s *state) usedColumns(query *pg_query.Node) map[string][]string {
	tables := map[string]string{} // alias or name -> key
	walk(query, func(m proto.Message) {
		if rv, ok := m.(*pg_query.RangeVar); ok && s.known(s.rel(rv)) != nil {
			name := rv.Relname
			if rv.Alias != nil && rv.Alias.Aliasname != "" {
				name = rv.Alias.Aliasname
			}
			tables[name] = s.rel(rv)
		}
	})
	used := map[string][]string{}
	use := func(key, col string) {
		t := s.known(key)
		if t == nil {
			return
		}
		if col == "*" {
			for _, c := range slices.Sorted(maps.Keys(t.cols)) {
				used[key] = append(used[key], c)
			}
			return
		}
		if t.cols[col] != nil && !slices.Contains(used[key], col) {
			used[key] = append(used[key], col)
		}
	}
	walk(query, func(m proto.Message) {
		cr, ok := m.(*pg_query.ColumnRef)
		if !ok || len(cr.Fields) == 0 {
			return
		}
		col := "*"
		if last := cr.Fields[len(cr.Fields)-1].GetString_(); last != nil {
			col = last.Sval
		}
		if len(cr.Fields) >= 2 {
			if key, ok := tables[cr.Fields[len(cr.Fields)-2].GetString_().GetSval()]; ok {
				use(key, col)
			}
			return
		}
		var having []string
		for _, key := range tables {
			if t := s.known(key); col == "*" || t.cols[col] != nil {
				having = append(having, key)
			}
		}
		if col == "*" || len(having) == 1 {
			for _, key := range having {
				use(key, col)
			}
		}
	})
	return used
}

// partitionColumnFailure says why PostgreSQL refuses to add or drop a column of relation rv (key is its
// state key): it is a partition, whose columns are its partitioned table's, or ONLY names a partitioned
// table that has partitions, which must get the change too. "" when neither is known.
func (s *state) partitionColumnFailure(rv *pg_query.RangeVar, key string) string {
	if parent, ok := s.partOf[key]; ok {
		return fmt.Sprintf("%s is a partition of %s, and PostgreSQL changes a partition's columns only through its partitioned table", bare(key), bare(parent))
	}
	if _, partitioned := s.partitioned[key]; partitioned && !rv.GetInh() && s.hasPartitions(key) {
		return fmt.Sprintf("ALTER TABLE ONLY %s leaves out its partitions, and PostgreSQL changes a partitioned table's columns only together with them", bare(key))
	}
	return ""
}

// viewsUsing lists the keys of the views and materialized views known to use column col of table key.
func (s *state) viewsUsing(key, col string) []string {
	var views []string
	for _, v := range s.viewsOf(key) {
		if slices.Contains(s.viewCols[v][key], col) {
			views = append(views, v)
		}
	}
	return views
}

// domainDefault is the DEFAULT a column of type t gets from its domain, nil when t is no domain with
// one (or an array of one).
func (s *state) domainDefault(t *pg_query.TypeName) *pg_query.Node {
	if t == nil || len(t.ArrayBounds) > 0 {
		return nil
	}
	return s.domainDefaults[s.qual(t.Names)]
}

// qual is the key of an object named by a name list (types, domains, indexes in DROP): the last two
// elements, or the last element as an unqualified name finds it (see unqualified).
func (s *state) qual(nodes []*pg_query.Node) string {
	switch len(nodes) {
	case 0:
		return ""
	case 1:
		return s.unqualified(nodes[0].GetString_().GetSval())
	}
	return relKey(nodes[len(nodes)-2].GetString_().GetSval(), nodes[len(nodes)-1].GetString_().GetSval())
}

// sibling is the key of an object that lives in the schema of the relation key rel (an index, a table
// renamed in place).
func sibling(rel, name string) string { return relKey(keySchema(rel), name) }

// relName is a relation's name as the statement writes it, for messages: unquoted, in the letter
// case PostgreSQL knows it by.
func relName(rv *pg_query.RangeVar) string {
	if rv == nil {
		return ""
	}
	if rv.Schemaname != "" {
		return rv.Schemaname + "." + rv.Relname
	}
	return rv.Relname
}

// relIdent is a relation's name as the statement writes it, for SQL: each part quoted when it needs to be.
func relIdent(rv *pg_query.RangeVar) string {
	if rv == nil {
		return ""
	}
	if rv.Schemaname != "" {
		return quoteIdent(rv.Schemaname) + "." + quoteIdent(rv.Relname)
	}
	return quoteIdent(rv.Relname)
}

// quoteIdent writes a name for SQL as PostgreSQL's quote_ident does: as is when it is a lower-case
// identifier (a-z, 0-9, _, not starting with a digit) and no keyword other than an unreserved one,
// in double quotes otherwise. Messages name objects unquoted; the SQL of a suggestion must quote.
func quoteIdent(name string) string {
	if plainIdent(name) {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

func plainIdent(name string) bool {
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	res, err := pg_query.Scan(name)
	if err != nil || len(res.Tokens) != 1 {
		return false
	}
	k := res.Tokens[0].KeywordKind
	return k == pg_query.KeywordKind_NO_KEYWORD || k == pg_query.KeywordKind_UNRESERVED_KEYWORD
}

// setSearchPath follows SET search_path: the first schema it names (skipping "$user", which names
// no schema in a migration database) resolves unqualified names from now on.
func (s *state) setSearchPath(v *pg_query.VariableSetStmt) {
	if !strings.EqualFold(v.Name, "search_path") {
		return
	}
	switch v.Kind {
	case pg_query.VariableSetKind_VAR_SET_VALUE:
		for _, a := range v.Args {
			for _, p := range strings.Split(a.GetAConst().GetSval().GetSval(), ",") {
				if p = strings.TrimSpace(p); p != "" && p != "$user" && p != `"$user"` {
					s.schema = p
					return
				}
			}
		}
	case pg_query.VariableSetKind_VAR_SET_DEFAULT, pg_query.VariableSetKind_VAR_RESET, pg_query.VariableSetKind_VAR_RESET_ALL:
		s.schema = defaultSchema
	}
}

// lastName returns the last element of a name list (schema.name -> name), as PostgreSQL knows it:
// the parser has already folded unquoted names to lower case, and a quoted "Name" is another name
// than name.
func lastName(nodes []*pg_query.Node) string {
	if len(nodes) == 0 {
		return ""
	}
	return nodes[len(nodes)-1].GetString_().GetSval()
}

// typeName returns a type's canonical last name (int4, varchar, timestamp …) and its integer modifiers.
func typeName(t *pg_query.TypeName) (string, []int) {
	if t == nil {
		return "", nil
	}
	name := lastName(t.Names)
	var mods []int
	for _, m := range t.Typmods {
		if c := m.GetAConst(); c != nil && c.GetIval() != nil {
			mods = append(mods, int(c.GetIval().Ival))
		}
	}
	if len(t.ArrayBounds) > 0 {
		name += "[]"
	}
	return name, mods
}

func colNames(nodes []*pg_query.Node) []string {
	out := make([]string, 0, len(nodes))
	for _, n := range nodes {
		if s := n.GetString_(); s != nil {
			out = append(out, s.Sval)
		} else if e := n.GetIndexElem(); e != nil {
			out = append(out, e.Name)
		}
	}
	return out
}

// learnStatement updates the state with what a statement creates or changes, noting what it cannot
// follow (see absent). created says the statement belongs to the migration being judged.
func (s *state) learnStatement(st *sqlparse.Statement, created bool) {
	n := st.Node
	if n == nil {
		if st.Err != nil {
			s.noteUnmodeled(st.SQL) // it may create anything it names
		}
		return
	}
	switch {
	case n.GetDoStmt() != nil:
		s.runs(st.SQL)
	case n.GetCreateFunctionStmt() != nil:
		// Its body runs when it is called (or fires as a trigger): what it names may exist from then on.
		s.functions[lastName(n.GetCreateFunctionStmt().Funcname)] = dynamicCode(st.SQL)
		s.defineFunction(n.GetCreateFunctionStmt())
		s.defineRoutine(n.GetCreateFunctionStmt())
	case n.GetAlterFunctionStmt() != nil:
		s.alterFunction(n.GetAlterFunctionStmt())
	case n.GetDropStmt() != nil && n.GetDropStmt().RemoveType == pg_query.ObjectType_OBJECT_FUNCTION:
		for _, o := range n.GetDropStmt().Objects {
			s.dropFunctionUsers(o.GetObjectWithArgs())
			s.forgetFunction(o.GetObjectWithArgs())
			s.dropRoutines(o.GetObjectWithArgs())
		}
	case n.GetRenameStmt() != nil && n.GetRenameStmt().RenameType == pg_query.ObjectType_OBJECT_FUNCTION:
		s.forgetFunction(n.GetRenameStmt().Object.GetObjectWithArgs())
		s.moveRoutines(n.GetRenameStmt().Object.GetObjectWithArgs(), "", n.GetRenameStmt().Newname)
		s.noteUnmodeled(st.SQL)
	case n.GetAlterObjectSchemaStmt() != nil && n.GetAlterObjectSchemaStmt().ObjectType == pg_query.ObjectType_OBJECT_FUNCTION:
		s.moveRoutines(n.GetAlterObjectSchemaStmt().Object.GetObjectWithArgs(), n.GetAlterObjectSchemaStmt().Newschema, "")
	case n.GetCreateTrigStmt() != nil:
		s.createTrigger(n.GetCreateTrigStmt())
	case n.GetDropStmt() != nil && n.GetDropStmt().RemoveType == pg_query.ObjectType_OBJECT_TRIGGER:
		for _, o := range n.GetDropStmt().Objects {
			s.dropTrigger(o.GetList().GetItems())
		}
	case n.GetRenameStmt() != nil && n.GetRenameStmt().RenameType == pg_query.ObjectType_OBJECT_TRIGGER:
		r := n.GetRenameStmt()
		if ts := s.triggers[s.rel(r.Relation)]; ts != nil {
			rekey(ts, r.Subname, r.Newname)
			if tr := ts[r.Newname]; tr != nil {
				tr.name = r.Newname
			}
		}
	case n.GetCallStmt() != nil, n.GetSelectStmt() != nil:
		walk(n, func(m proto.Message) {
			if fc, ok := m.(*pg_query.FuncCall); ok {
				s.calls(lastName(fc.Funcname))
			}
		})
	case n.GetExecuteStmt() != nil, n.GetImportForeignSchemaStmt() != nil:
		s.opaque = true
	case n.GetCreateSchemaStmt() != nil && len(n.GetCreateSchemaStmt().SchemaElts) > 0:
		s.noteUnmodeled(st.SQL) // CREATE SCHEMA s CREATE TABLE …
	}
	s.learn(n, created)
}

// runs notes a DO block: one that may build SQL at run time or call other code makes the state opaque;
// the objects any other one creates are named in its text.
func (s *state) runs(sql string) {
	if dynamicCode(sql) {
		s.opaque = true
		return
	}
	s.noteUnmodeled(sql)
}

// dynamicCode tells whether procedural code may create objects its text does not name: it runs
// dynamic SQL (EXECUTE) or calls other code (PERFORM, CALL).
func dynamicCode(sql string) bool {
	lower := strings.ToLower(sql)
	return strings.Contains(lower, "execute") || strings.Contains(lower, "perform") || strings.Contains(lower, "call ")
}

// inertFuncs are built-in functions a migration calls that create no objects, beyond those the rules
// already know (harmlessFuncs, volatileFuncs, stableFuncs).
var inertFuncs = map[string]bool{"max": true, "min": true, "sum": true, "avg": true, "array_agg": true, "string_agg": true,
	"json_agg": true, "jsonb_agg": true, "bool_and": true, "bool_or": true, "pg_get_serial_sequence": true, "to_regclass": true,
	"current_database": true, "current_schema": true, "version": true, "pg_sleep": true, "pg_notify": true, "pg_advisory_xact_unlock": true}

// calls notes a function call run by a statement: one the history defines with a static body adds
// nothing (its text was noted); built-ins create nothing; any other may create anything.
func (s *state) calls(name string) {
	if harmlessFuncs[name] || volatileFuncs[name] || stableFuncs[name] || inertFuncs[name] {
		return
	}
	if dynamic, ok := s.functions[name]; ok && !dynamic {
		return
	}
	s.opaque = true
}

// learn updates the state with what a statement creates or changes.
func (s *state) learn(n *pg_query.Node, created bool) {
	switch {
	case n.GetVariableSetStmt() != nil:
		s.setSearchPath(n.GetVariableSetStmt())
	case n.GetCreateStmt() != nil:
		cs := n.GetCreateStmt()
		name := s.rel(cs.Relation)
		kind := "r"
		if cs.Partspec != nil {
			kind = "p"
		}
		if !s.createsRel(name, kind, cs.IfNotExists, created) {
			return // CREATE TABLE IF NOT EXISTS of a table that (may) exist: nothing is created
		}
		t := s.table(name)
		if cs.Partbound != nil {
			if len(cs.InhRelations) == 1 {
				s.setPartOf(name, s.rel(cs.InhRelations[0].GetRangeVar()))
			}
		} else {
			for _, p := range cs.InhRelations {
				s.addInherits(name, s.rel(p.GetRangeVar()))
			}
		}
		// A partition or an inheritance child has its parents' CHECKs before its own, valid (it is empty).
		for _, p := range cs.InhRelations {
			s.inheritChecks(name, s.rel(p.GetRangeVar()), false)
		}
		for _, e := range cs.TableElts {
			if cd := e.GetColumnDef(); cd != nil {
				s.addColumn(t, name, cd, created)
			} else if c := e.GetConstraint(); c != nil {
				if c.SkipValidation {
					// A new table is empty: PostgreSQL marks its CHECKs valid, those written NOT VALID too.
					c = proto.Clone(c).(*pg_query.Constraint)
					c.SkipValidation = false
				}
				s.addConstraint(t, name, c)
			} else if l := e.GetTableLikeClause(); l != nil {
				s.autoIndex(name, autoName{}) // LIKE … INCLUDING INDEXES names the copies itself
				s.likeTable(t, l)
			}
		}
		if cs.Partbound != nil {
			s.autoIndex(name, autoName{}) // the parent's indexes, cloned under names PostgreSQL chooses
		}
		if ps := cs.Partspec; ps != nil {
			var keys []string
			s.boundable[name] = ps.Strategy == pg_query.PartitionStrategy_PARTITION_STRATEGY_RANGE || ps.Strategy == pg_query.PartitionStrategy_PARTITION_STRATEGY_LIST
			for _, p := range ps.PartParams {
				if pe := p.GetPartitionElem(); pe != nil {
					if pe.Name != "" {
						keys = append(keys, pe.Name)
					} else {
						keys = append(keys, exprColumns(pe.Expr)...)
						s.boundable[name] = false
					}
				}
			}
			s.partitioned[name] = keys
			var exprs []*pg_query.Node
			for _, p := range ps.PartParams {
				exprs = append(exprs, p.GetPartitionElem().GetExpr())
			}
			s.setFuncUser("p:"+name, funcUser{kind: userPartKey, table: name}, exprs...)
		}
		if cs.Partbound != nil && cs.Partbound.IsDefault && len(cs.InhRelations) == 1 {
			s.defaultPart[s.rel(cs.InhRelations[0].GetRangeVar())] = name
		}
	case n.GetIndexStmt() != nil:
		is := n.GetIndexStmt()
		rel := s.rel(is.Relation)
		if is.Idxname != "" {
			ix := sibling(rel, is.Idxname)
			if !s.createsRel(ix, "i", is.IfNotExists, created) {
				return // CREATE INDEX IF NOT EXISTS of an index that (may) exist
			}
			s.indexCols[ix] = colNames(is.IndexParams)
			s.usingRefused[ix] = usingIndexRefusal(is, bare(ix))
			s.setIndexTable(ix, rel)
		} else {
			s.autoIndex(rel, indexAutoName(is))
		}
		var exprCols []string
		exprs := []*pg_query.Node{is.WhereClause}
		for _, p := range is.IndexParams {
			exprCols = append(exprCols, exprColumns(p.GetIndexElem().GetExpr())...)
			exprs = append(exprs, p.GetIndexElem().GetExpr())
		}
		if is.Idxname != "" {
			ix := sibling(rel, is.Idxname)
			s.setFuncUser("i:"+ix, funcUser{kind: userIndex, table: rel, name: ix, unique: is.Unique, cols: indexColumns(is)}, exprs...)
		} else {
			// PostgreSQL names it: the state forgets it only with its table.
			s.unnamedUsers++
			s.setFuncUser(fmt.Sprintf("i:%s\x00%d", rel, s.unnamedUsers), funcUser{kind: userIndex, table: rel, unique: is.Unique, cols: indexColumns(is)}, exprs...)
		}
		exprCols = append(exprCols, exprColumns(is.WhereClause)...)
		if len(exprCols) > 0 {
			t := s.table(rel)
			if t.exprIndexes == nil {
				t.exprIndexes = map[string][]string{}
			}
			ix := ""
			if is.Idxname != "" {
				ix = sibling(rel, is.Idxname)
			}
			t.exprIndexes[ix] = append(t.exprIndexes[ix], exprCols...)
			s.exprIxOf.add(ix, rel)
		}
		if is.WhereClause == nil {
			t := s.table(rel)
			t.indexes = append(t.indexes, colNames(is.IndexParams))
			if is.Unique {
				t.uniques = append(t.uniques, colNames(is.IndexParams))
			}
		}
	case n.GetViewStmt() != nil:
		// A replacement PostgreSQL refuses leaves the view as it was.
		if v := n.GetViewStmt(); v.Replace && s.replaceViewFails(s.rel(v.View), v) != "" {
			break
		}
		// CREATE OR REPLACE VIEW of a view that (may) exist creates nothing.
		s.createsRel(s.rel(n.GetViewStmt().View), "v", n.GetViewStmt().Replace, created)
		s.setViewCols(s.rel(n.GetViewStmt().View), s.usedColumns(n.GetViewStmt().Query))
		if out := viewOutput(n.GetViewStmt().Query, n.GetViewStmt().Aliases); out != nil {
			s.viewOut[s.rel(n.GetViewStmt().View)] = out
		} else {
			delete(s.viewOut, s.rel(n.GetViewStmt().View))
		}
	case n.GetCreateTableAsStmt() != nil:
		if c := n.GetCreateTableAsStmt(); c.Into != nil {
			kind := "r"
			if c.Objtype == pg_query.ObjectType_OBJECT_MATVIEW {
				kind = "m"
			}
			switch isNew := s.createsRel(s.rel(c.Into.Rel), kind, c.IfNotExists, created); {
			case isNew && kind == "m":
				s.setViewCols(s.rel(c.Into.Rel), s.usedColumns(c.Query))
			case isNew && !c.Into.SkipData:
				s.filled[s.rel(c.Into.Rel)] = "CREATE TABLE … AS"
			}
		}
	case n.GetSelectStmt().GetIntoClause() != nil:
		if into := n.GetSelectStmt().GetIntoClause(); s.createsRel(s.rel(into.GetRel()), "r", false, created) { // SELECT … INTO t
			s.filled[s.rel(into.GetRel())] = "SELECT … INTO"
		}
	case n.GetCreateForeignTableStmt() != nil:
		if b := n.GetCreateForeignTableStmt().GetBaseStmt(); b != nil {
			s.createsRel(s.rel(b.Relation), "f", b.IfNotExists, created)
		}
	case n.GetCreateEnumStmt() != nil:
		s.creates(s.qual(n.GetCreateEnumStmt().TypeName), false, created)
	case n.GetCreateDomainStmt() != nil:
		d := n.GetCreateDomainStmt()
		name := s.qual(d.Domainname)
		s.creates(name, false, created)
		// A domain over a constrained domain checks its base's constraints too (PostgreSQL's
		// DomainHasConstraints walks the chain); over an array of one it does not.
		if s.constrainedDomain(d.TypeName) {
			s.domains[name] = true
		}
		s.domainBase[name] = d.TypeName
		if base := s.domainBase[s.qual(d.TypeName.GetNames())]; base != nil && len(d.TypeName.GetArrayBounds()) == 0 {
			s.domainBase[name] = base
		}
		if def := s.domainDefault(d.TypeName); def != nil {
			s.domainDefaults[name] = def
		}
		for _, c := range d.Constraints {
			if k := c.GetConstraint().GetContype(); k == pg_query.ConstrType_CONSTR_CHECK || k == pg_query.ConstrType_CONSTR_NOTNULL {
				s.domains[name] = true
			}
			if c.GetConstraint().GetContype() == pg_query.ConstrType_CONSTR_CHECK {
				s.addDomainCheck(name, c.GetConstraint())
			}
			if c.GetConstraint().GetContype() == pg_query.ConstrType_CONSTR_DEFAULT {
				s.domainDefaults[name] = c.GetConstraint().GetRawExpr()
				if nullLiteral(c.GetConstraint().GetRawExpr()) {
					delete(s.domainDefaults, name) // DEFAULT NULL: none, not even the base domain's
				}
			}
		}
	case n.GetAlterDomainStmt() != nil:
		d := n.GetAlterDomainStmt()
		switch d.Subtype {
		case "C", "O":
			s.domains[s.qual(d.TypeName)] = true
			if c := d.Def.GetConstraint(); c.GetContype() == pg_query.ConstrType_CONSTR_CHECK {
				s.addDomainCheck(s.qual(d.TypeName), c)
			}
		case "X":
			s.dropDomainCheck(s.qual(d.TypeName), d.Name)
		case "T": // SET DEFAULT, or DROP DEFAULT without Def
			if d.Def != nil && !nullLiteral(d.Def) { // SET DEFAULT NULL drops the default
				s.domainDefaults[s.qual(d.TypeName)] = d.Def
			} else {
				delete(s.domainDefaults, s.qual(d.TypeName))
			}
		}
	case n.GetCreateSchemaStmt() != nil:
		c := n.GetCreateSchemaStmt()
		s.creates(c.Schemaname, c.IfNotExists, created)
	case n.GetCreateSeqStmt() != nil:
		c := n.GetCreateSeqStmt()
		if s.createsRel(s.rel(c.Sequence), "S", c.IfNotExists, created) {
			s.seqOwnedBy(s.rel(c.Sequence), c.Options)
		}
	case n.GetAlterSeqStmt() != nil:
		c := n.GetAlterSeqStmt()
		s.seqOwnedBy(s.rel(c.Sequence), c.Options)
	case n.GetDropStmt() != nil:
		d := n.GetDropStmt()
		switch d.RemoveType {
		case pg_query.ObjectType_OBJECT_TABLE, pg_query.ObjectType_OBJECT_VIEW, pg_query.ObjectType_OBJECT_MATVIEW,
			pg_query.ObjectType_OBJECT_INDEX, pg_query.ObjectType_OBJECT_SEQUENCE, pg_query.ObjectType_OBJECT_TYPE,
			pg_query.ObjectType_OBJECT_DOMAIN:
			for _, o := range d.Objects {
				items := o.GetList().GetItems()
				if tn := o.GetTypeName(); tn != nil {
					items = tn.Names
				}
				if len(items) > 0 {
					key := s.qual(items)
					// DROP … IF EXISTS of what does not exist drops nothing: what names it later
					// finds it missing since the earlier migrations, not since this statement.
					existed := !s.absent(key, len(items) > 1)
					dropped := s.drops(key)
					if created && existed {
						for _, k := range dropped {
							s.gone[k] = "drops it"
						}
					}
				}
			}
		case pg_query.ObjectType_OBJECT_SCHEMA:
			for _, o := range d.Objects {
				s.drops(o.GetString_().GetSval())
			}
		}
	case n.GetAlterTableStmt() != nil:
		at := n.GetAlterTableStmt()
		name := s.rel(at.Relation)
		if at.MissingOk && s.absent(name, at.Relation.GetSchemaname() != "") {
			return // ALTER … IF EXISTS of nothing
		}
		t := s.table(name)
		for _, c := range at.Cmds {
			cmd := c.GetAlterTableCmd()
			if cmd == nil {
				continue
			}
			col := cmd.Name
			switch cmd.Subtype {
			case pg_query.AlterTableType_AT_AddColumn:
				if cd := cmd.Def.GetColumnDef(); cd != nil {
					s.addColumn(t, name, cd, created)
				}
			case pg_query.AlterTableType_AT_AddIdentity:
				if c := cmd.Def.GetConstraint(); c != nil {
					s.ownsSequence(name, cmd.Name, c.Options, created)
				}
			case pg_query.AlterTableType_AT_DropIdentity:
				s.dropsOwnedBy(name, cmd.Name)
			case pg_query.AlterTableType_AT_AddConstraint:
				if c := cmd.Def.GetConstraint(); c != nil {
					s.addConstraint(t, name, c)
				}
			case pg_query.AlterTableType_AT_ValidateConstraint:
				s.validateCheck(name, col)
			case pg_query.AlterTableType_AT_DropConstraint:
				s.dropConstraint(name, col, !at.Relation.GetInh())
			case pg_query.AlterTableType_AT_SetNotNull:
				if c := t.cols[col]; c != nil {
					c.notNull = true
				}
			case pg_query.AlterTableType_AT_DropNotNull:
				if c := t.cols[col]; c != nil {
					c.notNull = false
				}
			case pg_query.AlterTableType_AT_AlterColumnType:
				if cd := cmd.Def.GetColumnDef(); cd != nil && t.cols[col] != nil {
					t.cols[col].typ, t.cols[col].mods = typeName(cd.TypeName)
				}
			case pg_query.AlterTableType_AT_DropColumn:
				s.dropColumnChecks(name, col, !at.Relation.GetInh())
				s.dropColumnUsers(name, col)
				dropColumnConstraints(t, col)
				delete(t.cols, col)
				s.dropsOwnedBy(name, cmd.Name)
				if cmd.Behavior == pg_query.DropBehavior_DROP_CASCADE {
					s.dropRoutinesUsing(name, col)
				}
			case pg_query.AlterTableType_AT_EnableTrig, pg_query.AlterTableType_AT_EnableAlwaysTrig, pg_query.AlterTableType_AT_EnableReplicaTrig,
				pg_query.AlterTableType_AT_DisableTrig, pg_query.AlterTableType_AT_EnableTrigAll, pg_query.AlterTableType_AT_DisableTrigAll,
				pg_query.AlterTableType_AT_EnableTrigUser, pg_query.AlterTableType_AT_DisableTrigUser:
				s.enableTrigger(name, cmd)
			case pg_query.AlterTableType_AT_AddInherit:
				if parent := s.rel(cmd.Def.GetRangeVar()); !slices.Contains(s.inherits[name], parent) {
					s.addInherits(name, parent)
					s.inheritChecks(name, parent, true)
				}
			case pg_query.AlterTableType_AT_DropInherit:
				s.uninheritChecks(name, s.rel(cmd.Def.GetRangeVar()))
				s.noInherit(name, s.rel(cmd.Def.GetRangeVar()))
			case pg_query.AlterTableType_AT_DetachPartition:
				part := s.rel(cmd.Def.GetPartitionCmd().GetName())
				s.uninheritChecks(part, name)
				delete(s.partOf, part)
				if s.defaultPart[name] == part {
					delete(s.defaultPart, name) // a later ATTACH or PARTITION OF scans it no more
				}
			case pg_query.AlterTableType_AT_AttachPartition:
				s.setPartOf(s.rel(cmd.Def.GetPartitionCmd().GetName()), name)
				s.inheritChecks(s.rel(cmd.Def.GetPartitionCmd().GetName()), name, true)
				if pb := cmd.Def.GetPartitionCmd().GetBound(); pb != nil && pb.IsDefault {
					s.defaultPart[name] = s.rel(cmd.Def.GetPartitionCmd().GetName())
				}
				// Indexes of the parent the partition lacks are created on it, named by PostgreSQL.
				s.autoIndex(s.rel(cmd.Def.GetPartitionCmd().GetName()), autoName{})
			}
		}
	case n.GetRenameStmt() != nil:
		r := n.GetRenameStmt()
		switch r.RenameType {
		case pg_query.ObjectType_OBJECT_TABLE, pg_query.ObjectType_OBJECT_VIEW, pg_query.ObjectType_OBJECT_MATVIEW,
			pg_query.ObjectType_OBJECT_INDEX, pg_query.ObjectType_OBJECT_SEQUENCE, pg_query.ObjectType_OBJECT_FOREIGN_TABLE:
			old := s.rel(r.Relation)
			s.goneAway(created, "renames it", old)
			s.moves(old, sibling(old, r.Newname))
			s.renameConstraintIndex(old, sibling(old, r.Newname))
		case pg_query.ObjectType_OBJECT_COLUMN:
			s.renameColumn(s.rel(r.Relation), r.Subname, r.Newname)
		case pg_query.ObjectType_OBJECT_TABCONSTRAINT:
			// Renaming a PRIMARY KEY / UNIQUE / EXCLUDE constraint renames its index.
			s.know(sibling(s.rel(r.Relation), r.Newname), true)
			s.renameConstraint(s.rel(r.Relation), r.Subname, r.Newname)
		case pg_query.ObjectType_OBJECT_DOMCONSTRAINT:
			s.renameDomainCheck(s.qual(r.Object.GetList().GetItems()), r.Subname, r.Newname)
		case pg_query.ObjectType_OBJECT_DOMAIN:
			key := s.qual(r.Object.GetList().GetItems())
			s.moveDomain(key, sibling(key, r.Newname))
		}
	case n.GetAlterObjectSchemaStmt() != nil:
		a := n.GetAlterObjectSchemaStmt()
		switch a.ObjectType {
		case pg_query.ObjectType_OBJECT_DOMAIN:
			key := s.qual(a.Object.GetList().GetItems())
			s.moveDomain(key, relKey(a.Newschema, bare(key)))
		case pg_query.ObjectType_OBJECT_TABLE, pg_query.ObjectType_OBJECT_MATVIEW, pg_query.ObjectType_OBJECT_FOREIGN_TABLE:
			// All its indexes move with it: those the state knows by name below, others under names it
			// may not know.
			s.opaque = true
			fallthrough
		case pg_query.ObjectType_OBJECT_VIEW, pg_query.ObjectType_OBJECT_SEQUENCE:
			old := s.rel(a.Relation)
			if _, owned := s.owned[old]; owned {
				return // PostgreSQL refuses to move an owned sequence: it stays
			}
			// A table's owned sequences and its indexes move with it.
			along := append(s.ownedSeqs(old), s.indexesOn(old)...)
			s.goneAway(created, "moves it to another schema", append([]string{old}, along...)...)
			s.moves(old, relKey(a.Newschema, bare(old)))
			for _, k := range along {
				s.moves(k, relKey(a.Newschema, bare(k)))
			}
		}
	}
}

// moves follows a relation renamed or moved to another schema: its kind, the sequences its columns
// own, and the column that owns it, its indexes, the views that use it (and a view's own columns used),
// its partition key and DEFAULT partition, its partitions and inheritance parents and children: each is
// found by PostgreSQL through the relation's OID, so it keeps applying under the new name.
func (s *state) moves(old, nw string) {
	rekey(s.kinds, old, nw)
	rekey(s.filled, old, nw)
	seqs := s.ownedSeqs(old)
	rekey(s.owned, old, nw)
	if col, ok := s.owned[nw]; ok {
		t, _ := splitOwner(col)
		s.ownedBy.add(t, nw)
	}
	for _, seq := range seqs {
		if seq == old {
			seq = nw
		}
		if t, c := splitOwner(s.owned[seq]); t == old {
			s.setOwned(seq, nw, c)
		}
	}
	rekey(s.tables, old, nw)
	if t := s.tables[nw]; t != nil {
		s.indexTableKey(nw, t)
	}
	for _, n := range slices.Collect(maps.Keys(s.autoNames[old])) {
		s.forgetAutoName(n)
		n.table = nw // its indexes keep their names
		s.addAutoName(n)
	}
	s.movesKey(old, nw)
	rekey(s.indexCols, old, nw)
	rekey(s.usingRefused, old, nw)
	ixs := s.indexesOn(old)
	rekey(s.indexTable, old, nw)
	if t, ok := s.indexTable[nw]; ok {
		s.indexesOf.add(t, nw)
	}
	for _, ix := range ixs {
		if ix == old {
			ix = nw
		}
		if s.indexTable[ix] == old {
			s.setIndexTable(ix, nw)
		}
	}
	views := s.viewsOf(old)
	rekey(s.viewCols, old, nw)
	if used, ok := s.viewCols[nw]; ok {
		s.setViewCols(nw, used)
	}
	rekey(s.viewOut, old, nw)
	rekey(s.triggers, old, nw)
	for _, v := range views {
		if v == old {
			v = nw
		}
		if used := s.viewCols[v]; used != nil {
			if _, ok := used[old]; ok {
				rekey(used, old, nw)
				s.viewUsers.add(nw, v)
			}
		}
	}
	for r := range s.colUsers[old] {
		rekey(r.cols, old, nw)
		addUser(s.colUsers, nw, r)
	}
	delete(s.colUsers, old)
	s.moveFuncUsers(old, nw)
	rekey(s.partitioned, old, nw)
	rekey(s.boundable, old, nw)
	// A partition and an inheritance child keep their parent under its new name, and their own; so does
	// a partitioned table its DEFAULT partition.
	rekey(s.defaultPart, old, nw)
	revalue(s.defaultPart, old, nw)
	kids := s.children(old)
	rekey(s.partOf, old, nw)
	if parent, ok := s.partOf[nw]; ok {
		s.childIx.add(parent, nw)
	}
	rekey(s.inherits, old, nw)
	for _, parent := range s.inherits[nw] {
		s.childIx.add(parent, nw)
	}
	for _, child := range kids {
		if child == old {
			child = nw
		}
		if s.partOf[child] == old {
			s.setPartOf(child, nw)
		}
		if parents := s.inherits[child]; slices.Contains(parents, old) {
			i := slices.Index(parents, old)
			s.inherits[child] = slices.Replace(slices.Clone(parents), i, i+1, nw)
			s.childIx.add(nw, child)
		}
	}
	if old != "" {
		for _, tkey := range s.exprIndexTables(old) {
			rekey(s.tables[tkey].exprIndexes, old, nw)
			s.exprIxOf.add(nw, tkey)
		}
	}
	for _, tkey := range s.referencing(old) {
		for _, kc := range s.tables[tkey].constraints {
			if kc.ref == old {
				kc.ref = nw
			}
		}
		s.refBy.add(nw, tkey)
	}
}

// moveDomain follows domain old renamed or moved to another schema as nw: whether it is constrained, its
// DEFAULT, and its CHECKs (PostgreSQL's AlterConstraintNamespaces moves them to its new schema) go with
// it. A domain of the old name created later starts without them.
func (s *state) moveDomain(old, nw string) {
	s.movesKey(old, nw)
	rekey(s.domains, old, nw)
	rekey(s.domainDefaults, old, nw)
	rekey(s.domainChecks, old, nw)
}

// goneAway records that a statement of the migration being judged (created) takes the objects keys
// away from their names (how: "renames it", "moves it to another schema"): a later statement that
// names one of them, and does nothing for it, says so. Objects that did not exist are not taken away.
func (s *state) goneAway(created bool, how string, keys ...string) {
	if !created {
		return
	}
	for _, k := range keys {
		if s.exists[k] {
			s.gone[k] = how
		}
	}
}

// movesKey follows any object renamed or moved to another schema: whether the migration or the change
// created it, and that it exists.
func (s *state) movesKey(old, nw string) {
	if s.created[old] {
		s.created[nw] = true
	}
	rekey(s.change, old, nw)
	if s.exists[old] {
		s.know(nw, true)
		s.know(old, false)
	}
}

// rekey moves m's entry under old, if any, to nw.
func rekey[V any](m map[string]V, old, nw string) {
	if v, ok := m[old]; ok {
		m[nw] = v
		delete(m, old)
	}
}

// revalue replaces old by nw among m's values.
func revalue(m map[string]string, old, nw string) {
	for k, v := range m {
		if v == old {
			m[k] = nw
		}
	}
}

func (s *state) addColumn(t *table, tname string, cd *pg_query.ColumnDef, created bool) {
	typ, mods := typeName(cd.TypeName)
	c := &column{typ: typ, mods: mods, notNull: cd.IsNotNull}
	name := cd.Colname
	if serialTypes[typ] { // a sequence owned by the column
		s.ownsSequence(tname, cd.Colname, nil, created)
	}
	var generated *pg_query.Node // GENERATED ALWAYS AS (…) STORED
	for _, n := range cd.Constraints {
		k := n.GetConstraint()
		if k.GetContype() == pg_query.ConstrType_CONSTR_CHECK {
			// A CHECK written on the column is a table's CHECK like any other (named, validated, a proof
			// of SET NOT NULL, re-validated by a type change).
			s.addCheck(t, tname, k)
		}
		if k.GetContype() == pg_query.ConstrType_CONSTR_IDENTITY {
			s.ownsSequence(tname, cd.Colname, k.Options, created)
		}
		if k.GetContype() == pg_query.ConstrType_CONSTR_GENERATED {
			generated = k.RawExpr
		}
		switch k.GetContype() {
		case pg_query.ConstrType_CONSTR_NOTNULL, pg_query.ConstrType_CONSTR_PRIMARY, pg_query.ConstrType_CONSTR_IDENTITY:
			c.notNull = true
		}
		if k.GetContype() == pg_query.ConstrType_CONSTR_PRIMARY || k.GetContype() == pg_query.ConstrType_CONSTR_UNIQUE {
			t.indexes = append(t.indexes, []string{name})
			t.uniques = append(t.uniques, []string{name})
			s.constraintIndex(tname, k, cd.Colname)
		}
		switch k.GetContype() {
		case pg_query.ConstrType_CONSTR_PRIMARY, pg_query.ConstrType_CONSTR_UNIQUE, pg_query.ConstrType_CONSTR_FOREIGN:
			s.addKeyConstraint(t, tname, k, cd.Colname)
		}
	}
	t.cols[name] = c
	s.setFuncUser("g:"+colKey(tname, name), funcUser{kind: userGenerated, table: tname, name: name}, generated)
}

func (s *state) addConstraint(t *table, tname string, c *pg_query.Constraint) {
	switch c.Contype {
	case pg_query.ConstrType_CONSTR_PRIMARY, pg_query.ConstrType_CONSTR_UNIQUE, pg_query.ConstrType_CONSTR_EXCLUSION, pg_query.ConstrType_CONSTR_FOREIGN:
		s.addKeyConstraint(t, tname, c, "")
	}
	switch c.Contype {
	case pg_query.ConstrType_CONSTR_CHECK:
		s.addCheck(t, tname, c)
	case pg_query.ConstrType_CONSTR_EXCLUSION:
		s.constraintIndex(tname, c, "")
		exprs := []*pg_query.Node{c.WhereClause}
		for _, e := range c.Exclusions {
			if items := e.GetList().GetItems(); len(items) > 0 {
				exprs = append(exprs, items[0].GetIndexElem().GetExpr())
			}
		}
		id := "x:" + tname + "\x00" + c.Conname
		if c.Conname == "" {
			s.unnamedUsers++
			id = fmt.Sprintf("x:%s\x00%d", tname, s.unnamedUsers) // PostgreSQL names it
		}
		s.setFuncUser(id, funcUser{kind: userExclusion, table: tname, name: c.Conname}, exprs...)
	case pg_query.ConstrType_CONSTR_PRIMARY, pg_query.ConstrType_CONSTR_UNIQUE:
		s.constraintIndex(tname, c, "")
		keys := colNames(c.Keys)
		if len(keys) > 0 {
			t.indexes = append(t.indexes, keys)
			t.uniques = append(t.uniques, keys)
		}
		if c.Contype == pg_query.ConstrType_CONSTR_PRIMARY {
			for _, k := range keys {
				if col := t.cols[k]; col != nil {
					col.notNull = true
				}
			}
		}
	}
}

// constraintIndex notes the index of a PRIMARY KEY, UNIQUE or EXCLUDE constraint on table tname: it is
// named after the constraint, or by PostgreSQL when the constraint has no name (USING INDEX keeps the
// index, under the constraint's name when it has one: ATExecAddIndexConstraint renames it, and what
// the state knows of it goes along). col is the column a column constraint is written on.
func (s *state) constraintIndex(tname string, c *pg_query.Constraint, col string) {
	switch {
	case c.Conname != "":
		if c.Indexname != "" && c.Indexname != c.Conname {
			s.moves(sibling(tname, c.Indexname), sibling(tname, c.Conname))
		}
		s.know(sibling(tname, c.Conname), true)
	case c.Indexname == "":
		s.autoIndex(tname, constraintAutoName(c, col))
	}
}

// exprColumns lists the column names an expression references.
func exprColumns(n *pg_query.Node) []string {
	var out []string
	walk(n, func(m proto.Message) {
		if cr, ok := m.(*pg_query.ColumnRef); ok && len(cr.Fields) > 0 {
			if s := cr.Fields[len(cr.Fields)-1].GetString_(); s != nil {
				out = append(out, s.Sval)
			}
		}
	})
	return out
}

// walk calls fn for every message in the tree under m (m included).
func walk(m proto.Message, fn func(proto.Message)) {
	if m == nil {
		return
	}
	r := m.ProtoReflect()
	if !r.IsValid() {
		return
	}
	walkReflect(r, fn, 0)
}

func walkReflect(r protoreflect.Message, fn func(proto.Message), depth int) {
	if depth > 400 {
		return // deeply nested expressions: the parser already bounds depth; stay safe anyway
	}
	fn(r.Interface())
	r.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				walkReflect(l.Get(i).Message(), fn, depth+1)
			}
		case fd.Message() != nil && !fd.IsMap():
			walkReflect(v.Message(), fn, depth+1)
		}
		return true
	})
}

// usingIndexRefusal is PostgreSQL's error for ADD CONSTRAINT … UNIQUE or PRIMARY KEY USING INDEX of the
// index is creates (named name), "" when it takes it (transformIndexConstraint, PostgreSQL 15): it must
// be a unique btree index, without expressions or a predicate, each column in its default sort order.
// An operator class or collation of its own is refused too unless it is the column's default, which the
// statement alone does not tell: left to the rehearsal.
func usingIndexRefusal(is *pg_query.IndexStmt, name string) string {
	switch {
	case !is.Unique:
		return fmt.Sprintf("%q is not a unique index", name)
	case is.AccessMethod != "" && !strings.EqualFold(is.AccessMethod, "btree"):
		return fmt.Sprintf("index %q is not a btree", name)
	}
	for _, p := range is.IndexParams {
		if p.GetIndexElem().GetExpr() != nil {
			return fmt.Sprintf("index %q contains expressions", name)
		}
	}
	if is.WhereClause != nil {
		return fmt.Sprintf("%q is a partial index", name)
	}
	for i, p := range is.IndexParams {
		e := p.GetIndexElem()
		if e.GetOrdering() == pg_query.SortByDir_SORTBY_DESC || e.GetNullsOrdering() == pg_query.SortByNulls_SORTBY_NULLS_FIRST {
			return fmt.Sprintf("index %q column number %d does not have default sorting behavior", name, i+1)
		}
	}
	return ""
}
