package lint

import (
	"strings"
	"testing"
	"time"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

func script(src string) *migrate.Script {
	return &migrate.Script{File: "m.sql", SQL: src, Statements: sqlparse.Parse(src)}
}

func find(fs []Finding, rule string) *Finding {
	for i := range fs {
		if fs[i].Rule == rule {
			return &fs[i]
		}
	}
	return nil
}

func TestConfigOverrides(t *testing.T) {
	t.Parallel()
	src := "SET lock_timeout = '2s';\nSET statement_timeout = '30s';\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\nALTER TABLE users DROP COLUMN age;\n"
	tests := []struct {
		name  string
		rules map[string]string
		rule  string
		want  string // risk, or "" for absent
	}{
		{"default", nil, "set-not-null", "dangerous"},
		{"lowered", map[string]string{"set-not-null": "caution"}, "set-not-null", "caution"},
		{"raised", map[string]string{"drop-column": "dangerous"}, "drop-column", "dangerous"},
		{"off", map[string]string{"set-not-null": "off"}, "set-not-null", ""},
		{"opt-in off by default", nil, "unqualified-name", ""},
		{"opt-in on", map[string]string{"unqualified-name": "caution"}, "unqualified-name", "caution"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := Config{Rules: tt.rules}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			f := find(AnalyzeScript(script(src), true, cfg), tt.rule)
			switch {
			case tt.want == "" && f != nil:
				t.Errorf("%s present: %v", tt.rule, f)
			case tt.want != "" && f == nil:
				t.Errorf("%s missing", tt.rule)
			case f != nil && f.Risk.String() != tt.want:
				t.Errorf("%s risk %s, want %s", tt.rule, f.Risk, tt.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	err := Config{PGVersion: 150, Rules: map[string]string{"set-not-nul": "dangerous", "drop-table": "fatal", "truncate": "off"}}.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`rule "set-not-nul": unknown rule id (did you mean "set-not-null"?)`, `rule "drop-table": unknown class "fatal"`, "pg version 150"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "truncate") {
		t.Errorf("off is a valid class: %v", err)
	}
}

func TestParseVersion(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{"15": 15, "14.2": 140002, "9.6": 90600, "140002": 140002} {
		if got, err := ParseVersion(in); err != nil || got != want {
			t.Errorf("ParseVersion(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "3", "15.x", "-1", "15.2.1"} {
		if _, err := ParseVersion(in); err == nil {
			t.Errorf("ParseVersion(%q) accepted", in)
		}
	}
}

func TestVersionGating(t *testing.T) {
	t.Parallel()
	src := "ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true;\n"
	for _, tt := range []struct {
		pg      int
		risk    Risk
		rewrite bool
	}{{10, Dangerous, true}, {15, Safe, false}, {0, Safe, false}, {110000, Safe, false}, {100023, Dangerous, true}} {
		f := find(AnalyzeScript(script(src), true, Config{PGVersion: tt.pg}), "add-column-default-nonvolatile")
		if f == nil || f.Risk != tt.risk || f.Rewrite != tt.rewrite {
			t.Errorf("pg %d: %+v, want risk %s rewrite %v", tt.pg, f, tt.risk, tt.rewrite)
		}
	}
	cic := "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_age_idx ON users (age);\n"
	for pg, want := range map[int]bool{140002: true, 140000: true, 140004: false, 14: false, 15: false} {
		got := find(AnalyzeScript(script(cic), false, Config{PGVersion: pg}), "concurrent-index-buggy-version") != nil
		if got != want {
			t.Errorf("pg %d: buggy-version finding %v, want %v", pg, got, want)
		}
	}
}

func TestSuppression(t *testing.T) {
	t.Parallel()
	src := `-- schemagate:ignore set-not-null,missing-lock-timeout users holds 12 rows
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
-- schemagate:ignore drop-column
ALTER TABLE users DROP COLUMN age;

-- schemagate:ignore truncate far from the statement

TRUNCATE users;
`
	fs := AnalyzeScript(script(src), false, Config{})
	snn := find(fs, "set-not-null")
	if snn == nil || !snn.Ignored || snn.Reason != "users holds 12 rows" {
		t.Errorf("set-not-null: %+v", snn)
	}
	if lt := find(fs, "missing-lock-timeout"); lt == nil || !lt.Ignored {
		t.Errorf("missing-lock-timeout: %+v", lt)
	}
	if st := find(fs, "missing-statement-timeout"); st == nil || st.Ignored {
		t.Errorf("missing-statement-timeout must stay: %+v", st)
	}
	dc := find(fs, "drop-column")
	if dc == nil || dc.Ignored {
		t.Errorf("drop-column without reason must not be suppressed: %+v", dc)
	}
	iwr := find(fs, "ignore-without-reason")
	if iwr == nil || iwr.Line != 3 || iwr.Column != 1 || iwr.Risk != Caution {
		t.Errorf("ignore-without-reason: %+v", iwr)
	}
	if tr := find(fs, "truncate"); tr == nil || tr.Ignored {
		t.Errorf("a comment separated by a blank line must not suppress: %+v", tr)
	}
	if Highest(fs) != Dangerous {
		t.Errorf("highest %s", Highest(fs))
	}
}

func TestParseErrorRisk(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]Risk{
		"ALTER TABLE users ADD COLUMN x int DEFALT 0;":                            Dangerous,
		"ALTER TABLE users ADD CONSTRAINT email_nn NOT NULL email NOT VALID;":     Caution,
		"ALTER TABLE users ADD COLUMN y int GENERATED ALWAYS AS (age*2) VIRTUAL;": Caution,
	} {
		fs := AnalyzeScript(script("SELECT 1;\n  "+src+"\n"), true, Config{})
		f := find(fs, "parse-error")
		if f == nil || f.Risk != want || f.Line != 2 || f.Column < 3 {
			t.Errorf("%s: %+v, want %s at line 2", src, f, want)
		}
	}
}

func TestCreatedObjectsExempt(t *testing.T) {
	t.Parallel()
	src := `CREATE TABLE scratch (id bigint);
CREATE INDEX scratch_id_idx ON scratch (id);
ALTER TABLE scratch ALTER COLUMN id SET NOT NULL;
ALTER TABLE scratch ADD COLUMN n bigint DEFAULT nextval('s');
DROP TABLE scratch;
`
	for _, f := range AnalyzeScript(script(src), true, Config{}) {
		if f.Risk == Dangerous {
			t.Errorf("object created in the migration flagged: %v", f)
		}
	}
}

func TestAnalyzeMigration(t *testing.T) {
	t.Parallel()
	src := "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_age_idx ON users (age);\n"
	m := &migrate.Migration{Version: "1", Up: script(src)}
	if find(Analyze(m, Config{}), "concurrently-in-transaction") == nil {
		t.Error("tool-wrapped migration: want concurrently-in-transaction")
	}
	m.NoTransaction = true
	if f := find(Analyze(m, Config{}), "concurrently-in-transaction"); f != nil {
		t.Errorf("non-transactional migration: %v", f)
	}
	if Analyze(&migrate.Migration{}, Config{}) != nil || Analyze(nil, Config{}) != nil {
		t.Error("nil up script: want no findings")
	}
}

func TestRulesCatalog(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, r := range Rules() {
		if seen[r.ID] {
			t.Errorf("duplicate rule %s", r.ID)
		}
		seen[r.ID] = true
		if r.Summary == "" || r.Bad == "" || r.Good == "" {
			t.Errorf("rule %s lacks summary or examples", r.ID)
		}
		for _, c := range r.ID {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				t.Errorf("rule id %q is not kebab-case", r.ID)
				break
			}
		}
	}
	if len(catalog) != 88 {
		t.Errorf("catalog has %d rules, want the 88 of risk-rules.md", len(catalog))
	}
}

// TestDeployTimeouts checks how the timeouts schemagate deploy sets change the missing-timeout findings:
// covered ones become safe and name the deploy's setting, a script that turns the setting off keeps the
// rule's class, and an explicit rule class in the configuration still wins.
func TestDeployTimeouts(t *testing.T) {
	t.Parallel()
	both := DeployTimeouts{{Name: "production", LockTimeout: 5 * time.Second, StatementTimeout: 2 * time.Minute},
		{Name: "staging", LockTimeout: 5 * time.Second, StatementTimeout: 2 * time.Minute}}
	lockOnly := DeployTimeouts{{Name: "production", LockTimeout: 1500 * time.Millisecond}}
	differ := DeployTimeouts{{Name: "production", LockTimeout: 3 * time.Second, StatementTimeout: time.Hour},
		{Name: "staging", LockTimeout: 5 * time.Second}}
	alter := "ALTER TABLE users ADD COLUMN bio text;\n"
	type want struct {
		risk string // "" when the finding must be absent
		says string // part of the message
	}
	tests := []struct {
		name       string
		src        string
		deploy     DeployTimeouts
		rules      map[string]string
		lock, stmt want
	}{
		{"no deploy", alter, nil, nil,
			want{"dangerous", "without an earlier SET lock_timeout: while"}, want{"caution", "without an earlier SET statement_timeout"}},
		{"deploy sets both", alter, both, nil,
			want{"safe", "schemagate deploy runs it with lock_timeout = 5s (environments production, staging) and retries"},
			want{"safe", "statement_timeout = 2min (environments production, staging)"}},
		{"deploy sets lock_timeout only", alter, lockOnly, nil,
			want{"safe", "lock_timeout = 1500ms (environment production)"}, want{"caution", "without an earlier SET statement_timeout"}},
		{"script turns lock_timeout off", "SET lock_timeout = 0;\n" + alter, both, nil,
			want{"dangerous", "an earlier statement turns lock_timeout off, undoing the deploy's lock_timeout = 5s (environments production, staging)"},
			want{"safe", "statement_timeout = 2min"}},
		{"script resets statement_timeout", "RESET statement_timeout;\n" + alter, both, nil,
			want{"safe", "lock_timeout = 5s"}, want{"caution", "turns statement_timeout off"}},
		{"script resets everything", "RESET ALL;\n" + alter, both, nil,
			want{"dangerous", "turns lock_timeout off"}, want{"caution", "turns statement_timeout off"}},
		{"script sets its own", "SET lock_timeout = '2s';\nSET statement_timeout TO DEFAULT;\nSET statement_timeout = '10s';\n" + alter, both, nil,
			want{}, want{}},
		{"environments differ", alter, differ, nil,
			want{"safe", "lock_timeout (3s in production, 5s in staging) and retries"}, want{"caution", "without an earlier SET statement_timeout"}},
		{"explicit class wins", alter, both, map[string]string{"missing-lock-timeout": "caution"},
			want{"caution", "schemagate deploy runs it with lock_timeout = 5s"}, want{"safe", "statement_timeout = 2min"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := AnalyzeScript(script(tt.src), true, Config{Deploy: tt.deploy, Rules: tt.rules})
			for rule, w := range map[string]want{"missing-lock-timeout": tt.lock, "missing-statement-timeout": tt.stmt} {
				f := find(fs, rule)
				switch {
				case w.risk == "" && f != nil:
					t.Errorf("%s present: %+v", rule, f)
				case w.risk == "":
				case f == nil:
					t.Errorf("%s missing", rule)
				case f.Risk.String() != w.risk || !strings.Contains(f.Message, w.says):
					t.Errorf("%s: %s %q, want %s and a message with %q", rule, f.Risk, f.Message, w.risk, w.says)
				}
			}
		})
	}
}

// TestToolFindingsCopyData: inline COPY rows are psql's to send; golang-migrate, goose, dbmate and
// sql-migrate send SQL text, so the migration fails under them, while plain and sqitch folders (psql)
// and Flyway load the rows.
func TestToolFindingsCopyData(t *testing.T) {
	src := "CREATE TABLE t (id int, s text);\nCOPY t (id, s) FROM stdin;\n1\ta\n\\.\n"
	m := &migrate.Migration{Version: "1", Name: "seed", Up: &migrate.Script{File: "1_seed.up.sql", SQL: src, Statements: sqlparse.Parse(src)}}
	for format, want := range map[migrate.Format]bool{
		migrate.FormatGolangMigrate: true, migrate.FormatGoose: true, migrate.FormatDbmate: true, migrate.FormatSQLMigrate: true,
		migrate.FormatPlain: false, migrate.FormatSqitch: false, migrate.FormatFlyway: false,
	} {
		fs := ToolFindings(m, format, Config{})
		if got := len(fs) == 1 && fs[0].Rule == "copy-data-unsupported-by-tool" && fs[0].Line == 2 && fs[0].Risk == Dangerous; got != want {
			t.Errorf("%s: findings %+v, want one at line 2: %v", format, fs, want)
		}
	}
	if fs := ToolFindings(m, migrate.FormatGolangMigrate, Config{Rules: map[string]string{"copy-data-unsupported-by-tool": "off"}}); len(fs) != 0 {
		t.Errorf("turned off in the configuration: %+v", fs)
	}
}
