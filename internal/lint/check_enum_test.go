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
