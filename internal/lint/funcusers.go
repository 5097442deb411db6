package lint

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
)

// PostgreSQL stores what some expressions return when it writes a row: the entries of an index on an
// expression (or under a predicate), a stored generated column, the partition a row is routed to by a
// partition key expression. It checks a CHECK constraint's expression then too. CREATE OR REPLACE
// FUNCTION of a function such an expression calls, directly or through another function, recomputes
// none of it (measured on PostgreSQL 15): the index keeps the old results, so lookups by the new ones
// miss rows and a unique index admits duplicates; the stored column keeps stale values; rows stay in
// partitions the new function would not put them in; existing rows are not checked again. PostgreSQL
// does not refuse the replacement even when it is no longer IMMUTABLE.

// funcUser is an object whose stored data, or whose check of the rows, an expression calling
// functions computed when each row was written.
type funcUser struct {
	kind   string // userIndex, userGenerated, userCheck, userExclusion, userPartKey
	table  string // the table's key
	name   string // the index's key, the column, the constraint's name; "" when PostgreSQL chose the name
	unique bool   // a unique index
	calls  []funcCall
	cols   []string // the table's columns it reads: PostgreSQL drops it with any of them
}

// funcCall is a call of a function that is no built-in, as the state resolves it where the call is
// written: PostgreSQL stores the function it resolved to, so a call names one function of the
// history, not every function by its name (an overload, one of another schema).
type funcCall struct {
	name string // the function's schema-qualified key without arguments, as qual makes it
	args int    // how many arguments the call passes
	key  string // the function's key (funcKey) when the state knew one overload the call fits; "" otherwise
}

// callsIn lists the calls of the functions in the trees, each once: unqualified names resolve as the
// state resolves them; a call qualified with pg_catalog calls a built-in, which no migration replaces.
func (s *state) callsIn(trees ...proto.Message) []funcCall {
	var out []funcCall
	for _, tree := range trees {
		walk(tree, func(m proto.Message) {
			fc, ok := m.(*pg_query.FuncCall)
			if !ok || len(fc.Funcname) > 1 && fc.Funcname[len(fc.Funcname)-2].GetString_().GetSval() == "pg_catalog" {
				return
			}
			c := funcCall{name: s.qual(fc.Funcname), args: len(fc.Args)}
			var fits []string
			for key, f := range s.userFuncs[lastName(fc.Funcname)] {
				if f.qual == c.name && f.takes(c.args) {
					fits = append(fits, key)
				}
			}
			if len(fits) == 1 {
				c.key = fits[0]
			}
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		})
	}
	return out
}

// takes tells whether function f accepts a call with n arguments: no fewer than it has parameters
// without a default, no more than it has input parameters unless it is VARIADIC.
func (f *userFunc) takes(n int) bool {
	return n >= f.required && (f.variadic || n <= f.inputs)
}

// calls tells whether call c calls function f: f's overload when the state resolved it, otherwise a
// function of f's schema and name that takes c's arguments.
func (c funcCall) calls(f *userFunc) bool {
	if c.key != "" {
		return c.key == f.key
	}
	return c.name == f.qual && f.takes(c.args)
}

// Kinds of funcUser.
const (
	userIndex     = "index"
	userGenerated = "generated column"
	userCheck     = "CHECK constraint"
	userExclusion = "exclusion constraint"
	userPartKey   = "partition key"
)

// setFuncUser records (or, when its expressions call no function, forgets) user u under id: an
// object made again under its id replaces what the state knew of the old one.
func (s *state) setFuncUser(id string, u funcUser, exprs ...*pg_query.Node) {
	trees := make([]proto.Message, len(exprs))
	for i, e := range exprs {
		trees[i] = e
		u.cols = append(u.cols, exprColumns(e)...)
	}
	u.calls = s.callsIn(trees...)
	if len(u.calls) == 0 {
		delete(s.funcUsers, id)
		return
	}
	s.funcUsers[id] = &u
	for _, c := range u.calls {
		s.usersOf.add(c.name, id)
	}
}

