package schema

import (
	"slices"
	"strconv"
	"strings"
)

// Operator is an operator (CREATE OPERATOR), a shell one (made by a COMMUTATOR or NEGATOR that named
// it before it existed) too.
type Operator struct {
	OID    uint32 `json:"oid,omitempty"`
	Schema string `json:"schema"`
	Name   string `json:"name"`
	// Left and Right are the argument types as format_type writes them; Left is "" for a prefix operator.
	Left  string `json:"left,omitempty"`
	Right string `json:"right"`
	// Result is the result type; "" for a shell.
	Result string `json:"result,omitempty"`
	// Function is the operator's function as regprocedure writes it (qualified where the search path
	// does not find it); "" for a shell.
	Function string `json:"function,omitempty"`
	// Commutator and Negator are operators as regoperator writes them ("===(integer,integer)"); "" for
	// none, DroppedOperator for one dropped since (a link PostgreSQL left dangling).
	Commutator string `json:"commutator,omitempty"`
	Negator    string `json:"negator,omitempty"`
	// Restrict and Join are the selectivity estimators as regproc writes them; "" for none.
	Restrict string `json:"restrict,omitempty"`
	Join     string `json:"join,omitempty"`
	Hashes   bool   `json:"hashes,omitempty"`
	Merges   bool   `json:"merges,omitempty"`
	Owner    string `json:"owner,omitempty"`
	Comment  string `json:"comment,omitempty"`
}

// DroppedOperator is the commutator or negator of an operator whose link dangles: PostgreSQL unsets
// the link to an operator it drops only when that operator links back.
const DroppedOperator = "(a dropped operator)"

// Key is the operator's key in Catalog.Operators: "schema.name(left, right)", NONE for a missing left
// argument, as DROP OPERATOR names it.
func (o *Operator) Key() string { return Key(o.Schema, o.Name) + o.Args() }

// Args is the operator's argument list as DROP OPERATOR takes it: "(integer, integer)", "(NONE, integer)".
func (o *Operator) Args() string { return "(" + or(o.Left, "NONE") + ", " + o.Right + ")" }

// OperatorFamily is an operator family (CREATE OPERATOR FAMILY, or the one CREATE OPERATOR CLASS makes).
type OperatorFamily struct {
	OID    uint32 `json:"oid,omitempty"`
	Schema string `json:"schema"`
	Name   string `json:"name"`
	// Method is the index access method (btree, hash...).
	Method string `json:"method"`
	// Members are the operators and support functions loose in the family (ALTER OPERATOR FAMILY ...
	// ADD, and the cross-type members of a class): those of its classes are the classes'.
	Members []OpMember `json:"members,omitempty"`
	Owner   string     `json:"owner,omitempty"`
	Comment string     `json:"comment,omitempty"`
	// BuiltIn is set on a built-in family (pg_catalog.integer_ops USING btree), which a catalog holds
	// for the members users added to it (ALTER OPERATOR FAMILY ... ADD), and only those, without its
	// owner and comment: it has none when they have none. Compare and GenerateDown read a built-in
	// family one catalog lacks as one without members.
	BuiltIn bool `json:"builtin,omitempty"`
}

// Key is the family's key in Catalog.OperatorFamilies: "schema.name USING method".
func (f *OperatorFamily) Key() string { return Key(f.Schema, f.Name) + " USING " + f.Method }

// OperatorClass is an operator class (CREATE OPERATOR CLASS).
type OperatorClass struct {
	OID    uint32 `json:"oid,omitempty"`
	Schema string `json:"schema"`
	Name   string `json:"name"`
	Method string `json:"method"`
	// Type is the indexed data type (FOR TYPE), Storage the type stored in the index when another
	// (STORAGE), as format_type writes them.
	Type    string `json:"type"`
	Storage string `json:"storage,omitempty"`
	Default bool   `json:"default,omitempty"`
	// Family is the family the class belongs to, "schema.name".
	Family  string     `json:"family"`
	Members []OpMember `json:"members,omitempty"`
	Owner   string     `json:"owner,omitempty"`
	Comment string     `json:"comment,omitempty"`
}

