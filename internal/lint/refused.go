package lint

import (
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
)

// exprPlace is where a statement puts an expression that PostgreSQL evaluates per row or per object
// (a parse_node.h ParseExprKind), named as PostgreSQL's errors name it: in each, PostgreSQL refuses a
// subquery ("cannot use subquery in DEFAULT expression"), an aggregate, a window function and a
// set-returning function (parse_agg.c, parse_func.c, parse_expr.c transformSubLink), and the statement
// fails.
type exprPlace string

const (
	placeDefault     exprPlace = "DEFAULT expression"
	placeCheck       exprPlace = "check constraint"
	placeGenerated   exprPlace = "column generation expression"
	placeIndexExpr   exprPlace = "index expression"
	placeIndexPred   exprPlace = "index predicate"
	placeTransform   exprPlace = "transform expression"
	placePartBound   exprPlace = "partition bound"
	placePartKey     exprPlace = "partition key expression"
	placeStatistics  exprPlace = "statistics expression"
	placeTriggerWhen exprPlace = "trigger WHEN condition"
)

// withArticle is the place with "a" or "an" before it.
func (p exprPlace) withArticle() string {
	if strings.HasPrefix(string(p), "index") {
		return "an " + string(p)
	}
	return "a " + string(p)
}

// placedExpr is one expression of a statement and where the statement puts it.
type placedExpr struct {
	place exprPlace
	expr  *pg_query.Node
}

// refusedExpressions flags refused-expression for every expression of n that PostgreSQL refuses where
// n puts it (see exprPlace): the statement fails, and the deploy stops there.
func (a *analyzer) refusedExpressions(n *pg_query.Node) {
	for _, pe := range placedExprs(n) {
		if what, loc := refusedIn(pe.expr, pe.place); what != "" {
			// The finding stands where PostgreSQL's error points: at what it refuses.
			saved := a.part
			if off := a.stmt.Offset(loc); off > 0 {
				a.part = off
			}
			a.add("refused-expression", fmt.Sprintf("PostgreSQL refuses %s in %s: the statement fails, and the deploy stops here", what, pe.place.withArticle()))
			a.part = saved
		}
	}
}

// placedExprs lists the expressions n puts where PostgreSQL refuses subqueries and aggregates.
func placedExprs(n *pg_query.Node) []placedExpr {
	var out []placedExpr
	put := func(p exprPlace, e *pg_query.Node) {
		if e != nil {
			out = append(out, placedExpr{p, e})
		}
	}
	constraint := func(c *pg_query.Constraint) {
		switch c.GetContype() {
		case pg_query.ConstrType_CONSTR_DEFAULT:
			put(placeDefault, c.RawExpr)
		case pg_query.ConstrType_CONSTR_CHECK:
			put(placeCheck, c.RawExpr)
		case pg_query.ConstrType_CONSTR_GENERATED:
			put(placeGenerated, c.RawExpr)
		}
	}
	column := func(cd *pg_query.ColumnDef) {
		if cd == nil {
			return
		}
		put(placeDefault, cd.RawDefault)
		for _, c := range cd.Constraints {
			if c := c.GetConstraint(); c != nil {
				constraint(c)
			}
		}
	}
	bound := func(b *pg_query.PartitionBoundSpec) {
		for _, l := range [][]*pg_query.Node{b.GetListdatums(), b.GetLowerdatums(), b.GetUpperdatums()} {
			for _, d := range l {
				put(placePartBound, d)
			}
		}
	}
	switch {
	case n.GetCreateStmt() != nil:
		cs := n.GetCreateStmt()
		for _, e := range cs.TableElts {
			column(e.GetColumnDef())
			if c := e.GetConstraint(); c != nil {
				constraint(c)
			}
		}
		bound(cs.Partbound)
		for _, p := range cs.GetPartspec().GetPartParams() {
			put(placePartKey, p.GetPartitionElem().GetExpr())
		}
	case n.GetAlterTableStmt() != nil:
		for _, c := range n.GetAlterTableStmt().Cmds {
			cmd := c.GetAlterTableCmd()
			switch cmd.GetSubtype() {
			case pg_query.AlterTableType_AT_AddColumn:
				column(cmd.Def.GetColumnDef())
			case pg_query.AlterTableType_AT_ColumnDefault:
				put(placeDefault, cmd.Def)
			case pg_query.AlterTableType_AT_AddConstraint:
				if c := cmd.Def.GetConstraint(); c != nil {
					constraint(c)
				}
			case pg_query.AlterTableType_AT_AlterColumnType:
				put(placeTransform, cmd.Def.GetColumnDef().GetRawDefault()) // USING
			case pg_query.AlterTableType_AT_AttachPartition:
				bound(cmd.Def.GetPartitionCmd().GetBound())
			}
		}
	case n.GetIndexStmt() != nil:
		is := n.GetIndexStmt()
		for _, p := range is.IndexParams {
			put(placeIndexExpr, p.GetIndexElem().GetExpr())
		}
		put(placeIndexPred, is.WhereClause)
	case n.GetCreateDomainStmt() != nil:
		for _, c := range n.GetCreateDomainStmt().Constraints {
			if c := c.GetConstraint(); c != nil {
				constraint(c)
			}
		}
	case n.GetAlterDomainStmt() != nil:
		ad := n.GetAlterDomainStmt()
		switch ad.Subtype {
		case "T": // SET DEFAULT
			put(placeDefault, ad.Def)
		case "C": // ADD CONSTRAINT
			if c := ad.Def.GetConstraint(); c != nil {
				constraint(c)
			}
		}
	case n.GetCreateStatsStmt() != nil:
		for _, e := range n.GetCreateStatsStmt().Exprs {
			put(placeStatistics, e.GetStatsElem().GetExpr())
		}
	case n.GetCreateTrigStmt() != nil:
		put(placeTriggerWhen, n.GetCreateTrigStmt().WhenClause)
	}
	return out
}

