package schema

import "strings"

// reserved are PostgreSQL's reserved and type/function-name keywords: identifiers spelled like them
// must be quoted.
var reserved = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`all analyse analyze and any array as asc asymmetric authorization binary both
case cast check collate collation column concurrently constraint create cross current_catalog current_date
current_role current_schema current_time current_timestamp current_user default deferrable desc distinct do
else end except false fetch for foreign freeze from full grant group having ilike in initially inner intersect
into is isnull join lateral leading left like limit localtime localtimestamp natural not notnull null offset on
only or order outer overlaps placing primary references returning right select session_user similar some
symmetric system_user table tablesample then to trailing true union unique user using variadic verbose when
where window with`) {
		m[w] = true
	}
	return m
}()

// Ident quotes a name for SQL when it needs quotes (upper case, special characters, keywords).
func Ident(name string) string {
	if name == "" {
		return `""`
	}
	plain := !reserved[name]
	for i, r := range name {
		if !(r >= 'a' && r <= 'z' || r == '_' || i > 0 && (r >= '0' && r <= '9' || r == '$')) {
			plain = false
			break
		}
	}
	if plain {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// QIdent quotes a qualified name "schema.name" part by part; the schema is left out when it is public.
func QIdent(schema, name string) string {
	if schema == "public" || schema == "" {
		return Ident(name)
	}
	return Ident(schema) + "." + Ident(name)
}

// qkey quotes a catalog key "schema.name".
func qkey(key string) string {
	s, n, ok := strings.Cut(key, ".")
	if !ok {
		return Ident(key)
	}
	return QIdent(s, n)
}

// Literal quotes s as an SQL string literal.
func Literal(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
