package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoadReportsEveryProblemAtOnce(t *testing.T) {
	src := `dir: db
format: flywayy
database:
  provider: podman
  pg_version: 7
  colour: blue
  statement_timeout: -5s
lint:
  fail_on: sometimes
  rules:
    set-not-null: fatal
    drop-tabel: off
unknown_top: 1
environments:
  prod:
    lock_timeout: 2x
    snapshot: {kind: none}
    windows:
      - cron: "0 25 * * *"
        duration: 1h
`
	path := filepath.Join(t.TempDir(), "schemagate.yml")
	os.WriteFile(path, []byte(src), 0o644)
	_, err := Load(path, true)
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want Problems, got %v", err)
	}
	want := []string{
		"schemagate.yml:2:9: format: unknown migration format \"flywayy\"",
		"schemagate.yml:4:13: database.provider: unknown provider \"podman\"",
		"schemagate.yml:5:15: database.pg_version: PostgreSQL version 7 is not supported",
		"schemagate.yml:6:3: field colour not found",
		"schemagate.yml:7:22: database.statement_timeout: must not be negative",
		"schemagate.yml:9:12: lint.fail_on: unknown value \"sometimes\"",
		"schemagate.yml:11:19: lint.rules.set-not-null: unknown class \"fatal\"",
		"schemagate.yml:12:5: lint.rules.drop-tabel: unknown rule id \"drop-tabel\" (did you mean \"drop-table\"?)",
		"schemagate.yml:13:1: field unknown_top not found at the top level",
		"schemagate.yml:16:19: environments.prod.lock_timeout: want a duration such as 90s, 5m or 2h30m, got 2x", // once, not also "must be positive"
		"schemagate.yml:19:15: environments.prod.windows.0.cron: \"0 25 * * *\": end of range (25) above maximum (23)",
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error does not contain %q:\n%s", w, msg)
		}
	}
	if len(ps) != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", len(ps), len(want), msg)
	}
}

// TestLoadDuplicateKeyValueProblems: a key set twice is that problem and every problem of the repeat's
// own value, which used to go unsaid: approvals: 2 then approvals: "3" said only "set twice". A repeat
// holding a key set twice says that too; a valid repeat says nothing more.
func TestLoadDuplicateKeyValueProblems(t *testing.T) {
	src := `approval:
  approvals: 2
  approvals: "3"
database:
  provider: local
  provider: lokal
lint:
  fail_on: caution
lint:
  fail_on: dangerous
  fail_on: sometimes
  rules: {prefer-text: off}
`
	err := Parse("schemagate.yml", []byte(src), Default())
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want Problems, got %v", err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.Error())
	}
	want := []string{
		"schemagate.yml:3:3: approval.approvals: set twice (line 2 and line 3): keep one",
		"schemagate.yml:3:14: approval.approvals: cannot unmarshal !!str `3` into int",
		"schemagate.yml:6:3: database.provider: set twice (line 5 and line 6): keep one",
		"schemagate.yml:6:13: database.provider: unknown provider \"lokal\" (want auto, local, docker or url)",
		"schemagate.yml:9:1: lint: set twice (line 7 and line 9): keep one",
		"schemagate.yml:11:3: lint.fail_on: set twice (line 10 and line 11): keep one",
		"schemagate.yml:11:12: lint.fail_on: unknown value \"sometimes\" (want dangerous, caution, safe or never)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A key set twice used to make the decoder drop its whole mapping: only the duplicate was reported, and
// the other problems of that mapping (and its settings) were lost.
func TestLoadDuplicateKeysReportedWithTheRest(t *testing.T) {
	src := `dir: db
format: flywayy
dir: other
environments:
  prod:
    database_url_env: PROD_URL
    snapshot: {kind: none}
    lock_timeout: 2x
    windows:
      - cron: "0 3 * * *"
        duration: 1h
    windows:
      - cron: "0 5 * * *"
        duration: 1h
    lock_timeout: |
      5s
      and more
lint:
  fail_on: sometimes
`
	path := filepath.Join(t.TempDir(), "schemagate.yml")
	os.WriteFile(path, []byte(src), 0o644)
	_, err := Load(path, true)
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want Problems, got %v", err)
	}
	want := []string{
		"schemagate.yml:2:9: format: unknown migration format \"flywayy\"",
		"schemagate.yml:3:1: dir: set twice (line 1 and line 3): keep one",
		"schemagate.yml:8:19: environments.prod.lock_timeout: want a duration such as 90s, 5m or 2h30m, got 2x",
		"schemagate.yml:12:5: environments.prod.windows: set twice (line 9 and line 12): keep one",
		"schemagate.yml:15:5: environments.prod.lock_timeout: set twice (line 8 and line 15): keep one",
		// The repeat's own value is a problem too.
		"schemagate.yml:15:19: environments.prod.lock_timeout: want a duration such as 90s, 5m or 2h30m, got 5s",
		"schemagate.yml:19:12: lint.fail_on: unknown value \"sometimes\"",
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error does not contain %q:\n%s", w, msg)
		}
	}
	if len(ps) != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", len(ps), len(want), msg)
	}
}

