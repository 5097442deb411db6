package lint

import (
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// FuzzAnalyze checks that no input makes the analysis panic, and that every finding is positioned
// inside the text and names a known rule.
func FuzzAnalyze(f *testing.F) {
	f.Add("ALTER TABLE users ALTER COLUMN email SET NOT NULL;", true)
	f.Add("BEGIN; CREATE INDEX CONCURRENTLY ON users (age); COMMIT;", false)
	f.Add("-- schemagate:ignore set-not-null\nALTER TABLE t ADD COLUMN x int DEFALT 0;", true)
	f.Fuzz(func(t *testing.T, src string, inTx bool) {
		s := &migrate.Script{File: "f.sql", SQL: src, Statements: sqlparse.Parse(src)}
		lines := 1
		for i := 0; i < len(src); i++ {
			if src[i] == '\n' {
				lines++
			}
		}
		for _, fd := range AnalyzeScript(s, inTx, Config{PGVersion: 140002, Schema: "CREATE TABLE users (id int, email text);"}) {
			if _, ok := Lookup(fd.Rule); !ok {
				t.Fatalf("unknown rule %q", fd.Rule)
			}
			if fd.Line < 1 || fd.Line > lines || fd.Column < 1 {
				t.Fatalf("finding %v outside the text (%d lines)", fd, lines)
			}
		}
	})
}
