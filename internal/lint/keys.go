package lint

import (
	"strings"

	"github.com/schemagate/schemagate/internal/schema"
)

// The state keys relations, types and other objects of a schema as the catalog does (schema.Key):
// "schema.name", a name quoted only when it holds a dot, a double quote or an opening parenthesis, so
// that a."b.c" and "a.b".c are two objects, and the rehearsal's keys (Config.ChangeCreated) are the
// state's.

// relKey is the key of the object name in schema sch.
func relKey(sch, name string) string { return schema.Key(sch, name) }

// colKey is the key of column col of the relation key rel.
func colKey(rel, col string) string { return rel + "." + schema.KeyPart(col) }

// keySchema is the schema of a key.
func keySchema(key string) string {
	// Without a quoted part or a function's arguments, every dot ends a part: the state asks this of
	// many keys, which then need not be read part by part.
	if !strings.ContainsAny(key, `"(`) {
		if i := strings.IndexByte(key, '.'); i >= 0 {
			return key[:i]
		}
		return key
	}
	sch, _, _ := schema.CutKey(key)
	return sch
}

// bare is the name part of a key (its last name), unquoted.
func bare(key string) string {
	parts := schema.SplitKey(key)
	return parts[len(parts)-1]
}

// splitOwner cuts an owned entry (the key of a column: schema.table.column) into the table's key and
// the column.
func splitOwner(col string) (table, column string) {
	// Without a quoted part or a function's arguments, every dot ends a part, and the table's key is
	// what comes before the last one as it is, unless a part there is empty (Key quotes it): drops and
	// moves ask this of every owned sequence.
	if !strings.ContainsAny(col, `"(`) && !strings.HasPrefix(col, ".") {
		i := strings.LastIndexByte(col, '.')
		if i < 0 {
			return col, ""
		}
		if !strings.Contains(col[:i+1], "..") {
			return col[:i], col[i+1:]
		}
	}
	parts := schema.SplitKey(col)
	if len(parts) < 2 {
		return col, ""
	}
	return schema.Key(parts[:len(parts)-1]...), parts[len(parts)-1]
}
