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

// qkey quotes a catalog key (see Key) for SQL: "schema.name" part by part, the schema left out when it
// is public.
func qkey(key string) string {
	parts := SplitKey(key)
	switch len(parts) {
	case 1:
		return Ident(parts[0])
	case 2:
		return QIdent(parts[0], parts[1])
	}
	for i, p := range parts {
		parts[i] = Ident(p)
	}
	return strings.Join(parts, ".")
}

// KeyPart writes one name as a part of a catalog key: as it is, unless it holds what would make the
// key ambiguous (a dot, which separates parts, a double quote, which starts a quoted part, or an
// opening parenthesis, which starts a function's arguments) or is empty; then double-quoted, quotes
// doubled, as SQL quotes it. Keys thus stay the names people read (public.Users, not
// public."Users"), and a."b.c" and "a.b".c are two keys. The inspection query writes key parts the
// same way (see internal/pg).
func KeyPart(name string) string {
	if name != "" && !strings.ContainsAny(name, `."(`) {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// Key joins names into a catalog key, each written by KeyPart: Key("public", "users") is
// "public.users", Key("a.b", "c") is `"a.b".c`.
func Key(names ...string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = KeyPart(n)
	}
	return strings.Join(parts, ".")
}

// SplitKey splits a catalog key into its names, reading quoted parts back (the inverse of Key). A
// function's signature ends at its last name: "public.f(integer, public.t)" is "public" and
// "f(integer, public.t)".
func SplitKey(key string) []string {
	var out []string
	for {
		name, rest, more := cutKeyPart(key)
		out = append(out, name)
		if !more {
			return out
		}
		key = rest
	}
}

// CutKey cuts a key at the end of its first part: the first name (unquoted) and the rest of the key,
// itself a key. ok is false when the key has one part.
func CutKey(key string) (first, rest string, ok bool) {
	return cutKeyPart(key)
}

// cutKeyPart reads the first part of key: its name, the key after the dot that ends it, and whether
// there is such a dot.
func cutKeyPart(key string) (name, rest string, more bool) {
	end := partEnd(key)
	if end < 0 {
		return unquotePart(key), "", false
	}
	return unquotePart(key[:end]), key[end+1:], true
}

// keyName is the last name of key, unquoted, without a function's arguments.
func keyName(key string) string {
	part := lastKeyPart(key)
	if end := quotedEnd(part); end > 0 {
		return unquotePart(part[:end])
	}
	name, _, _ := strings.Cut(part, "(")
	return name
}

// quotedEnd is the index just after the closing quote of a part that starts with a double quote, 0
// for a part that does not.
func quotedEnd(part string) int {
	if !strings.HasPrefix(part, `"`) {
		return 0
	}
	for i := 1; i < len(part); i++ {
		if part[i] == '"' {
			if i+1 < len(part) && part[i+1] == '"' {
				i++
				continue
			}
			return i + 1
		}
	}
	return len(part)
}

// partEnd is the index of the dot that ends the first part of key, -1 when that part is the last. A
// part that starts with a double quote runs to the quote that closes it (doubled quotes stay inside);
// another runs to the next dot. From an opening parenthesis on (a function's arguments, whose types
// may be qualified), there is no other part.
func partEnd(key string) int {
	for i := quotedEnd(key); i < len(key); i++ {
		switch key[i] {
		case '.':
			return i
		case '(':
			return -1
		}
	}
	return -1
}

// unquotePart reads a key part as KeyPart writes it: a quoted name is unquoted; what follows its
// closing quote (a function's arguments) is kept.
func unquotePart(part string) string {
	if !strings.HasPrefix(part, `"`) {
		return part
	}
	var b strings.Builder
	for i := 1; i < len(part); i++ {
		if part[i] == '"' {
			if i+1 < len(part) && part[i+1] == '"' {
				b.WriteByte('"')
				i++
				continue
			}
			return b.String() + part[i+1:]
		}
		b.WriteByte(part[i])
	}
	return b.String()
}

// lastKeyPart is the last part of key as the key writes it (quoted when KeyPart quotes it), with a
// function's arguments.
func lastKeyPart(key string) string {
	for {
		end := partEnd(key)
		if end < 0 {
			return key
		}
		key = key[end+1:]
	}
}

// schemaAndName splits a key of two parts, "schema.name", into its names (unquoted); a key of one part
// is all schema.
func schemaAndName(key string) (schema, name string) {
	schema, rest, _ := cutKeyPart(key)
	return schema, unquotePart(rest)
}

// sqlNameKey is the catalog key of a name as SQL writes it (quote_ident, format_type, regclass: each
// part quoted where it needs to be), in schema public when it is not qualified. A quoted SQL name
// reads as a key part does.
func sqlNameKey(name string) string {
	parts := SplitKey(name)
	if len(parts) == 1 {
		return Key("public", parts[0])
	}
	return Key(parts...)
}

// subKey is the key of the part name of the object key (a table's column, constraint or rule).
func subKey(key, name string) string { return key + "." + KeyPart(name) }

// keyParent is the key without its last part ("a.t" of "a.t.c"), "" for a key of one part.
func keyParent(key string) string {
	parts := SplitKey(key)
	if len(parts) < 2 {
		return ""
	}
	return Key(parts[:len(parts)-1]...)
}

// Literal quotes s as an SQL string literal.
func Literal(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