// moveFuncUsers follows relation old renamed or moved to another schema as nw (see moves): PostgreSQL
// knows a table's indexes, columns and constraints by OID, so they keep what the function stored
// under the new names, and an index renamed is the same index.
func (s *state) moveFuncUsers(old, nw string) {
	for _, id := range slices.Sorted(maps.Keys(s.funcUsers)) {
		u := s.funcUsers[id]
		if u.table == old {
			u.table = nw
		}
		if u.kind == userIndex && u.name == old {
			u.name = nw
		}
		// Ids hold the key of the table or the index: "i:" index, "p:" table, "g:" table.column,
		// "c:", "x:" and unnamed "i:" table\x00….
		if rest := id[2:]; rest == old || strings.HasPrefix(rest, old+"\x00") || strings.HasPrefix(rest, old+".") {
			s.rekeyFuncUser(id, id[:2]+nw+rest[len(old):])
		}
	}
}

// renameFuncUsersColumn follows RENAME COLUMN old TO nw of table key: the users read the column under
// its new name, and a generated column is the same column.
func (s *state) renameFuncUsersColumn(key, old, nw string) {
	for _, id := range slices.Sorted(maps.Keys(s.funcUsers)) {
		u := s.funcUsers[id]
		if u.table != key {
			continue
		}
		u.cols = renamed(u.cols, old, nw)
		if u.kind == userGenerated && u.name == old {
			u.name = nw
			s.rekeyFuncUser(id, "g:"+colKey(key, nw))
		}
	}
}

// rekeyFuncUser moves the user under id to id nw.
func (s *state) rekeyFuncUser(id, nw string) {
	u := s.funcUsers[id]
	delete(s.funcUsers, id)
	s.funcUsers[nw] = u
	for _, c := range u.calls {
		s.usersOf.add(c.name, nw)
	}
}

// dropColumnUsers forgets the users of table key that read column col, which ALTER TABLE … DROP
// COLUMN drops with it: an index or a constraint on it, and with CASCADE a generated column computed
// from it (without CASCADE PostgreSQL refuses the drop). A partition key column cannot be dropped.
func (s *state) dropColumnUsers(key, col string) {
	maps.DeleteFunc(s.funcUsers, func(_ string, u *funcUser) bool {
		return u.table == key && u.kind != userPartKey && slices.Contains(u.cols, col)
	})
}

// dropFunctionUsers forgets the users that call the functions DROP FUNCTION o drops: PostgreSQL drops
// them with it under CASCADE and refuses the drop while they exist otherwise. Such a function made
// again is a new one that nothing stored calls yet.
func (s *state) dropFunctionUsers(o *pg_query.ObjectWithArgs) {
	name, key, all := s.funcSignature(o)
	var dropped []*userFunc
	for k, f := range s.userFuncs[name] {
		if all || k == key {
			dropped = append(dropped, f)
		}
	}
	if len(dropped) == 0 { // a function the state does not know: the calls of its name and arguments
		f := &userFunc{key: key, qual: s.qual(o.GetObjname()), inputs: len(o.GetObjargs()), required: len(o.GetObjargs()), variadic: all}
		if all {
			f.required = 0
		}
		dropped = append(dropped, f)
	}
	maps.DeleteFunc(s.funcUsers, func(_ string, u *funcUser) bool {
		return slices.ContainsFunc(u.calls, func(c funcCall) bool {
			return slices.ContainsFunc(dropped, c.calls)
		})
	})
}

// indexColumns are the columns an index lists by name (not in expressions), INCLUDE too: PostgreSQL
// drops the index with any of them.
func indexColumns(is *pg_query.IndexStmt) []string {
	var out []string
	for _, p := range append(slices.Clone(is.IndexParams), is.IndexIncludingParams...) {
		if name := p.GetIndexElem().GetName(); name != "" {
			out = append(out, name)
		}
	}
	return out
}

// holds tells whether the object of user u still exists as the state knows it.
func (s *state) holds(u *funcUser) bool {
	t := s.tables[u.table]
	if t == nil {
		return false
	}
	switch u.kind {
	case userIndex:
		return u.name == "" || s.exists[u.name] && s.indexTable[u.name] == u.table
	case userGenerated:
		return t.cols[u.name] != nil
	case userCheck:
		return t.checks[u.name] != nil
	case userExclusion:
		return u.name == "" || t.constraints[u.name] != nil
	case userPartKey:
		_, ok := s.partitioned[u.table]
		return ok
	}
	return false
}

