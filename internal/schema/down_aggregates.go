package schema

import (
	"strings"
)

// aggregateSQL is the statement that makes aggregate f as the catalog read it: its Definition, the
// CREATE OR REPLACE AGGREGATE internal/pg builds from pg_aggregate (transition function and state type
// with its space, final function with FINALFUNC_EXTRA and FINALFUNC_MODIFY, combine, serial and
// deserial functions, initial condition, the moving-aggregate ones, sort operator, HYPOTHETICAL), with
// two things the definition does not carry as CREATE AGGREGATE takes them:
//
//   - its parallel safety, which pg_proc holds (Function.Parallel, compared on its own) and which
//     CREATE AGGREGATE takes as PARALLEL = SAFE or RESTRICTED; ALTER FUNCTION, which sets it on a
//     function, refuses an aggregate;
//   - a sort operator regoper qualifies (pg_catalog.< where several operators are named <), which
//     CREATE AGGREGATE reads only inside OPERATOR(...): SORTOP = pg_catalog.< is a syntax error.
//
// CREATE OR REPLACE AGGREGATE (PostgreSQL 12) takes an aggregate back in place as well as making one
// again; what it refuses, another result type or kind, the down drops first (dropTablesAndColumns).
func aggregateSQL(f *Function) string {
	def := strings.TrimRight(strings.TrimSpace(f.Definition), ";")
	body, ok := strings.CutSuffix(def, ")")
	if !ok {
		return def
	}
	tail := ")"
	if b, ok := strings.CutSuffix(body, ", HYPOTHETICAL"); ok {
		body, tail = b, ", HYPOTHETICAL)"
	}
	if i := strings.LastIndex(body, ", SORTOP = "); i >= 0 {
		if op := body[i+len(", SORTOP = "):]; strings.Contains(op, ".") && !strings.HasPrefix(op, "OPERATOR(") {
			body = body[:i] + ", SORTOP = OPERATOR(" + op + ")"
		}
	}
	switch f.Parallel {
	case "PARALLEL SAFE":
		tail = ", PARALLEL = SAFE" + tail
	case "PARALLEL RESTRICTED":
		tail = ", PARALLEL = RESTRICTED" + tail
	}
	return body + tail
}

// aggregateChanged tells whether aggregate f (after the up) must be made again as bf: its definition
// differs, or its parallel safety, which no ALTER changes on an aggregate.
func aggregateChanged(f, bf *Function) bool {
	return f == nil || f.Definition != bf.Definition || f.Parallel != bf.Parallel
}

// sortOperatorLater tells whether aggregate f's sort operator is one the down makes again
// (createOperators, which comes after the routines: an operator needs its function): the aggregate
// is then made after it (createLaterAggregates). regoper names the operator without its argument
// types, so any operator of that name (and schema, when it is qualified) the down makes again counts.
func (g *downGen) sortOperatorLater(f *Function) bool {
	i := strings.LastIndex(f.Definition, ", SORTOP = ")
	if i < 0 {
		return false
	}
	op := strings.TrimSuffix(strings.TrimSuffix(f.Definition[i+len(", SORTOP = "):], ")"), ", HYPOTHETICAL")
	schema := ""
	if j := strings.LastIndexByte(op, '.'); j >= 0 {
		schema, op = unquote(op[:j]), op[j+1:]
	}
	for k, bx := range g.b.Operators {
		if bx.Name == op && (schema == "" || bx.Schema == schema) && g.a.Operators[k] == nil && bx.Function != "" {
			return true
		}
	}
	return false
}

// createAggregate makes aggregate k (f as the before-catalog has it, af after the up, nil when the up
// dropped it) again, or takes it back in place.
func (g *downGen) createAggregate(k string, f, af *Function) {
	verb := "re-create "
	if af != nil {
		verb = "restore the definition of "
	}
	g.add(verb+"aggregate "+display(k), aggregateSQL(f))
	if af == nil {
		g.markCreated(f.kindName(), k)
	}
}

// createLaterAggregates makes the aggregates whose sort operator the down made again (see
// sortOperatorLater), once it has.
func (g *downGen) createLaterAggregates() {
	for _, k := range g.laterAggregates {
		g.createAggregate(k, g.b.Functions[k], g.a.Functions[k])
	}
}
