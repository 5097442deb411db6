package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/ci"
	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestUnreadFilesWarned: a .sql file of the folder that its tool does not read (golang-migrate's
// 0013_noup.sql, saved without .up; Flyway's V3_c.sql, one _) stays out of the set, as the tool leaves
// it out, but lint, check and deploy (its dry run too) say so on stderr, naming the file and the name it
// needs, and check's and deploy's reports keep it in their notes (the pull request comment and the
// deploy's): deploy read the folder without a word, and called the database up to date. What is
// clearly no migration of the format (a README, a goose helper .go file) is not warned about, and a
// Flyway callback is said to be one, not a misnamed migration.
func TestUnreadFilesWarned(t *testing.T) {
	requirePG(t)
	for _, tc := range []struct {
		format string
		files  map[string]string
		want   map[string]string // file -> the name it needs (or the words) in its warning
		quiet  []string          // files no warning names as misnamed
	}{
		{"golang-migrate",
			map[string]string{"1_a.up.sql": "CREATE TABLE a (id bigint);\n", "1_a.down.sql": "DROP TABLE a;\n",
				"0013_noup.sql": "CREATE TABLE b (id bigint);\n", "14_x.UP.sql": "CREATE TABLE c (id bigint);\n", "README.md": "notes\n"},
			map[string]string{"0013_noup.sql": "rename it 0013_noup.up.sql", "14_x.UP.sql": "rename it 14_x.up.sql"},
			[]string{"README.md"}},
		{"goose",
			map[string]string{"1_a.sql": "-- +goose Up\nCREATE TABLE a (id bigint);\n-- +goose Down\nDROP TABLE a;\n",
				"2_b.SQL": "-- +goose Up\nCREATE TABLE b (id bigint);\n", "helper.go": "package migrations\n", "README.md": "notes\n"},
			map[string]string{"2_b.SQL": "rename it to end in .sql"},
			[]string{"helper.go", "README.md"}},
		{"dbmate",
			map[string]string{"20240101000000_a.sql": "-- migrate:up\nCREATE TABLE a (id bigint);\n-- migrate:down\nDROP TABLE a;\n",
				"add_b.sql":            "-- migrate:up\nCREATE TABLE b (id bigint);\n-- migrate:down\nDROP TABLE b;\n",
				"20240102000000_c.SQL": "-- migrate:up\nCREATE TABLE c (id bigint);\n-- migrate:down\nDROP TABLE c;\n", "README.md": "notes\n"},
			map[string]string{"add_b.sql": "dbmate names migrations {timestamp}_{name}.sql", "20240102000000_c.SQL": "rename it to end in .sql"},
			[]string{"README.md"}},
		{"sql-migrate",
			map[string]string{"1_a.sql": "-- +migrate Up\nCREATE TABLE a (id bigint);\n-- +migrate Down\nDROP TABLE a;\n",
				"2_b.SQL": "-- +migrate Up\nCREATE TABLE b (id bigint);\n", "README.md": "notes\n"},
			map[string]string{"2_b.SQL": "rename it to end in .sql"},
			[]string{"README.md"}},
		{"flyway",
			map[string]string{"V1__a.sql": "CREATE TABLE a (id bigint);\n", "v2__b.sql": "CREATE TABLE b (id bigint);\n",
				"V3_c.sql": "CREATE TABLE c (id bigint);\n", "4__d.sql": "CREATE TABLE d (id bigint);\n",
				"afterMigrate.sql": "SELECT 1;\n", "README.md": "notes\n"},
			map[string]string{"v2__b.sql": "rename it V2__b.sql", "V3_c.sql": "rename it V3__c.sql", "4__d.sql": "rename it V4__d.sql"},
			[]string{"afterMigrate.sql", "README.md"}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			work := t.TempDir()
			dir := filepath.Join(work, "migrations")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			for name, sql := range tc.files {
				writeFile(t, filepath.Join(dir, name), []byte(sql))
			}
			cfg := filepath.Join(work, "schemagate.yml")
			writeFile(t, cfg, []byte("dir: "+dir+"\nformat: "+tc.format+"\nenvironments:\n  prod:\n    snapshot: {kind: none}\n"))
			checkJSON, deployJSON := filepath.Join(work, "check.json"), filepath.Join(work, "deploy.json")
			env := map[string]string{"SCHEMAGATE_PROD_DATABASE_URL": pgtest.URL(t), "USER": "ci"}
			for _, c := range []struct {
				name   string
				args   []string
				report string
			}{
				{"lint", []string{"lint", "--config", cfg}, ""},
				{"check", []string{"check", "--config", cfg, "--report-json", checkJSON}, checkJSON},
				{"deploy --dry-run", []string{"deploy", "--env", "prod", "--config", cfg, "--dry-run", "--report-json", deployJSON}, deployJSON},
				{"deploy", []string{"deploy", "--env", "prod", "--config", cfg, "--report-json", deployJSON}, deployJSON},
			} {
				code, out, errOut := runCLI(t, env, c.args...)
				if code != ExitOK {
					t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", c.name, code, out, errOut)
				}
				var notes string
				if c.report != "" {
					var rep struct{ Notes []string }
					b, err := os.ReadFile(c.report)
					if err != nil {
						t.Fatal(err)
					}
					if err := json.Unmarshal(b, &rep); err != nil {
						t.Fatal(err)
					}
					notes = strings.Join(rep.Notes, "\n")
				}
				for file, want := range tc.want {
					if !warned(errOut, file, want) {
						t.Errorf("%s: stderr does not say that %s is not read (%q):\n%s", c.name, file, want, errOut)
					}
					if c.report != "" && !warned(notes, file, want) {
						t.Errorf("%s: the report's notes do not say that %s is not read (%q):\n%s", c.name, file, want, notes)
					}
				}
				for _, file := range tc.quiet {
					if strings.Contains(errOut+notes, file+": ignored: not a") || strings.Contains(errOut+notes, file+" is not") {
						t.Errorf("%s: %s, no migration of %s, is warned about as a misnamed one:\n%s", c.name, file, tc.format, errOut)
					}
				}
			}
		})
	}
}