// aggregateNames are built-in aggregates by name, with the number of arguments their calls take: an
// unqualified name finds pg_catalog's first.
var aggregateNames = map[string]int{"count": 1, "sum": 1, "avg": 1, "min": 1, "max": 1,
	"array_agg": 1, "string_agg": 2, "bool_and": 1, "bool_or": 1, "every": 1,
	"json_agg": 1, "jsonb_agg": 1, "json_object_agg": 2, "jsonb_object_agg": 2,
	"bit_and": 1, "bit_or": 1, "stddev": 1, "variance": 1}

// setReturningNames are built-in set-returning functions, by name.
var setReturningNames = map[string]bool{"generate_series": true, "unnest": true, "generate_subscripts": true,
	"regexp_matches": true, "regexp_split_to_table": true, "json_array_elements": true, "jsonb_array_elements": true,
	"json_array_elements_text": true, "jsonb_array_elements_text": true, "json_each": true, "jsonb_each": true,
	"json_each_text": true, "jsonb_each_text": true, "json_object_keys": true, "jsonb_object_keys": true}

// refusedIn says what in e PostgreSQL refuses at place ("a subquery", "the aggregate function count",
// …), or "" when nothing is, and where it stands (its parse-tree location, -1 when unknown). Only what the parse tree tells for certain counts: a subquery; a call with
// OVER (a window function); a call with *, DISTINCT, ORDER BY, FILTER or WITHIN GROUP, or one of
// pg_catalog's aggregates or set-returning functions by its name (unqualified or pg_catalog.);
// in a DEFAULT, a column reference ("cannot use column reference in DEFAULT expression").
func refusedIn(e *pg_query.Node, place exprPlace) (string, int32) {
	type found struct {
		what string
		loc  int32
	}
	var sub, agg, win, srf, col found
	first := func(f *found, what string, loc int32) { // of each kind, the first in the text
		if f.what == "" || loc >= 0 && (f.loc < 0 || loc < f.loc) {
			*f = found{what, loc}
		}
	}
	walk(e, func(m proto.Message) {
		switch x := m.(type) {
		case *pg_query.SubLink:
			first(&sub, "a subquery", x.Location)
		case *pg_query.FuncCall:
			name, builtin := callName(x)
			switch {
			case x.Over != nil:
				first(&win, "the window function "+name, x.Location)
			case x.AggStar || x.AggDistinct || len(x.AggOrder) > 0 || x.AggFilter != nil || x.AggWithinGroup:
				first(&agg, "the aggregate function "+name, x.Location)
			case builtin && aggregateNames[name] > 0 && len(x.Args) == aggregateNames[name]:
				first(&agg, "the aggregate function "+name, x.Location)
			case builtin && setReturningNames[name]:
				first(&srf, "the set-returning function "+name, x.Location)
			}
		case *pg_query.ColumnRef:
			if place == placeDefault {
				first(&col, "a column reference ("+columnRefText(x)+")", x.Location)
			}
		}
	})
	for _, f := range []found{sub, agg, win, srf, col} {
		if f.what != "" {
			return f.what, f.loc
		}
	}
	return "", -1
}

// callName is a call's function name and whether it names pg_catalog's (unqualified or pg_catalog.).
func callName(fc *pg_query.FuncCall) (string, bool) {
	n := fc.Funcname
	return lastName(n), len(n) == 1 || len(n) == 2 && n[0].GetString_().GetSval() == "pg_catalog"
}

// columnRefText is a column reference as written, its parts joined with dots.
func columnRefText(cr *pg_query.ColumnRef) string {
	var parts []string
	for _, f := range cr.Fields {
		if s := f.GetString_(); s != nil {
			parts = append(parts, s.Sval)
		} else if f.GetAStar() != nil {
			parts = append(parts, "*")
		}
	}
	return strings.Join(parts, ".")
}

// refuses tells whether PostgreSQL refuses something in e at place (see refusedIn).
func refuses(e *pg_query.Node, place exprPlace) bool {
	what, _ := refusedIn(e, place)
	return what != ""
}