// funcUsersOf lists the objects whose expressions call function f, in order of their ids.
func (s *state) funcUsersOf(f *userFunc) []*funcUser {
	var out []*funcUser
	for _, id := range s.usersOf.lookup(f.qual, func(id string) bool {
		u := s.funcUsers[id]
		return u != nil && slices.ContainsFunc(u.calls, func(c funcCall) bool { return c.name == f.qual }) && s.holds(u)
	}) {
		if !slices.ContainsFunc(s.funcUsers[id].calls, func(c funcCall) bool { return c.calls(f) }) {
			continue // another function by its name: it stays listed under the name
		}
		out = append(out, s.funcUsers[id])
	}
	// Indexes and exclusion constraints first, then stored columns, partition keys and CHECKs.
	slices.SortStableFunc(out, func(a, b *funcUser) int { return kindRank[a.kind] - kindRank[b.kind] })
	return out
}

var kindRank = map[string]int{userIndex: 0, userExclusion: 1, userGenerated: 2, userPartKey: 3, userCheck: 4}

// callers lists, by key, the functions of the history whose LANGUAGE sql body calls function f,
// directly or through others, each with the function it calls on the way (the chain back to f): an
// expression that calls one of them calls f too.
func (s *state) callers(f *userFunc) map[*userFunc]*userFunc {
	via := map[*userFunc]*userFunc{f: nil}
	var all []*userFunc
	for _, name := range slices.Sorted(maps.Keys(s.userFuncs)) {
		for _, key := range slices.Sorted(maps.Keys(s.userFuncs[name])) {
			all = append(all, s.userFuncs[name][key])
		}
	}
	for grew := true; grew; {
		grew = false
		for _, caller := range all {
			if _, ok := via[caller]; ok {
				continue
			}
			for _, c := range caller.calls {
				if i := slices.IndexFunc(s.sortedVia(via), c.calls); i >= 0 {
					via[caller], grew = s.sortedVia(via)[i], true
					break
				}
			}
		}
	}
	return via
}

// sortedVia lists the functions of via in order of their keys.
func (s *state) sortedVia(via map[*userFunc]*userFunc) []*userFunc {
	return slices.SortedFunc(maps.Keys(via), func(a, b *userFunc) int { return strings.Compare(a.key, b.key) })
}

// sameDefinition tells whether CREATE OR REPLACE FUNCTION nw defines what old did, the caller having
// matched the two by schema, name and input types: the same definition once both are brought to one
// form (see definitionText), whatever they say of volatility, parallel safety, cost and rows, which
// change no result.
func sameDefinition(old, nw *pg_query.CreateFunctionStmt) bool {
	if old == nil {
		return false
	}
	a, errA := definitionText(old)
	b, errB := definitionText(nw)
	return errA == nil && errB == nil && a == b
}

// treeVersion is the version of the parse trees pg_query makes, which its deparser checks.
var treeVersion = sync.OnceValue(func() int32 {
	r, _ := pg_query.Parse("SELECT")
	return r.GetVersion()
})

