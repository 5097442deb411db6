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
	f.Add("ALTER TABLE s.\"T\" * -- c\n  ADD COLUMN p numeric(10, 2) DEFAULT 0, /* , */\n  -- schemagate:ignore json-column why\n  ADD COLUMN m json,\n  ALTER COLUMN e SET DEFAULT ARRAY[1, 2];", true)
	f.Add("CREATE TABLE ä (\n  -- schemagate:ignore prefer-text,nope\n  ö varchar(9), x json DEFAULT '\n-- schemagate:ignore json-column'\n);", false)
	f.Fuzz(func(t *testing.T, src string, inTx bool) {
		s := &migrate.Script{File: "f.sql", SQL: src, Statements: sqlparse.Parse(src)}
		// width[l] is the number of characters on line l+1: a finding's column is at most one past it.
		width := []int{0}
		for _, r := range src {
			if r == '\n' {
				width = append(width, 0)
			} else {
				width[len(width)-1]++
			}
		}
		for _, fd := range AnalyzeScript(s, inTx, Config{PGVersion: 140002, Schema: "CREATE TABLE users (id int, email text);"}) {
			if _, ok := Lookup(fd.Rule); !ok {
				t.Fatalf("unknown rule %q", fd.Rule)
			}
			if fd.Line < 1 || fd.Line > len(width) || fd.Column < 1 || fd.Column > width[fd.Line-1]+1 {
				t.Fatalf("finding %v outside the text (%d lines)", fd, len(width))
			}
			if fd.StatementLine < 0 || fd.StatementLine > len(width) || fd.StatementLine > 0 && fd.StatementColumn < 1 {
				t.Fatalf("finding %v: its statement is outside the text (%d lines)", fd, len(width))
			}
		}
	})
}
