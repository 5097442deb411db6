package schema

import "strings"

// memberProperty starts the property of a member of an operator family or class ("member OPERATOR 1
// (integer, integer)"): its value is the operator or function that fills the slot.
const memberProperty = "member "

// operatorObjects flattens the operators, operator families and classes, text search parsers and
// templates of c.
func (c *Catalog) operatorObjects() []object {
	var out []object
	for k, x := range c.Operators {
		// No name: an operator's name is punctuation, which canon would find in every text.
		out = append(out, object{kind: KindOperator, key: k, id: oidStr(x.OID), def: operatorSummary(x), schema: x.Schema,
			props: []PropertyChange{prop("result", x.Result), prop("function", x.Function), prop("commutator", x.Commutator),
				prop("negator", x.Negator), prop("restrict estimator", x.Restrict), prop("join estimator", x.Join),
				prop("join support", joinSupport(x)), prop("owner", x.Owner), prop("comment", x.Comment)}})
	}
	for k, x := range c.OperatorFamilies {
		props := memberProps(x.Members)
		props = append(props, prop("owner", x.Owner), prop("comment", x.Comment))
		out = append(out, object{kind: KindOpFamily, key: k, id: oidStr(x.OID), def: opFamilySummary(x), name: x.Name, schema: x.Schema,
			props: props})
	}
	for k, x := range c.OperatorClasses {
		props := []PropertyChange{prop("type", x.Type), prop("storage type", x.Storage), prop("default", boolStr(x.Default)),
			prop("family", x.Family)}
		props = append(props, memberProps(x.Members)...)
		props = append(props, prop("owner", x.Owner), prop("comment", x.Comment))
		out = append(out, object{kind: KindOpClass, key: k, id: oidStr(x.OID), def: opClassSummary(x), name: x.Name, schema: x.Schema,
			props: props})
	}
	for k, x := range c.TextSearchParsers {
		out = append(out, object{kind: KindTSParser, key: k, id: oidStr(x.OID), def: tsParserSummary(x), name: x.Name, schema: x.Schema,
			props: []PropertyChange{prop("start function", x.Start), prop("gettoken function", x.GetToken), prop("end function", x.End),
				prop("lextypes function", x.LexTypes), prop("headline function", x.Headline), prop("comment", x.Comment)}})
	}
	for k, x := range c.TextSearchTemplates {
		out = append(out, object{kind: KindTSTemplate, key: k, id: oidStr(x.OID), def: tsTemplateSummary(x), name: x.Name, schema: x.Schema,
			props: []PropertyChange{prop("init function", x.Init), prop("lexize function", x.Lexize), prop("comment", x.Comment)}})
	}
	return out
}

// withBuiltInFamilies gives each of a and b the built-in families the other holds and it lacks, with
// no members: a catalog holds a built-in family only for the members users added to it, so one that
// lacks it has none.
func withBuiltInFamilies(a, b *Catalog) {
	for _, p := range [][2]*Catalog{{a, b}, {b, a}} {
		for k, f := range p[0].OperatorFamilies {
			if f.BuiltIn && p[1].OperatorFamilies[k] == nil {
				p[1].OperatorFamilies[k] = &OperatorFamily{OID: f.OID, Schema: f.Schema, Name: f.Name, Method: f.Method, BuiltIn: true}
			}
		}
	}
}

func memberProps(ms []OpMember) []PropertyChange {
	out := make([]PropertyChange, len(ms))
	for i, m := range ms {
		out[i] = prop(memberProperty+m.Slot(), m.What())
	}
	return out
}

// joinSupport words HASHES and MERGES: "HASHES, MERGES", "" for neither.
func joinSupport(x *Operator) string {
	var s []string
	if x.Hashes {
		s = append(s, "HASHES")
	}
	if x.Merges {
		s = append(s, "MERGES")
	}
	return strings.Join(s, ", ")
}

// functionName is the name of a function as regprocedure writes it, without its argument types.
func functionName(sig string) string {
	name, _, _ := cutSignature(sig)
	return name
}

// cutSignature cuts a signature as regprocedure or regoperator writes it ("s.f(integer,integer)") into
// the name and the argument list without its parentheses ("integer,integer"). It cuts at the first "("
// outside double quotes: a quoted name ("f(x)", a schema "a(b") may hold one.
func cutSignature(sig string) (name, args string, ok bool) {
	quoted := false
	for i := 0; i < len(sig); i++ {
		switch sig[i] {
		case '"':
			quoted = !quoted // a doubled quote inside a quoted name toggles twice
		case '(':
			if !quoted {
				return sig[:i], strings.TrimSuffix(sig[i+1:], ")"), true
			}
		}
	}
	return sig, "", false
}

