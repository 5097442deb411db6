package lint

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
)

// The volatility of the functions a DEFAULT calls decides whether ADD COLUMN rewrites the table: a
// volatile one (pg_proc.provolatile = 'v') is evaluated for each row, any other once, stored as the
// column's missing value. TestFuncVolatilityMatchesServer checks these lists against pg_proc.

// volatileFuncs are functions whose DEFAULT forces a table rewrite (provolatile = 'v').
var volatileFuncs = map[string]bool{
	"clock_timestamp": true, "random": true, "gen_random_uuid": true, "uuid_generate_v1": true,
	"uuid_generate_v1mc": true, "uuid_generate_v4": true, "uuidv4": true, "uuidv7": true, "uuid_generate_v7": true,
	"nextval": true, "timeofday": true, "setseed": true, "random_normal": true,
	"gen_random_bytes": true, "setval": true, "currval": true, "lastval": true,
}

// stableFuncs are functions known not to be volatile: a DEFAULT calling them is stored once (fast default).
// txid_current and pg_current_xact_id are stable: the transaction's id does not change within it; so
// are the session and server information functions (pg_backend_pid, version…).
var stableFuncs = map[string]bool{
	"txid_current": true, "pg_current_xact_id": true, "txid_current_if_assigned": true, "pg_current_xact_id_if_assigned": true,
	"txid_current_snapshot": true, "pg_current_snapshot": true,
	"pg_backend_pid": true, "current_database": true, "current_schema": true, "current_schemas": true, "version": true,
	"inet_client_addr": true, "inet_client_port": true, "inet_server_addr": true, "inet_server_port": true,
	"pg_postmaster_start_time": true, "pg_conf_load_time": true, "pg_my_temp_schema": true, "pg_trigger_depth": true,
	"now": true, "transaction_timestamp": true, "statement_timestamp": true, "current_setting": true, "lower": true, "upper": true,
	"btrim": true, "trim": true, "length": true, "concat": true, "concat_ws": true, "md5": true, "abs": true, "round": true,
	"to_char": true, "to_date": true, "to_timestamp": true, "to_json": true, "to_jsonb": true, "json_build_object": true,
	"jsonb_build_object": true, "json_build_array": true, "jsonb_build_array": true, "array_fill": true, "make_interval": true,
	"make_date": true, "date_trunc": true, "timezone": true, "replace": true, "substring": true, "left": true, "right": true,
	"format": true, "repeat": true, "int4range": true, "int8range": true, "tstzrange": true, "daterange": true, "numrange": true,
	"tsrange": true, "jsonb_object": true, "json_object": true, "array_to_string": true, "string_to_array": true,
}

// userFunc is what the state knows of one function the history defines (one signature), for the
// volatility of a call of it.
type userFunc struct {
	volatility string // "volatile" (what CREATE FUNCTION without STABLE or IMMUTABLE gives), "stable" or "immutable"
	// inlined is the expression PostgreSQL puts in place of a call when it inlines the function
	// (inline_function): the one SELECT, without FROM, of a LANGUAGE sql function that is not SECURITY
	// DEFINER, has no SET clause and returns one value. An inlined call is as volatile as this
	// expression, whatever the function says; nil when PostgreSQL calls the function.
	inlined *pg_query.Node
	// strict is STRICT, under which PostgreSQL inlines only a body of strict functions: the parser
	// cannot tell which a body calls.
	strict bool
	// params counts the body's references to parameters: PostgreSQL does not inline a function whose
	// body uses a parameter twice when the argument costs more than a constant.
	params int
	// def is the CREATE FUNCTION that defined it, which a replacement of the same text does not change
	// (see sameDefinition); calls are the functions its LANGUAGE sql body calls (see bodyCalls).
	def   *pg_query.CreateFunctionStmt
	calls []funcCall
	// key is its funcKey, qual its key without arguments, name its bare name; inputs and required
	// count its input parameters and those without a default, which decide the calls it takes.
	key, qual, name  string
	inputs, required int
	variadic         bool
}

// newUserFunc is the identity of the function cf defines, whose schema-qualified key is qual.
func newUserFunc(cf *pg_query.CreateFunctionStmt, qual string) *userFunc {
	f := &userFunc{volatility: "volatile", key: funcKey(qual, inputTypes(cf.Parameters)), qual: qual, name: lastName(cf.Funcname)}
	for _, p := range cf.Parameters {
		fp := p.GetFunctionParameter()
		switch fp.GetMode() {
		case pg_query.FunctionParameterMode_FUNC_PARAM_OUT, pg_query.FunctionParameterMode_FUNC_PARAM_TABLE:
			continue
		case pg_query.FunctionParameterMode_FUNC_PARAM_VARIADIC:
			f.variadic = true
		}
		f.inputs++
		if fp.GetDefexpr() == nil && fp.GetMode() != pg_query.FunctionParameterMode_FUNC_PARAM_VARIADIC {
			f.required = f.inputs
		}
	}
	return f
}

// funcKey names a function's signature among its overloads: schema-qualified name and input types.
func funcKey(qualified string, types []string) string {
	return qualified + "(" + strings.Join(types, ",") + ")"
}