// warned reports whether text has a line that names file as ignored, with want.
func warned(text, file, want string) bool {
	for line := range strings.SplitSeq(text, "\n") {
		if strings.Contains(line, file+": ignored") && strings.Contains(line, want) {
			return true
		}
	}
	return false
}

// TestDeployReadWarningsLeaveRoomForItsOwn: the deploy annotated every warning on its migration folder,
// and GitHub shows 10 warnings a step: a folder of 10 misnamed files pushed the deploy's own later
// warnings (a report not written, a comment not posted) out of the annotations. It annotates as many as
// leave room for its own, then one that says how many more the log holds.
func TestDeployReadWarningsLeaveRoomForItsOwn(t *testing.T) {
	requirePG(t)
	work := t.TempDir()
	dir := filepath.Join(work, "migrations")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "1_a.up.sql"), []byte("CREATE TABLE a (id bigint);\n"))
	for i := 2; i <= 13; i++ {
		writeFile(t, filepath.Join(dir, fmt.Sprintf("%d_m.sql", i)), []byte("SELECT 1;\n"))
	}
	cfg := filepath.Join(work, "schemagate.yml")
	writeFile(t, cfg, []byte("dir: "+dir+"\nformat: golang-migrate\nenvironments:\n  prod:\n    snapshot: {kind: none}\n"))
	env := map[string]string{"SCHEMAGATE_PROD_DATABASE_URL": pgtest.URL(t), "USER": "ci", "GITHUB_ACTIONS": "true"}
	code, out, errOut := runCLI(t, env, "deploy", "--env", "prod", "--config", cfg, "--dry-run")
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if n := strings.Count(errOut, "_m.sql: ignored"); n != 12 {
		t.Errorf("stderr names %d of the 12 misnamed files:\n%s", n, errOut)
	}
	annotations := strings.Count(out, "::warning")
	if annotations > ci.AnnotationCap-ci.OwnAnnotations {
		t.Errorf("%d warning annotations, more than the %d that leave room for the deploy's own:\n%s", annotations, ci.AnnotationCap-ci.OwnAnnotations, out)
	}
	if !strings.Contains(out, "more warnings on the migration folder") {
		t.Errorf("no annotation says how many more warnings the log holds:\n%s", out)
	}
}