func TestLoadMissingFile(t *testing.T) {
	cfg, err := Load(filepath.Join(t.TempDir(), "nope.yml"), false)
	if err != nil || cfg.Database.Provider != "auto" {
		t.Fatalf("optional missing file: cfg=%+v err=%v", cfg, err)
	}
	// Named, it is an error that says so plainly, not the system call's "openat ...: no such file or directory".
	missing := filepath.Join(t.TempDir(), "nope.yml")
	_, err = Load(missing, true)
	if err == nil || err.Error() != "read configuration: "+missing+": no such file" || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("named missing file: %v", err)
	}
	// A folder is no file either, without the system call's name.
	dir := t.TempDir()
	if _, err := Load(dir, true); err == nil || err.Error() != "read configuration: "+dir+": is a directory" {
		t.Errorf("a folder: %v", err)
	}
}

func TestLoadBrokenYAML(t *testing.T) {
	path := filepath.Join(t.TempDir(), "schemagate.yml")
	os.WriteFile(path, []byte("dir: [unclosed\nformat: goose\n"), 0o644)
	_, err := Load(path, true)
	if err == nil || !strings.Contains(err.Error(), "schemagate.yml:") {
		t.Fatalf("want a positioned YAML error, got %v", err)
	}
}

// TestYAMLSyntaxErrorLine: a syntax error names the line and column it is on. The YAML reader numbers its
// parser's errors' lines from 0 (its scanner's from 1), which put "did not find expected ',' or ']'" on
// the line before the list that is not closed; it says no column at all, and no line on the first line.
func TestYAMLSyntaxErrorLine(t *testing.T) {
	tests := []struct {
		name, src string
		line, col int
	}{
		{name: "list not closed", src: "dir: db\nlint:\n  fail_on: [dangerous\n", line: 3, col: 12},
		{name: "list not closed, on two lines", src: "dir: db\nlint:\n  fail_on: [dangerous,\n    caution\nformat: x\n", line: 3, col: 12},
		{name: "mapping not closed", src: "dir: db\nformat: goose\nlint: {fail_on: dangerous\n\n", line: 3, col: 7},
		{name: "list closed by a brace", src: "dir: db\nlint:\n  rules: {a: b}\n  fail_on: [a, b}\n", line: 4, col: 12},
		{name: "list not closed on the first line", src: "dir: [db\nformat: goose\n", line: 2, col: 7},
		{name: "key indented wrong", src: "dir: db\nlint:\n  fail_on: dangerous\n bad: 1\n", line: 4, col: 2},
		{name: "list item in a mapping", src: "dir: db\n- goose\n", line: 2, col: 1},
		{name: "tab (a scanner error)", src: "dir: db\nlint:\n\tfail_on: dangerous\n", line: 3, col: 1},
		{name: "second colon", src: "dir: db\nformat: goose: x\n", line: 2, col: 14},
		{name: "reserved character", src: "dir: db\nformat: @goose\n", line: 2, col: 9},
		{name: "reserved character on the first line", src: "dir: `db`\n", line: 1, col: 6},
		{name: "quote not closed", src: "dir: db\nformat: \"goose\n", line: 2, col: 9},
		{name: "unknown escape", src: "dir: db\nformat: \"go\\qose\"\n", line: 2, col: 12},
		{name: "key without a colon", src: "dir: db\nlint\n  fail_on: x\n", line: 2, col: 1},
		{name: "alias to no anchor", src: "dir: db\nlint:\n  fail_on: *strict\n", line: 3, col: 12},
		// The reader names the line where the list starts; the key indented wrong is on the next one.
		{name: "list item indented wrong", src: "environments:\n  prod:\n    windows:\n      - cron: \"0 3 * * *\"\n       duration: 1h\n", line: 5, col: 8},
		{name: "at the end of the file", src: "dir: db\nlint: [\n", line: 3, col: 1},
		{name: "after characters of two bytes", src: "dir: dé\nformat: ünïcödé: x\n", line: 2, col: 16},
		{name: "after a byte-order mark", src: "\ufeffdir: @db\n", line: 1, col: 6},
		{name: "after a duration of 0", src: "database: {statement_timeout: 0, x: @}\n", line: 1, col: 37},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var probs Problems
			err := Parse("schemagate.yml", []byte(tt.src), Default())
			if !errors.As(err, &probs) || len(probs) != 1 {
				t.Fatalf("want one problem, got %v", err)
			}
			p := probs[0]
			if p.Line != tt.line || p.Column != tt.col {
				t.Errorf("at %d:%d, want %d:%d: %v", p.Line, p.Column, tt.line, tt.col, err)
			}
			if want := fmt.Sprintf("schemagate.yml:%d:%d: ", tt.line, tt.col); !strings.HasPrefix(p.Error(), want) {
				t.Errorf("%q does not start with %q", p.Error(), want)
			}
		})
	}
}