// defineFunction notes a CREATE [OR REPLACE] FUNCTION: its volatility, and the expression PostgreSQL
// inlines in its place if it does.
func (s *state) defineFunction(cf *pg_query.CreateFunctionStmt) {
	if cf.IsProcedure {
		return
	}
	f := newUserFunc(cf, s.qual(cf.Funcname))
	var language, body string
	inlinable := !cf.GetReturnType().GetSetof()
	if name, _ := typeName(cf.ReturnType); name == "record" || name == "void" || name == "trigger" {
		inlinable = false
	}
	for _, o := range cf.Options {
		d := o.GetDefElem()
		switch d.GetDefname() {
		case "volatility":
			f.volatility = d.GetArg().GetString_().GetSval()
		case "language":
			language = strings.ToLower(d.GetArg().GetString_().GetSval())
		case "as":
			if items := d.GetArg().GetList().GetItems(); len(items) > 0 {
				body = items[0].GetString_().GetSval()
			}
		case "strict":
			f.strict = d.GetArg().GetBoolean().GetBoolval()
		case "security":
			inlinable = inlinable && !d.GetArg().GetBoolean().GetBoolval()
		case "set":
			inlinable = false
		}
	}
	if inlinable && language == "sql" {
		var stmt *pg_query.Node
		switch {
		case cf.SqlBody.GetReturnStmt() != nil: // RETURN expr
			f.inlined = cf.SqlBody.GetReturnStmt().Returnval
		case cf.SqlBody != nil: // BEGIN ATOMIC … END: a list of the list of its statements
			if outer := cf.SqlBody.GetList().GetItems(); len(outer) == 1 {
				if inner := outer[0].GetList().GetItems(); len(inner) == 1 {
					stmt = inner[0]
				}
			}
		default:
			if tree, err := pg_query.Parse(body); err == nil && len(tree.Stmts) == 1 {
				stmt = tree.Stmts[0].Stmt
			}
		}
		if stmt != nil {
			f.inlined = inlinedSelect(stmt.GetSelectStmt())
		}
		walk(f.inlined, func(m proto.Message) {
			switch m.(type) {
			case *pg_query.SubLink:
				f.inlined = nil
			case *pg_query.ParamRef, *pg_query.ColumnRef:
				f.params++
			}
		})
	}
	f.def, f.calls = cf, s.bodyCalls(cf, language, body)
	if s.userFuncs[f.name] == nil {
		s.userFuncs[f.name] = map[string]*userFunc{}
	}
	s.userFuncs[f.name][f.key] = f
}

// inlinedSelect is the expression of a SELECT that PostgreSQL's inline_function accepts: one target,
// no FROM, WHERE, grouping, window, DISTINCT, ORDER BY, LIMIT, WITH or set operation; nil for any other.
func inlinedSelect(sel *pg_query.SelectStmt) *pg_query.Node {
	if sel == nil || len(sel.TargetList) != 1 || len(sel.FromClause) > 0 || sel.WhereClause != nil ||
		len(sel.GroupClause) > 0 || sel.HavingClause != nil || len(sel.WindowClause) > 0 || len(sel.DistinctClause) > 0 ||
		len(sel.SortClause) > 0 || sel.LimitCount != nil || sel.LimitOffset != nil || sel.WithClause != nil ||
		len(sel.ValuesLists) > 0 || sel.IntoClause != nil || sel.Op != pg_query.SetOperation_SETOP_NONE {
		return nil
	}
	return sel.TargetList[0].GetResTarget().GetVal()
}

// funcSignature is the key of the function an ALTER, DROP or RENAME FUNCTION names, and whether it
// names every overload (no argument list).
func (s *state) funcSignature(o *pg_query.ObjectWithArgs) (name, key string, all bool) {
	var types []string
	for _, a := range o.GetObjargs() {
		t, _ := typeName(a.GetTypeName())
		types = append(types, t)
	}
	return lastName(o.GetObjname()), funcKey(s.qual(o.GetObjname()), types), o.GetArgsUnspecified()
}

// forgetFunction drops what the state knows of the functions o names (DROP FUNCTION, RENAME TO).
func (s *state) forgetFunction(o *pg_query.ObjectWithArgs) {
	name, key, all := s.funcSignature(o)
	if all {
		delete(s.userFuncs, name)
		return
	}
	delete(s.userFuncs[name], key)
}

// alterFunction notes ALTER FUNCTION … VOLATILE / STABLE / IMMUTABLE and the changes that stop
// PostgreSQL from inlining it (SECURITY DEFINER, SET …).
func (s *state) alterFunction(af *pg_query.AlterFunctionStmt) {
	name, key, all := s.funcSignature(af.Func)
	for k, f := range s.userFuncs[name] {
		if k != key && !all {
			continue
		}
		for _, o := range af.Actions {
			d := o.GetDefElem()
			switch d.GetDefname() {
			case "volatility":
				f.volatility = d.GetArg().GetString_().GetSval()
			case "strict":
				f.strict = d.GetArg().GetBoolean().GetBoolval()
			case "security":
				if d.GetArg().GetBoolean().GetBoolval() {
					f.inlined = nil
				}
			case "set":
				f.inlined = nil
			}
		}
	}
}

