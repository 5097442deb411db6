package lint

import "github.com/schemagate/schemagate/internal/schema"

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
	parts := schema.SplitKey(col)
	if len(parts) < 2 {
		return col, ""
	}
	return schema.Key(parts[:len(parts)-1]...), parts[len(parts)-1]
}