func TestEnvAndDefaults(t *testing.T) {
	cfg := Default()
	env := map[string]string{"SCHEMAGATE_PROVIDER": "url", "SCHEMAGATE_DATABASE_URL": "postgres://x", "SCHEMAGATE_PG_VERSION": "17"}
	if err := cfg.ApplyEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if cfg.Database.Provider != "url" || cfg.Database.URL != "postgres://x" || cfg.Database.PGVersion != 17 {
		t.Fatalf("env not applied: %+v", cfg.Database)
	}
	env["SCHEMAGATE_PG_VERSION"] = "seventeen"
	if err := cfg.ApplyEnv(func(k string) string { return env[k] }); err == nil {
		t.Fatal("a non-numeric SCHEMAGATE_PG_VERSION must be an error")
	}
}

func TestRehearsalStatementTimeout(t *testing.T) {
	for src, want := range map[string]time.Duration{
		"dir: db\n":                             0,  // the rehearsal's default
		"database:\n  statement_timeout: 0s\n":  -1, // no limit
		"database:\n  statement_timeout: 90s\n": 90 * time.Second,
	} {
		cfg := Default()
		if err := Parse("schemagate.yml", []byte(src), cfg); err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		if got := cfg.Database.RehearsalStatementTimeout(); got != want {
			t.Errorf("%q: %s, want %s", src, got, want)
		}
	}
}

// A value that does not decode used to be reported without its key ("schemagate.yml:2: want a
// duration such as 90s, 5m or 2h30m, got abc"), unlike every other problem.
func TestTypeErrorsNameTheKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src, want string
	}{
		{name: "duration", src: "database:\n  statement_timeout: abc\n",
			want: "schemagate.yml:2:22: database.statement_timeout: want a duration such as 90s, 5m or 2h30m, got abc"},
		{name: "window duration", src: "environments:\n  prod:\n    snapshot: {kind: none}\n    windows:\n      - cron: \"0 3 * * *\"\n        duration: soon\n",
			want: "schemagate.yml:6:19: environments.prod.windows.0.duration: want a duration such as 90s, 5m or 2h30m, got soon"},
		{name: "flow mapping", src: "environments:\n  prod: {snapshot: {kind: none}, lock_timeout: 5s, max_wait: later}\n",
			want: "schemagate.yml:2:62: environments.prod.max_wait: want a duration such as 90s, 5m or 2h30m, got later"},
		{name: "long value cut by the decoder", src: "database:\n  statement_timeout: ten minutes or so\n",
			want: "schemagate.yml:2:22: database.statement_timeout: want a duration such as 90s, 5m or 2h30m, got ten min..."},
		{name: "integer", src: "database:\n  pg_version: fifteen\n",
			want: "schemagate.yml:2:15: database.pg_version: cannot unmarshal !!str `fifteen` into int"},
		{name: "list for a duration", src: "database:\n  statement_timeout: [1s]\n",
			want: "schemagate.yml:2:22: database.statement_timeout: cannot unmarshal !!seq into time.Duration"},
		{name: "list for a section", src: "dir: db\nlint: [prefer-text]\n",
			want: "schemagate.yml:2:7: lint: cannot unmarshal !!seq into a section of settings (key: value lines)"},
		{name: "value for a map", src: "environments: prod\n",
			want: "schemagate.yml:1:15: environments: cannot unmarshal !!str `prod` into a section of settings (key: value lines)"},
		{name: "value for a list", src: "database:\n  setup: roles.sql\n",
			want: "schemagate.yml:2:10: database.setup: cannot unmarshal !!str `roles.sql` into a list"},
		{name: "empty setup file", src: "database:\n  setup:\n    - roles.sql\n    - ''\n",
			want: "schemagate.yml:4:7: database.setup[1]: empty: name an SQL file"},
		{name: "yes/no", src: "lint:\n  deploy_timeouts: maybe\n",
			want: "schemagate.yml:2:20: lint.deploy_timeouts: want true or false (yes/no, on/off and y/n are read too), got maybe"},
		{name: "yes/no in quotes", src: "lint:\n  deploy_timeouts: 'true'\n",
			want: "schemagate.yml:2:20: lint.deploy_timeouts: want true or false without quotes, got \"true\""},
		{name: "yes/no for text", src: "dir: true\n",
			want: "schemagate.yml:1:6: dir: true is a yes/no value, not text: write it in quotes (\"true\") if you mean the word"},
		{name: "yes/no in rows", src: "environments:\n  prod:\n    verify: {checks: [{sql: select true, rows: [[True]]}]}\n",
			want: "schemagate.yml:3:50: environments.prod.verify.checks[0].rows[0][0]: True is a yes/no value, not text, and PostgreSQL writes a boolean as t or f: write t or f, or \"True\" in quotes if the column holds the word"},
		{name: "empty list item", src: "approval:\n  dba_users:\n    - dora\n    -\n",
			want: "schemagate.yml:4:6: approval.dba_users[1]: an empty item, which would be dropped: remove it, or write its value"},
		{name: "NULL in rows", src: "environments:\n  prod:\n    verify: {checks: [{sql: select null, rows: [[NULL]]}]}\n",
			want: "schemagate.yml:3:50: environments.prod.verify.checks[0].rows[0][0]: an empty value (YAML's null), which would be dropped: the check compares a NULL as the text NULL, so write 'NULL' in quotes"},
		{name: "not UTF-8", src: "dir: db\nlint:\n  rules: {prefer-text: off} # caf\xe9\n",
			want: "schemagate.yml:3:34: not valid UTF-8 (byte 0xe9 at offset 47): save the file as UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Parse("schemagate.yml", []byte(tc.src), Default())
			if err == nil || err.Error() != "invalid configuration: "+tc.want {
				t.Errorf("err = %v\nwant %s", err, tc.want)
			}
		})
	}
}