// Volatility verdicts of a DEFAULT.
const (
	volFast     = iota // no volatile call: a fast default on PostgreSQL 11+
	volUnknown         // a call the parser cannot judge
	volVolatile        // a volatile call: the table is rewritten
)

// defaultCall is what a DEFAULT's function calls make of it: the verdict, the function that decides
// it, why (for messages, "" for a built-in of the lists), and whether a function of the history was
// judged (the rehearsal's trace may still correct such a judgement).
type defaultCall struct {
	verdict int
	fn, why string
	user    bool
}

// defaultVolatility judges the function calls of a DEFAULT: volatile when one is (a built-in of
// volatileFuncs, a function of the history declared or left VOLATILE that PostgreSQL calls, or one it
// inlines to a volatile expression), unknown when one cannot be judged (a function the history does
// not define, overloads that disagree), fast otherwise.
func (s *state) defaultVolatility(def *pg_query.Node) defaultCall {
	return s.callsVolatility(def, 0)
}

func (s *state) callsVolatility(expr *pg_query.Node, depth int) defaultCall {
	var volatile, unknown, fast *defaultCall
	user := false
	walk(expr, func(m proto.Message) {
		fc, ok := m.(*pg_query.FuncCall)
		if !ok || volatile != nil {
			return
		}
		name := lastName(fc.Funcname)
		var c defaultCall
		switch {
		case volatileFuncs[name]:
			c = defaultCall{verdict: volVolatile, fn: name}
		case stableFuncs[name]:
			return
		default:
			c = s.userCall(fc, name, depth)
			user = user || c.verdict != volUnknown || len(s.userFuncs[name]) > 0
		}
		switch c.verdict {
		case volVolatile:
			volatile = &c
		case volUnknown:
			if unknown == nil {
				unknown = &c
			}
		default:
			if fast == nil {
				fast = &c
			}
		}
	})
	switch {
	case volatile != nil:
		volatile.user = volatile.user || user
		return *volatile
	case unknown != nil:
		unknown.user = unknown.user || user
		return *unknown
	case fast != nil:
		return *fast
	}
	return defaultCall{verdict: volFast, user: user}
}

// userCall judges a call of a function that is not a built-in of the lists, by the definitions of the
// history: every overload by the name must agree.
func (s *state) userCall(fc *pg_query.FuncCall, name string, depth int) defaultCall {
	defs := s.userFuncs[name]
	if len(defs) == 0 || depth > 8 {
		return defaultCall{verdict: volUnknown, fn: name}
	}
	var first *defaultCall
	for _, key := range slices.Sorted(maps.Keys(defs)) {
		c := s.judgeUserFunc(fc, name, defs[key], depth)
		if first == nil {
			first = &c
		} else if c.verdict != first.verdict {
			return defaultCall{verdict: volUnknown, fn: name, why: fmt.Sprintf("the history defines several %s() functions that PostgreSQL would not judge alike", name), user: true}
		}
	}
	return *first
}

func (s *state) judgeUserFunc(fc *pg_query.FuncCall, name string, f *userFunc, depth int) defaultCall {
	switch {
	case f.volatility != "volatile":
		return defaultCall{verdict: volFast, fn: name, why: fmt.Sprintf("%s() is %s", name, strings.ToUpper(f.volatility)), user: true}
	case f.inlined == nil:
		return defaultCall{verdict: volVolatile, fn: name, why: fmt.Sprintf("%s() is VOLATILE, as a CREATE FUNCTION without STABLE or IMMUTABLE makes it", name), user: true}
	case f.strict:
		return defaultCall{verdict: volUnknown, fn: name, why: fmt.Sprintf("%s() is a VOLATILE, STRICT LANGUAGE sql function, which PostgreSQL inlines only when its body's functions are strict", name), user: true}
	}
	if f.params > 1 && slices.ContainsFunc(fc.Args, func(a *pg_query.Node) bool {
		found := false
		walk(a, func(m proto.Message) { _, fn := m.(*pg_query.FuncCall); found = found || fn })
		return found
	}) {
		return defaultCall{verdict: volUnknown, fn: name, why: fmt.Sprintf("whether PostgreSQL inlines %s() depends on what its arguments cost", name), user: true}
	}
	body := s.callsVolatility(f.inlined, depth+1)
	switch body.verdict {
	case volVolatile:
		return defaultCall{verdict: volVolatile, fn: name, why: fmt.Sprintf("%s() is a LANGUAGE sql function that PostgreSQL inlines, and its body calls %s(), which is volatile", name, body.fn), user: true}
	case volUnknown:
		return defaultCall{verdict: volUnknown, fn: name, why: fmt.Sprintf("%s() is a LANGUAGE sql function that PostgreSQL inlines, and the parser does not know whether %s(), which its body calls, is volatile", name, body.fn), user: true}
	}
	return defaultCall{verdict: volFast, fn: name, why: fmt.Sprintf("%s() is a LANGUAGE sql function that PostgreSQL inlines to an expression that is not volatile", name), user: true}
}