// definitionText is cf deparsed in one form whatever way the same function is written: check reads
// the history back from the catalog, where PostgreSQL writes CREATE OR REPLACE FUNCTION
// public.norm_email(text) … LANGUAGE sql IMMUTABLE AS $function$ … $function$, and a migration (a
// Flyway repeatable file above all) re-issues it as its author wrote it. So the name is the bare
// name, parameters keep their mode and type only (a name or a default changes no result), types lose
// pg_catalog, the options are sorted by name without those that change no result or say the default,
// and the body of a LANGUAGE sql function is deparsed from its parse trees (whitespace, a last ";",
// comments, letter case of keywords); another language's body is its tokens, so that only
// whitespace and comments outside its strings differ.
func definitionText(cf *pg_query.CreateFunctionStmt) (string, error) {
	c := proto.Clone(cf).(*pg_query.CreateFunctionStmt)
	c.Replace = false
	c.Funcname = []*pg_query.Node{pg_query.MakeStrNode(lastName(c.Funcname))}
	for _, p := range c.Parameters {
		if fp := p.GetFunctionParameter(); fp != nil {
			fp.Name, fp.Defexpr = "", nil
			if fp.Mode == pg_query.FunctionParameterMode_FUNC_PARAM_DEFAULT {
				fp.Mode = pg_query.FunctionParameterMode_FUNC_PARAM_IN
			}
			bareType(fp.ArgType)
		}
	}
	bareType(c.ReturnType)
	language := "sql"
	for _, o := range c.Options {
		if d := o.GetDefElem(); d.GetDefname() == "language" {
			language = strings.ToLower(d.GetArg().GetString_().GetSval())
			d.Arg = pg_query.MakeStrNode(language)
		}
	}
	c.Options = slices.DeleteFunc(c.Options, func(o *pg_query.Node) bool {
		d := o.GetDefElem()
		switch d.GetDefname() {
		case "volatility", "parallel", "cost", "rows", "leakproof", "support":
			return true
		case "strict", "security", "window": // CALLED ON NULL INPUT, SECURITY INVOKER: what no option gives
			return !d.GetArg().GetBoolean().GetBoolval()
		case "as":
			if items := d.GetArg().GetList().GetItems(); len(items) == 1 {
				items[0] = pg_query.MakeStrNode(bodyText(language, items[0].GetString_().GetSval()))
			}
		}
		return false
	})
	for _, o := range c.Options {
		o.GetDefElem().Location = 0
	}
	slices.SortStableFunc(c.Options, func(a, b *pg_query.Node) int {
		return strings.Compare(optionKey(a.GetDefElem()), optionKey(b.GetDefElem()))
	})
	return pg_query.Deparse(&pg_query.ParseResult{Version: treeVersion(), Stmts: []*pg_query.RawStmt{{Stmt: &pg_query.Node{Node: &pg_query.Node_CreateFunctionStmt{CreateFunctionStmt: c}}}}})
}

// optionKey orders a function's options: by name, SET clauses by the setting they set.
func optionKey(d *pg_query.DefElem) string {
	return d.GetDefname() + "\x00" + d.GetArg().GetVariableSetStmt().GetName()
}

// bareType writes type t by its last name: integer is pg_catalog.int4 once parsed, int4 is int4.
func bareType(t *pg_query.TypeName) {
	if t != nil && len(t.Names) > 1 {
		t.Names = []*pg_query.Node{pg_query.MakeStrNode(lastName(t.Names))}
	}
}

// bodyText is a function body in one form: a LANGUAGE sql body that parses deparsed, another body its
// tokens as PostgreSQL's scanner reads them (strings and quoted names whole), one space apart; the
// text trimmed when neither works.
func bodyText(language, body string) string {
	if language == "sql" {
		if tree, err := pg_query.Parse(body); err == nil {
			if text, err := pg_query.Deparse(tree); err == nil {
				return text
			}
		}
	}
	res, err := pg_query.Scan(body)
	if err != nil {
		return strings.TrimSpace(body)
	}
	words := make([]string, 0, len(res.Tokens))
	for _, t := range res.Tokens {
		if t.Token == pg_query.Token_SQL_COMMENT || t.Token == pg_query.Token_C_COMMENT {
			continue
		}
		words = append(words, body[t.Start:t.End])
	}
	return strings.Join(words, " ")
}

// bodyCalls lists the functions the body of a LANGUAGE sql function calls: a BEGIN ATOMIC or RETURN
// body, or one written as a string that parses. Other languages' bodies are not read.
func (s *state) bodyCalls(cf *pg_query.CreateFunctionStmt, language, body string) []funcCall {
	var tree proto.Message
	switch {
	case cf.SqlBody != nil:
		tree = cf.SqlBody
	case language != "sql":
		return nil
	default:
		parsed, err := pg_query.Parse(body)
		if err != nil {
			return nil
		}
		tree = parsed
	}
	return s.callsIn(tree)
}