// spacedArgs writes an argument list as regprocedure and regoperator write it ("integer,integer") as
// format_type and DROP OPERATOR do ("integer, integer"): commas inside a quoted type name stay as they are.
func spacedArgs(args string) string {
	var b strings.Builder
	quoted := false
	for i := 0; i < len(args); i++ {
		c := args[i]
		b.WriteByte(c)
		switch {
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// operatorRef is an operator as regoperator writes it in the form an option of CREATE OPERATOR takes:
// "===", or OPERATOR(s.===) when qualified.
func operatorRef(regoperator string) string {
	name := functionName(regoperator)
	if strings.Contains(name, ".") {
		return "OPERATOR(" + name + ")"
	}
	return name
}

// operatorSummary is the option list of CREATE OPERATOR: "(LEFTARG = integer, RIGHTARG = integer,
// FUNCTION = f, COMMUTATOR = ===, RESTRICT = eqsel, HASHES)"; "(shell)" for a shell.
func operatorSummary(x *Operator) string {
	if x.Function == "" {
		return "(shell)"
	}
	var opts []string
	if x.Left != "" {
		opts = append(opts, "LEFTARG = "+x.Left)
	}
	opts = append(opts, "RIGHTARG = "+x.Right, "FUNCTION = "+functionName(x.Function))
	// A dangling link cannot be made again.
	if x.Commutator != "" && x.Commutator != DroppedOperator {
		opts = append(opts, "COMMUTATOR = "+operatorRef(x.Commutator))
	}
	if x.Negator != "" && x.Negator != DroppedOperator {
		opts = append(opts, "NEGATOR = "+operatorRef(x.Negator))
	}
	if x.Restrict != "" {
		opts = append(opts, "RESTRICT = "+x.Restrict)
	}
	if x.Join != "" {
		opts = append(opts, "JOIN = "+x.Join)
	}
	if x.Hashes {
		opts = append(opts, "HASHES")
	}
	if x.Merges {
		opts = append(opts, "MERGES")
	}
	return "(" + strings.Join(opts, ", ") + ")"
}

// opFamilySummary is "USING btree" with the family's loose members.
func opFamilySummary(x *OperatorFamily) string {
	return "USING " + x.Method + membersSummary(x.Members)
}

// opClassSummary is what follows the name in CREATE OPERATOR CLASS: "DEFAULT FOR TYPE integer USING
// btree FAMILY s.f AS OPERATOR 1 < (integer, integer), FUNCTION 1 (integer, integer) btint4cmp(integer,integer)".
func opClassSummary(x *OperatorClass) string {
	s := ""
	if x.Default {
		s = "DEFAULT "
	}
	s += "FOR TYPE " + x.Type + " USING " + x.Method + " FAMILY " + qkey(x.Family) + " AS "
	var items []string
	for _, m := range x.Members {
		items = append(items, m.SQL())
	}
	if x.Storage != "" {
		items = append(items, "STORAGE "+x.Storage)
	}
	if len(items) == 0 {
		// CREATE OPERATOR CLASS wants one item at least; a class whose members all went is written so.
		items = append(items, "STORAGE "+x.Type)
	}
	return s + strings.Join(items, ", ")
}

func membersSummary(ms []OpMember) string {
	if len(ms) == 0 {
		return ""
	}
	items := make([]string, len(ms))
	for i, m := range ms {
		items[i] = m.SQL()
	}
	return " " + strings.Join(items, ", ")
}

// tsParserSummary is the option list of CREATE TEXT SEARCH PARSER.
func tsParserSummary(x *TextSearchParser) string {
	s := "(START = " + x.Start + ", GETTOKEN = " + x.GetToken + ", END = " + x.End + ", LEXTYPES = " + x.LexTypes
	if x.Headline != "" {
		s += ", HEADLINE = " + x.Headline
	}
	return s + ")"
}

// tsTemplateSummary is the option list of CREATE TEXT SEARCH TEMPLATE.
func tsTemplateSummary(x *TextSearchTemplate) string {
	s := "("
	if x.Init != "" {
		s += "INIT = " + x.Init + ", "
	}
	return s + "LEXIZE = " + x.Lexize + ")"
}