// TestWholeNumbersAreNotCut: the decoder cut a number with a fraction to a whole one without a word
// (approvals: 1.5 asked for 1 approval, keep: 0.5 kept every snapshot) and read 015 as octal 13, while
// the JSON Schema refused both. Each is refused at its line; a whole number written as 2.0 still reads.
func TestWholeNumbersAreNotCut(t *testing.T) {
	t.Parallel()
	env := "environments:\n  prod:\n    database_url_env: PROD_URL\n"
	for _, tc := range []struct {
		name, src, want string
	}{
		{name: "approvals", src: "approval:\n  approvals: 1.5\n", want: "schemagate.yml:2:14: approval.approvals: 1.5 is not a whole number"},
		{name: "below one", src: "approval: {approvals: 0.5}\n", want: "schemagate.yml:1:23: approval.approvals: 0.5 is not a whole number"},
		{name: "retries", src: env + "    snapshot: {kind: none}\n    retries: 2.7\n", want: "schemagate.yml:5:14: environments.prod.retries: 2.7 is not a whole number"},
		{name: "keep", src: env + "    snapshot:\n      kind: none\n      keep: 0.5\n", want: "schemagate.yml:6:13: environments.prod.snapshot.keep: 0.5 is not a whole number"},
		{name: "merged", src: env + "    snapshot:\n      <<: &s {kind: none, jobs: 1.5}\n", want: "schemagate.yml:5:33: environments.prod.snapshot.jobs: 1.5 is not a whole number"},
		{name: "octal", src: "database:\n  pg_version: 015\n", want: "schemagate.yml:2:15: database.pg_version: 015 has a leading 0, which reads as an octal number: write it without"},
		{name: "whole", src: "approval:\n  approvals: 2.0\n"},
		{name: "zero", src: env + "    snapshot: {kind: none, keep: 0}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Parse("schemagate.yml", []byte(tc.src), Default())
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v\nwant %s", err, tc.want)
			}
		})
	}
}

// TestYAMLSyntaxErrorPlaceIsBounded: finding a syntax error's column reads the start of the file again
// for each line the place may be on: in a large file whose reader names a line far above the place, that
// would take minutes. Past its budget the error has its line alone, at once.
func TestYAMLSyntaxErrorPlaceIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("environments:\n  prod:\n    windows:\n")
	for range 5000 {
		b.WriteString("      - cron: \"0 3 * * *\"\n        duration: 1h\n")
	}
	b.WriteString("       duration: 2h\n") // indented wrong: the reader names the line the list starts on
	// The budget is counted in bytes read (syntaxBudget), not time: the line alone proves it was spent,
	// and no timed assertion makes the test depend on the machine's load.
	var probs Problems
	if err := Parse("schemagate.yml", []byte(b.String()), Default()); !errors.As(err, &probs) || len(probs) != 1 {
		t.Fatalf("want one problem, got %v", err)
	}
	if probs[0].Line != 4 || probs[0].Column != 0 {
		t.Errorf("at %d:%d, want line 4 alone (the budget spent): %v", probs[0].Line, probs[0].Column, probs[0])
	}
}