// replaceFunction judges CREATE OR REPLACE FUNCTION of a function that indexes, stored generated
// columns, CHECK or exclusion constraints or partition keys of the history call (see funcUser).
func (a *analyzer) replaceFunction(cf *pg_query.CreateFunctionStmt) {
	if !cf.Replace || cf.IsProcedure {
		return
	}
	name := lastName(cf.Funcname)
	key := funcKey(a.st.qual(cf.Funcname), inputTypes(cf.Parameters))
	target := a.st.userFuncs[name][key]
	switch {
	case target != nil && sameDefinition(target.def, cf):
		return // the same function again: nothing it returns changes
	case target == nil:
		// A function the state does not know: a new one (a new overload too) that nothing stored
		// calls yet, unless it comes from outside what the state read; calls that fit it are its users.
		target = newUserFunc(cf, a.st.qual(cf.Funcname))
	}
	via := a.st.callers(target)
	var groups []string // "index a and generated column t.b use f"
	stored, checked := false, false
	// The tables new to the change, created without rows: what their users stored, only the change's
	// own statements wrote before the replacement.
	var fresh []string
	storedOld := false
	// The function itself first: an object that calls it directly and through another is said once.
	fns := append([]*userFunc{target}, a.st.sortedVia(via)...)
	said := map[*funcUser]bool{}
	for i, fn := range fns {
		if i > 0 && fn == target {
			continue
		}
		var users []string
		for _, u := range a.st.funcUsersOf(fn) {
			if said[u] {
				continue
			}
			said[u] = true
			users = append(users, shownUser(u))
			switch {
			case u.kind == userCheck:
				checked = true
			case a.st.isNew(u.table) && a.st.filled[u.table] == "":
				stored = true
				if !slices.Contains(fresh, bare(u.table)) {
					fresh = append(fresh, bare(u.table))
				}
			default:
				stored, storedOld = true, true
			}
		}
		if len(users) == 0 {
			continue
		}
		verb := "uses"
		if len(users) > 1 {
			verb = "use"
		}
		called := name
		if fn != target {
			called = viaChain(fn, via)
		}
		groups = append(groups, fmt.Sprintf("%s %s %s", andList(users), verb, called))
	}
	if len(groups) == 0 {
		return
	}
	msg := fmt.Sprintf("CREATE OR REPLACE FUNCTION %s changes what existing rows were computed or checked with: %s", name, strings.Join(groups, "; "))
	risk := Caution
	if stored {
		msg += "; PostgreSQL rebuilds no index, recomputes no stored generated column and moves no row to another partition when a function they call changes: " +
			"an index keeps the old results (a lookup by the new ones misses rows, and a unique index admits duplicates), a stored column keeps stale values"
	}
	switch {
	case storedOld:
		risk = Dangerous
	case stored:
		// Caution, not silence: a seed the change writes between the CREATE and the replacement is
		// stored with the old function; replacing the function first avoids it.
		verb := "are"
		if len(fresh) == 1 {
			verb = "is"
		}
		msg += fmt.Sprintf("; %s %s new to this change and created empty, so only rows the change itself writes before the replacement were computed with the old function (replace the function before writing them)", andList(fresh), verb)
	}
	if checked {
		msg += "; PostgreSQL does not check existing rows against a CHECK constraint again when a function it calls changes: rows the new function would refuse stay"
	}
	a.add("replace-function-in-use", msg).Risk = risk
}

// viaChain is how function fn, which an expression calls, reaches the function replaced, as via
// tells: "wrap, which calls norm_email".
func viaChain(fn *userFunc, via map[*userFunc]*userFunc) string {
	parts := []string{fn.name}
	for next := via[fn]; next != nil; next = via[next] {
		parts = append(parts, "which calls "+next.name)
	}
	return strings.Join(parts, ", ")
}

// shownUser names user u as a message shows it: "unique index users_email_uq", "generated column
// users.email_norm".
func shownUser(u *funcUser) string {
	table := bare(u.table)
	switch {
	case u.kind == userIndex && u.name == "" && u.unique:
		return "a unique index on " + table
	case u.kind == userIndex && u.name == "":
		return "an index on " + table
	case u.kind == userIndex && u.unique:
		return "unique index " + bare(u.name)
	case u.kind == userIndex:
		return "index " + bare(u.name)
	case u.kind == userGenerated:
		return "generated column " + table + "." + u.name
	case u.kind == userPartKey:
		return "the partition key of " + table
	case u.name == "":
		return "an " + u.kind + " of " + table
	}
	return u.kind + " " + u.name + " of " + table
}
