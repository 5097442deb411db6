package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckBaseCommentOnlyEdit: an applied golang-migrate, goose or dbmate migration whose up changed
// outside its statements (a comment's typo fixed, a comment line added, a line reindented) passes check
// --base, replayed as history with a safe finding at the first changed line: those tools record no
// checksum, and every database runs the same statements. A "comment" inside a string literal or a
// dollar-quoted function body is text the server keeps: editing it fails, as does any edit of an
// applied Flyway migration (its validate refuses the changed CRC).
func TestCheckBaseCommentOnlyEdit(t *testing.T) {
	requirePG(t)
	const up = "-- create the tabel t\nCREATE TABLE t (id bigint PRIMARY KEY, note text DEFAULT '-- not a comment');\n" +
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 -- one\n$$;\n"
	const down = "DROP FUNCTION f();\nDROP TABLE t;\n"
	for _, tc := range []struct {
		format, file string
		files        func(up string) map[string]string
	}{
		{"golang-migrate", "1_t.up.sql", func(up string) map[string]string {
			return map[string]string{"1_t.up.sql": up, "1_t.down.sql": down}
		}},
		{"goose", "00001_t.sql", func(up string) map[string]string {
			return map[string]string{"00001_t.sql": "-- +goose Up\n" + up + "\n-- +goose Down\n" + down}
		}},
		{"dbmate", "20240101000000_t.sql", func(up string) map[string]string {
			return map[string]string{"20240101000000_t.sql": "-- migrate:up\n" + up + "\n-- migrate:down\n" + down}
		}},
	} {
		for _, ed := range []struct {
			name, now string
			pass      bool
		}{
			{"comment typo fixed, a comment added, reindented", strings.Replace(strings.Replace(up, "tabel", "table", 1), "CREATE TABLE t (", "-- the notes\nCREATE TABLE t (\n\t", 1), true},
			{"comment-looking string literal", strings.Replace(up, "'-- not a comment'", "'-- not a comment!'", 1), false},
			{"comment in a dollar-quoted body", strings.Replace(up, "-- one", "-- uno", 1), false},
		} {
			t.Run(tc.format+"/"+ed.name, func(t *testing.T) {
				t.Parallel()
				m := committedFolder(t, "base", tc.files(up))
				for name, text := range tc.files(ed.now) {
					writeFile(t, filepath.Join(m, name), []byte(text))
				}
				jsonPath := filepath.Join(t.TempDir(), "r.json")
				code, out, errOut := run(t, nil, "check", "--dir", m, "--format", tc.format, "--base", "main", "--report-json", jsonPath, "-q")
				if !ed.pass {
					if code != ExitBlocked || !strings.Contains(out, tc.file+":") || !strings.Contains(out, "dangerous edited-applied-migration") {
						t.Errorf("exit %d; want blocked, edited-applied-migration\n%s\n%s", code, out, errOut)
					}
					return
				}
				if code != ExitOK {
					t.Fatalf("exit %d; want ok\n%s\n%s", code, out, errOut)
				}
				var rep struct {
					Migrations []struct {
						Version, Status string
						Findings        []struct {
							Rule, Risk, Message string
							Line                int
						}
					}
				}
				b, err := os.ReadFile(jsonPath)
				if err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(b, &rep); err != nil {
					t.Fatal(err)
				}
				line := 1 // the typo, on the up's first line
				if tc.format != "golang-migrate" {
					line = 2 // after the -- +goose Up or -- migrate:up line
				}
				if len(rep.Migrations) != 1 || rep.Migrations[0].Status != "base" || len(rep.Migrations[0].Findings) != 1 ||
					rep.Migrations[0].Findings[0].Risk != "safe" || rep.Migrations[0].Findings[0].Line != line ||
					!strings.Contains(rep.Migrations[0].Findings[0].Message, "the edit changes no statement") {
					t.Errorf("report %+v; want the migration replayed as history (base), one safe finding at line %d", rep.Migrations, line)
				}
			})
		}
	}
	t.Run("flyway", func(t *testing.T) {
		t.Parallel()
		m := committedFolder(t, "base", map[string]string{"V1__t.sql": up})
		writeFile(t, filepath.Join(m, "V1__t.sql"), []byte(strings.Replace(up, "tabel", "table", 1)))
		code, out, errOut := run(t, nil, "check", "--dir", m, "--format", "flyway", "--base", "main", "-q")
		if code != ExitBlocked || !strings.Contains(out, "V1__t.sql:1:1: dangerous edited-applied-migration") {
			t.Errorf("exit %d; want blocked: Flyway's validate refuses the changed checksum\n%s\n%s", code, out, errOut)
		}
	})
}
