package lint

import (
	"slices"
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// autoName is an index of table whose name PostgreSQL chose (ChooseIndexName in indexcmds.c):
// makeObjectName(named, name2, label), or with a number after the label when that name was taken
// (ChooseRelationName). named is the table's name then (the index keeps its name when the table is
// renamed); name2 joins the index's column names (ChooseIndexNameAddition); a primary key's has none.
// One without a label stands for indexes whose columns and kind the state does not follow (the copies
// LIKE … INCLUDING INDEXES and a partition get): any columns, any label.
type autoName struct {
	table, named string
	name2, label string
}

// autoLabels are the labels ChooseIndexName gives: a primary key, a UNIQUE constraint, an EXCLUDE
// constraint, any other index.
var autoLabels = []string{"pkey", "key", "excl", "idx"}

// namedAs tells whether PostgreSQL may have given name to the index n describes.
func (n autoName) namedAs(name string) bool {
	table := n.named
	// The number ChooseRelationName adds: 1, 2, … (never 0 or a leading zero).
	num := name[len(strings.TrimRight(name, "0123456789")):]
	if num != "" && num[0] == '0' {
		return false
	}
	if n.label != "" {
		return makeObjectName(table, n.name2, n.label+num) == name
	}
	for _, base := range autoLabels {
		label := base + num
		if base == "pkey" {
			if makeObjectName(table, "", label) == name {
				return true
			}
			continue
		}
		// Whatever the columns, name2 is 1 to 127 bytes long (ChooseIndexNameAddition stops past
		// NAMEDATALEN): the table's part is what makeObjectName keeps of it beside that many, and
		// name2's part as long as it keeps of name2, or up to 3 bytes less when that cuts a character.
		rest, ok := strings.CutSuffix(name, "_"+label)
		if !ok {
			continue
		}
		for l2 := 1; l2 < 128; l2++ {
			n1, n2 := objectNameLengths(len(table), l2, label)
			after, ok := strings.CutPrefix(rest, clipName(table, n1)+"_")
			if ok && len(after) <= n2 && len(after) >= n2-3 {
				return true
			}
		}
	}
	return false
}

// objectNameLengths is how many bytes makeObjectName keeps of a name1 of l1 bytes and a name2 of l2
// (0: none) beside label, before it cuts each at a character boundary: the longer is cut first until
// both fit in 63 bytes with the underscores.
func objectNameLengths(l1, l2 int, label string) (n1, n2 int) {
	avail := 63 - len(label) - 1
	if l2 > 0 {
		avail-- // the underscore between them
	}
	n1, n2 = l1, l2
	for n1+n2 > avail {
		if n1 > n2 {
			n1--
		} else {
			n2--
		}
	}
	return n1, n2
}

// autoIndex records that table t has an index whose name PostgreSQL chose, as n describes it.
func (s *state) autoIndex(t string, n autoName) {
	n.table, n.named = t, bare(t)
	s.addAutoName(n)
}

// autoPrefixLen is how many bytes of the name a table had autoByPrefix indexes its autoNames by: no
// more than makeObjectName keeps of it beside any name2 and a label of autoMaxNum digits (objectNameLengths
// keeps at least 23 bytes of a name1 that long, clipName cuts up to 3 more), so the name PostgreSQL gives
// an index starts with that prefix.
const autoPrefixLen = 16

// autoMaxNum is the longest number after the label the prefix index answers for: ChooseRelationName's
// are ints, of at most 10 digits. A longer one leaves less of the table's name (autoOwners walks all).
const autoMaxNum = 10

// autoPrefix is the prefix of the name a table had that autoByPrefix indexes its indexes by.
func autoPrefix(named string) string { return named[:min(len(named), autoPrefixLen)] }

// addAutoName records autoName n in both indexes.
func (s *state) addAutoName(n autoName) {
	addAutoTo(s.autoNames, n.table, n)
	addAutoTo(s.autoByPrefix, autoPrefix(n.named), n)
}

func addAutoTo(m map[string]map[autoName]bool, k string, n autoName) {
	if m[k] == nil {
		m[k] = map[autoName]bool{}
	}
	m[k][n] = true
}

// forgetAutoName removes autoName n from both indexes.
func (s *state) forgetAutoName(n autoName) {
	forgetAutoFrom(s.autoNames, n.table, n)
	forgetAutoFrom(s.autoByPrefix, autoPrefix(n.named), n)
}

func forgetAutoFrom(m map[string]map[autoName]bool, k string, n autoName) {
	delete(m[k], n)
	if len(m[k]) == 0 {
		delete(m, k)
	}
}

// autoOwners lists the tables (by key) that PostgreSQL may have named an index of key's name for, in
// key's schema, or in any schema unless qualified (see absent).
func (s *state) autoOwners(key string, qualified bool) []string {
	schema := keySchema(key)
	name := bare(key)
	var owners []string
	look := func(names map[autoName]bool) {
		for n := range names {
			if ts := keySchema(n.table); qualified && ts != schema || slices.Contains(owners, n.table) {
				continue
			}
			if n.namedAs(name) {
				owners = append(owners, n.table)
			}
		}
	}
	if len(name)-len(strings.TrimRight(name, "0123456789")) > autoMaxNum {
		for _, names := range s.autoNames {
			look(names)
		}
		return owners
	}
	// The name starts with the autoPrefix of the name the table had: one of name's first
	// autoPrefixLen+1 prefixes, each a key of its own.
	for l := 0; l <= min(len(name), autoPrefixLen); l++ {
		look(s.autoByPrefix[name[:l]])
	}
	return owners
}

// newAutoIndex tells whether a relation by the name of key can only be an index PostgreSQL named for
// tables new to the change (see isNew): a DROP of it locks nothing that existed before.
func (s *state) newAutoIndex(key string, qualified bool) bool {
	owners := s.autoOwners(key, qualified)
	if len(owners) == 0 || !s.unknown(key, qualified) {
		return false
	}
	for _, t := range owners {
		if !s.isNew(t) {
			return false
		}
	}
	return true
}

// indexAutoName is how PostgreSQL names index is when it has no name: an expression's column is named
// as FigureIndexColname names it, and one the state cannot name leaves any name possible (the zero
// autoName).
func indexAutoName(is *pg_query.IndexStmt) autoName {
	label := "idx"
	switch {
	case is.Primary:
		label = "pkey"
	case len(is.ExcludeOpNames) > 0:
		label = "excl"
	case is.Isconstraint:
		label = "key"
	}
	var cols []string
	for _, p := range append(append([]*pg_query.Node{}, is.IndexParams...), is.IndexIncludingParams...) {
		e := p.GetIndexElem()
		switch {
		case e == nil:
			return autoName{}
		case e.Indexcolname != "":
			cols = append(cols, e.Indexcolname)
		case e.Name != "":
			cols = append(cols, e.Name)
		default:
			name, _, ok := figureColname(e.Expr)
			if !ok {
				return autoName{}
			}
			if name == "" {
				name = "expr"
			}
			cols = append(cols, name)
		}
	}
	if label == "pkey" {
		return autoName{label: label}
	}
	return autoName{name2: indexNameAddition(indexColumnNames(cols)), label: label}
}

// constraintAutoName is how PostgreSQL names the index of an unnamed PRIMARY KEY, UNIQUE or EXCLUDE
// constraint c (of column col when it is written on one); the zero autoName when the state cannot tell.
func constraintAutoName(c *pg_query.Constraint, col string) autoName {
	var cols []string
	switch c.Contype {
	case pg_query.ConstrType_CONSTR_PRIMARY:
		return autoName{label: "pkey"}
	case pg_query.ConstrType_CONSTR_UNIQUE:
		for _, k := range c.Keys {
			cols = append(cols, k.GetString_().GetSval())
		}
		if len(c.Keys) == 0 {
			cols = append(cols, col)
		}
	case pg_query.ConstrType_CONSTR_EXCLUSION:
		// An element that is an expression is named when PostgreSQL transforms the statement, which
		// the state does not follow for constraints: any name.
		for _, x := range c.Exclusions {
			items := x.GetList().GetItems()
			if len(items) == 0 || items[0].GetIndexElem().GetName() == "" {
				return autoName{}
			}
			cols = append(cols, items[0].GetIndexElem().GetName())
		}
	default:
		return autoName{}
	}
	for _, k := range c.Including {
		cols = append(cols, k.GetString_().GetSval())
	}
	label := "key"
	if c.Contype == pg_query.ConstrType_CONSTR_EXCLUSION {
		label = "excl"
	}
	return autoName{name2: indexNameAddition(indexColumnNames(cols)), label: label}
}

// indexColumnNames makes names unique as ChooseIndexColumnNames does: a name an earlier column has
// gets a number (expr, expr1, expr2), cut to fit 63 bytes with it.
func indexColumnNames(names []string) []string {
	out := make([]string, 0, len(names))
	for _, orig := range names {
		cur := orig
		for i := 1; slices.Contains(out, cur); i++ {
			nbuf := strconv.Itoa(i)
			cur = clipName(orig, 63-len(nbuf)) + nbuf
		}
		out = append(out, cur)
	}
	return out
}

// indexNameAddition joins column names with underscores as ChooseIndexNameAddition does, stopping once
// the result reaches NAMEDATALEN (64) bytes.
func indexNameAddition(names []string) string {
	var b strings.Builder
	for _, n := range names {
		if b.Len() > 0 {
			b.WriteByte('_')
		}
		b.WriteString(clipName(n, 63))
		if b.Len() >= 64 {
			break
		}
	}
	return b.String()
}

// clipName cuts name to at most n bytes, at a character boundary.
func clipName(name string, n int) string {
	if len(name) <= n {
		return name
	}
	for n > 0 && name[n]&0xC0 == 0x80 {
		n--
	}
	return name[:n]
}

// figureColname names an index expression's column as PostgreSQL's FigureColnameInternal does: the
// name, its strength (2 a name of its own, 1 a fallback a stronger one replaces, 0 none, so expr), and
// whether the state can tell at all (an expression it does not model may have any name).
func figureColname(n *pg_query.Node) (name string, strength int, ok bool) {
	switch {
	case n == nil:
		return "", 0, true
	case n.GetColumnRef() != nil:
		for _, f := range n.GetColumnRef().Fields {
			if s := f.GetString_(); s != nil {
				name = s.Sval
			}
		}
		if name != "" {
			return name, 2, true
		}
		return "", 0, true
	case n.GetAIndirection() != nil:
		ind := n.GetAIndirection()
		for _, i := range ind.Indirection {
			if s := i.GetString_(); s != nil {
				name = s.Sval
			}
		}
		if name != "" {
			return name, 2, true
		}
		return figureColname(ind.Arg)
	case n.GetFuncCall() != nil:
		fn := n.GetFuncCall().Funcname
		return fn[len(fn)-1].GetString_().GetSval(), 2, true
	case n.GetAExpr() != nil:
		if n.GetAExpr().Kind == pg_query.A_Expr_Kind_AEXPR_NULLIF {
			return "nullif", 2, true
		}
		return "", 0, true
	case n.GetTypeCast() != nil:
		tc := n.GetTypeCast()
		name, strength, ok = figureColname(tc.Arg)
		if ok && strength <= 1 && tc.TypeName != nil && len(tc.TypeName.Names) > 0 {
			return tc.TypeName.Names[len(tc.TypeName.Names)-1].GetString_().GetSval(), 1, true
		}
		return name, strength, ok
	case n.GetCollateClause() != nil:
		return figureColname(n.GetCollateClause().Arg)
	case n.GetCaseExpr() != nil:
		name, strength, ok = figureColname(n.GetCaseExpr().Defresult)
		if ok && strength <= 1 {
			return "case", 1, true
		}
		return name, strength, ok
	case n.GetAArrayExpr() != nil:
		return "array", 2, true
	case n.GetRowExpr() != nil:
		return "row", 2, true
	case n.GetCoalesceExpr() != nil:
		return "coalesce", 2, true
	case n.GetMinMaxExpr() != nil:
		if n.GetMinMaxExpr().Op == pg_query.MinMaxOp_IS_GREATEST {
			return "greatest", 2, true
		}
		return "least", 2, true
	case n.GetAConst() != nil, n.GetBoolExpr() != nil, n.GetNullTest() != nil, n.GetBooleanTest() != nil:
		return "", 0, true
	}
	return "", 0, false
}
