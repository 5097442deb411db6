package lint

import (
	"testing"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestNewEnumValueDefaultMatchesServer: a label ALTER TYPE … ADD VALUE added in the open transaction
// and given as a column's DEFAULT before COMMIT (ALTER COLUMN … SET DEFAULT, ADD COLUMN … DEFAULT) makes
// PostgreSQL stop the deploy ("unsafe use of new value", 55P04): enum-add-value is dangerous; another
// label, or the label as the default of a column of another type, leaves it caution.
func TestNewEnumValueDefaultMatchesServer(t *testing.T) {
	schema := "CREATE TYPE mood AS ENUM ('sad');\nCREATE TABLE tm (id int, m mood, note text);\nINSERT INTO tm VALUES (1, 'sad', 'x');\n"
	const unsafe, later = "unsafe use of new value", "cannot be used until COMMIT"
	tests := []struct {
		serverCase
		risk Risk
	}{
		{serverCase{name: "SET DEFAULT", schema: schema, src: "ALTER TYPE mood ADD VALUE 'happy';\nALTER TABLE tm ALTER COLUMN m SET DEFAULT 'happy';", fails: true,
			rule: "enum-add-value", msg: unsafe}, Dangerous},
		{serverCase{name: "ADD COLUMN … DEFAULT", schema: schema, src: "ALTER TYPE mood ADD VALUE 'happy';\nALTER TABLE tm ADD COLUMN m2 mood DEFAULT 'happy';", fails: true,
			rule: "enum-add-value", msg: unsafe}, Dangerous},
		{serverCase{name: "ADD COLUMN … NOT NULL DEFAULT", schema: schema, src: "ALTER TYPE mood ADD VALUE 'happy';\nALTER TABLE tm ADD COLUMN m2 mood NOT NULL DEFAULT 'happy';", fails: true,
			rule: "enum-add-value", msg: unsafe}, Dangerous},
		{serverCase{name: "SET DEFAULT of an old label", schema: schema, src: "ALTER TYPE mood ADD VALUE 'happy';\nALTER TABLE tm ALTER COLUMN m SET DEFAULT 'sad';",
			rule: "enum-add-value", msg: later}, Caution},
		{serverCase{name: "SET DEFAULT of a text column", schema: schema, src: "ALTER TYPE mood ADD VALUE 'happy';\nALTER TABLE tm ALTER COLUMN note SET DEFAULT 'happy';",
			rule: "enum-add-value", msg: later}, Caution},
		{serverCase{name: "ADD COLUMN without DEFAULT", schema: schema, src: "ALTER TYPE mood ADD VALUE 'happy';\nALTER TABLE tm ADD COLUMN m2 mood;",
			rule: "enum-add-value", msg: later}, Caution},
		// The label compared with a column of the type: PostgreSQL reads it as the enum's.
		{serverCase{name: "partial index predicate", schema: schema, src: "ALTER TYPE mood ADD VALUE 'happy';\nCREATE INDEX tm_happy ON tm (id) WHERE m = 'happy';", fails: true,
			rule: "enum-add-value", msg: unsafe}, Dangerous},
		{serverCase{name: "UPDATE … WHERE col IN", schema: schema, src: "ALTER TYPE mood ADD VALUE 'happy';\nUPDATE tm SET note = 'y' WHERE m IN ('sad', 'happy');", fails: true,
			rule: "enum-add-value", msg: unsafe}, Dangerous},
		{serverCase{name: "DELETE … WHERE label = col", schema: schema, src: "ALTER TYPE mood ADD VALUE 'happy';\nDELETE FROM tm WHERE 'happy' = m;", fails: true,
			rule: "enum-add-value", msg: unsafe}, Dangerous},
		{serverCase{name: "partial index on an old label", schema: schema, src: "ALTER TYPE mood ADD VALUE 'happy';\nCREATE INDEX tm_sad ON tm (id) WHERE m = 'sad';",
			rule: "enum-add-value", msg: later}, Caution},
		// A type the transaction created: its CREATE TYPE labels are safe, one ADD VALUE added is not.
		{serverCase{name: "new type's added label as DEFAULT", src: "CREATE TYPE m3 AS ENUM ('a');\nALTER TYPE m3 ADD VALUE 'b';\nCREATE TABLE u3 (x m3 DEFAULT 'b');", fails: true,
			rule: "enum-add-value", msg: "also of a type the transaction created"}, Dangerous},
		{serverCase{name: "new type's own label as DEFAULT", src: "CREATE TYPE m3 AS ENUM ('a');\nALTER TYPE m3 ADD VALUE 'b';\nCREATE TABLE u3 (x m3 DEFAULT 'a');",
			rule: "create-enum", not: "enum-add-value"}, Safe},
	}
	conn := pgtest.Conn(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, conn)
			if f := find(AnalyzeScript(script(tt.src+"\n"), true, Config{Schema: tt.schema}), tt.rule); f == nil || f.Risk != tt.risk {
				t.Errorf("%s: %+v, want %s", tt.rule, f, tt.risk)
			}
		})
	}
}
