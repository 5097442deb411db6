package schema

import "strings"

// AccessMethod is an access method (CREATE ACCESS METHOD): the built-in ones and those an extension
// made are left out.
type AccessMethod struct {
	OID  uint32 `json:"oid,omitempty"`
	Name string `json:"name"`
	// Type is TABLE or INDEX.
	Type string `json:"type"`
	// Handler is the handler function as regproc writes it (qualified where the search path does not
	// find it).
	Handler string `json:"handler"`
	Comment string `json:"comment,omitempty"`
}

// Language is a procedural language (CREATE LANGUAGE): the built-in ones and those an extension made
// (plpgsql, plperl...) are left out.
type Language struct {
	OID     uint32 `json:"oid,omitempty"`
	Name    string `json:"name"`
	Trusted bool   `json:"trusted,omitempty"`
	// Handler, Inline and Validator are functions as regproc writes them; "" for none.
	Handler   string `json:"handler,omitempty"`
	Inline    string `json:"inline,omitempty"`
	Validator string `json:"validator,omitempty"`
	Comment   string `json:"comment,omitempty"`
	Access
}

// Conversion is an encoding conversion (CREATE CONVERSION).
type Conversion struct {
	OID    uint32 `json:"oid,omitempty"`
	Schema string `json:"schema"`
	Name   string `json:"name"`
	// Source and Destination are encoding names (UTF8, LATIN1).
	Source      string `json:"source"`
	Destination string `json:"destination"`
	// Function is the conversion function as regproc writes it.
	Function string `json:"function"`
	Default  bool   `json:"default,omitempty"`
	Owner    string `json:"owner,omitempty"`
	Comment  string `json:"comment,omitempty"`
}

// Transform is a transform of a type for a procedural language (CREATE TRANSFORM).
type Transform struct {
	OID uint32 `json:"oid,omitempty"`
	// Type is the type as format_type writes it, Language the language's name.
	Type     string `json:"type"`
	Language string `json:"language"`
	// FromSQL and ToSQL are the functions as regprocedure writes them; "" for none.
	FromSQL string `json:"from_sql,omitempty"`
	ToSQL   string `json:"to_sql,omitempty"`
	Comment string `json:"comment,omitempty"`
}

// Key is the transform's key in Catalog.Transforms: "FOR type LANGUAGE language", as DROP TRANSFORM
// names it.
func (x *Transform) Key() string { return "FOR " + x.Type + " LANGUAGE " + Ident(x.Language) }

// accessMethodSummary is what follows CREATE ACCESS METHOD name: "TYPE INDEX HANDLER h".
func accessMethodSummary(x *AccessMethod) string { return "TYPE " + x.Type + " HANDLER " + x.Handler }

// languageSummary is what follows LANGUAGE name: "HANDLER h INLINE i VALIDATOR v".
func languageSummary(x *Language) string {
	s := "HANDLER " + x.Handler
	if x.Inline != "" {
		s += " INLINE " + x.Inline
	}
	if x.Validator != "" {
		s += " VALIDATOR " + x.Validator
	}
	return s
}

// conversionSummary is what follows CREATE [DEFAULT] CONVERSION name: "FOR 'UTF8' TO 'LATIN1' FROM f".
func conversionSummary(x *Conversion) string {
	return "FOR " + Literal(x.Source) + " TO " + Literal(x.Destination) + " FROM " + x.Function
}

// transformSummary is what follows CREATE TRANSFORM FOR type LANGUAGE language: "(FROM SQL WITH
// FUNCTION f(internal), TO SQL WITH FUNCTION g(internal))".
func transformSummary(x *Transform) string {
	var parts []string
	if x.FromSQL != "" {
		parts = append(parts, "FROM SQL WITH FUNCTION "+x.FromSQL)
	}
	if x.ToSQL != "" {
		parts = append(parts, "TO SQL WITH FUNCTION "+x.ToSQL)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// proceduralObjects flattens the access methods, procedural languages, conversions and transforms of c.
func (c *Catalog) proceduralObjects() []object {
	var out []object
	for k, x := range c.AccessMethods {
		out = append(out, object{kind: KindAccessMethod, key: k, id: oidStr(x.OID), def: accessMethodSummary(x), name: x.Name,
			props: []PropertyChange{prop("type", x.Type), prop("handler", x.Handler), prop("comment", x.Comment)}})
	}
	for k, x := range c.Languages {
		out = append(out, object{kind: KindLanguage, key: k, id: oidStr(x.OID), def: languageSummary(x), name: x.Name,
			props: append([]PropertyChange{prop("trusted", boolStr(x.Trusted)), prop("handler", x.Handler), prop("inline handler", x.Inline),
				prop("validator", x.Validator), prop("comment", x.Comment)}, access(x.Access)...)})
	}
	for k, x := range c.Conversions {
		out = append(out, object{kind: KindConversion, key: k, id: oidStr(x.OID), def: conversionSummary(x), name: x.Name, schema: x.Schema,
			props: []PropertyChange{prop("encodings", x.Source+" to "+x.Destination), prop("function", x.Function),
				prop("default", boolStr(x.Default)), prop("owner", x.Owner), prop("comment", x.Comment)}})
	}
	for k, x := range c.Transforms {
		out = append(out, object{kind: KindTransform, key: k, id: oidStr(x.OID), def: transformSummary(x),
			props: []PropertyChange{prop("from SQL function", x.FromSQL), prop("to SQL function", x.ToSQL), prop("comment", x.Comment)}})
	}
	return out
}