// Key is the class's key in Catalog.OperatorClasses: "schema.name USING method".
func (c *OperatorClass) Key() string { return Key(c.Schema, c.Name) + " USING " + c.Method }

// OpMember is an operator (pg_amop) or support function (pg_amproc) of an operator family or class.
type OpMember struct {
	// Kind is OPERATOR or FUNCTION; Number the strategy or support number.
	Kind   string `json:"kind"`
	Number int    `json:"number"`
	// Left and Right are the member's types as format_type writes them.
	Left  string `json:"left"`
	Right string `json:"right"`
	// Object is the operator as regoperator, the function as regprocedure writes it.
	Object string `json:"object"`
	// SortFamily is the btree family of an ordering operator (FOR ORDER BY), "schema.name"; "" for a
	// search operator.
	SortFamily string `json:"sort_family,omitempty"`
}

// Slot is what names the member in ALTER OPERATOR FAMILY ... DROP: "OPERATOR 1 (integer, integer)".
func (m OpMember) Slot() string {
	return m.Kind + " " + strconv.Itoa(m.Number) + " (" + m.Left + ", " + m.Right + ")"
}

// What is what fills the slot: the operator or function, with FOR ORDER BY.
func (m OpMember) What() string {
	if m.SortFamily != "" {
		return m.Object + " FOR ORDER BY " + qkey(m.SortFamily)
	}
	return m.Object
}

// SQL is the member as CREATE OPERATOR CLASS and ALTER OPERATOR FAMILY ... ADD take it.
func (m OpMember) SQL() string {
	if m.Kind == "FUNCTION" {
		return "FUNCTION " + strconv.Itoa(m.Number) + " (" + m.Left + ", " + m.Right + ") " + m.Object
	}
	// A member operator's types are the operator's (an index operator is binary).
	s := "OPERATOR " + strconv.Itoa(m.Number) + " " + functionName(m.Object) + " (" + m.Left + ", " + m.Right + ")"
	if m.SortFamily != "" {
		s += " FOR ORDER BY " + qkey(m.SortFamily)
	}
	return s
}

// sortMembers puts members in slot order, operators first.
func sortMembers(ms []OpMember) {
	slices.SortFunc(ms, func(a, b OpMember) int {
		if a.Kind != b.Kind {
			return -strings.Compare(a.Kind, b.Kind) // OPERATOR before FUNCTION
		}
		if a.Number != b.Number {
			return a.Number - b.Number
		}
		return strings.Compare(a.Slot(), b.Slot())
	})
}

// SortMembers puts the members of every family and class of c in slot order (see sortMembers).
func (c *Catalog) SortMembers() {
	for _, f := range c.OperatorFamilies {
		sortMembers(f.Members)
	}
	for _, x := range c.OperatorClasses {
		sortMembers(x.Members)
	}
}

// TextSearchParser is a text search parser (CREATE TEXT SEARCH PARSER): it has no owner.
type TextSearchParser struct {
	OID    uint32 `json:"oid,omitempty"`
	Schema string `json:"schema"`
	Name   string `json:"name"`
	// Start, GetToken, End, LexTypes and Headline are the functions as regproc writes them; Headline
	// is "" for none.
	Start    string `json:"start"`
	GetToken string `json:"gettoken"`
	End      string `json:"end"`
	LexTypes string `json:"lextypes"`
	Headline string `json:"headline,omitempty"`
	Comment  string `json:"comment,omitempty"`
}

// TextSearchTemplate is a text search template (CREATE TEXT SEARCH TEMPLATE): it has no owner.
type TextSearchTemplate struct {
	OID    uint32 `json:"oid,omitempty"`
	Schema string `json:"schema"`
	Name   string `json:"name"`
	// Init and Lexize are the functions as regproc writes them; Init is "" for none.
	Init    string `json:"init,omitempty"`
	Lexize  string `json:"lexize"`
	Comment string `json:"comment,omitempty"`
}
