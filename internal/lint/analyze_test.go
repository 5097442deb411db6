package lint

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
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

// TestParseErrorRisk: a statement the embedded grammar rejects is dangerous, unless it looks like
// syntax newer than the grammar and the target is newer too (caution: the rehearsal judges it). On a
// target of the grammar's version or older such syntax fails as well: dangerous, saying why.
func TestParseErrorRisk(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]Risk{
		"ALTER TABLE users ADD COLUMN x int DEFALT 0;":                            Dangerous,
		"ALTER TABLE users ADD CONSTRAINT email_nn NOT NULL email NOT VALID;":     Caution,
		"ALTER TABLE users ADD COLUMN y int GENERATED ALWAYS AS (age*2) VIRTUAL;": Caution,
		// Newer-syntax words elsewhere in the statement do not excuse a real error.
		"CREATE TABLE billing (id bigint PRIMARY KEY, period text, amount numeric,);":          Dangerous,
		"ALTER TABLE users ADD COLUMN period text DEFALT 'x';":                                 Dangerous,
		"ALTER TABLE users ADD COLUMN virtual_x int DEFALT 0;":                                 Dangerous,
		"CREATE TABLE t (a int NOT NULL, b int, CHECK (b > 0) NOT VALID,);":                    Dangerous,
		"ALTER TABLE users ADD CONSTRAINT c CHECK (age > 0) NOT ENFORCED;":                     Caution,
		"ALTER TABLE b ADD CONSTRAINT x FOREIGN KEY (a, PERIOD b) REFERENCES c (a, PERIOD b);": Caution,
		"ALTER TABLE bookings ADD CONSTRAINT x PRIMARY KEY (room, during WITHOUT OVERLAPS);":   Caution,
		"REPACK users;": Caution,
	} {
		for _, pg := range []int{0, 15, sqlparse.GrammarVersion, sqlparse.GrammarVersion + 1} {
			fs := AnalyzeScript(script("SELECT 1;\n  "+src+"\n"), true, Config{PGVersion: pg})
			f := find(fs, "parse-error")
			// Newer syntax is newer than a target no newer than the grammar as well: it fails there.
			risk := want
			if pg <= sqlparse.GrammarVersion {
				risk = Dangerous
			}
			if f == nil || f.Risk != risk || f.Line != 2 || f.Column < 3 {
				t.Errorf("%s on %d: %+v, want %s at line 2", src, pg, f, risk)
				continue
			}
			if want == Caution && risk == Dangerous && !strings.Contains(f.Message, "does not have either, so the statement fails there") {
				t.Errorf("%s on %d: %q does not say that the target lacks the syntax", src, pg, f.Message)
			}
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
	if find(Analyze(m, migrate.FormatGolangMigrate, Config{}), "concurrently-in-transaction") == nil {
		t.Error("tool-wrapped migration: want concurrently-in-transaction")
	}
	m.NoTransaction = true
	if f := find(Analyze(m, migrate.FormatGolangMigrate, Config{}), "concurrently-in-transaction"); f != nil {
		t.Errorf("non-transactional migration: %v", f)
	}
	if Analyze(&migrate.Migration{}, migrate.FormatGolangMigrate, Config{}) != nil || Analyze(nil, migrate.FormatGolangMigrate, Config{}) != nil {
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
	if len(catalog) != 88+12+9+7 {
		t.Errorf("catalog has %d rules, want the 88 of risk-rules.md, rename-trigger, create-rule, create-partition, refresh-matview-concurrently, rename-type, version-unsupported, do-commit-in-transaction, prepared-transaction, constraint-using-index, restart-sequence, refused-expression, replace-function-in-use, the 9 server rules of check_server.go and the 7 rules of check_reach.go", len(catalog))
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

// rulesOf lists the rules of the findings that are not ignored, in order.
func rulesOf(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		if !f.Ignored {
			out = append(out, f.Rule)
		}
	}
	return out
}

// TestNamesResolveLikePostgreSQL: the same-migration exemption and the schema's knowledge follow
// PostgreSQL's name resolution: unquoted names fold to lower case, quoted ones keep their case, and an
// unqualified name is in the first schema of the search path (public unless the script SETs it).
func TestNamesResolveLikePostgreSQL(t *testing.T) {
	t.Parallel()
	schema := `CREATE TABLE public.users (id bigint NOT NULL, email text, name character varying(50));
CREATE INDEX users_email_idx ON public.users USING btree (email);
ALTER TABLE public.users ADD CONSTRAINT users_email_nn CHECK ((email IS NOT NULL));
`
	tests := []struct {
		name   string
		schema string
		src    string
		want   []string // rules that must be present
		absent []string // rules that must not be
	}{
		{"other schema is another table", "", "CREATE TABLE staging.users (id bigint);\nALTER TABLE public.users ALTER COLUMN email SET NOT NULL;\nDROP TABLE public.users;\n",
			[]string{"set-not-null", "drop-table", "missing-lock-timeout"}, nil},
		{"quoted name keeps its case", "", "CREATE TABLE \"Users\" (id bigint);\nALTER TABLE users ALTER COLUMN email TYPE int;\n",
			[]string{"change-column-type-rewrite"}, nil},
		{"unquoted names fold", "", "CREATE TABLE Scratch (id bigint);\nALTER TABLE SCRATCH ALTER COLUMN id SET NOT NULL;\nDROP TABLE public.scratch;\n",
			nil, []string{"set-not-null", "drop-table"}},
		{"search_path decides the schema", "", "SET search_path TO app, public;\nCREATE TABLE users (id bigint);\nALTER TABLE app.users ALTER COLUMN id SET NOT NULL;\nALTER TABLE public.users DROP COLUMN email;\n",
			[]string{"drop-column"}, []string{"set-not-null"}},
		{"search_path with = and $user", "", "SET search_path = \"$user\", app;\nCREATE TABLE users (id bigint);\nDROP TABLE app.users;\n",
			nil, []string{"drop-table"}},
		{"qualified schema, unqualified migration: proven NOT NULL", schema, "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n",
			[]string{"set-not-null-proven"}, []string{"set-not-null"}},
		{"qualified schema, unqualified migration: indexed column", schema, "ALTER TABLE users ALTER COLUMN email TYPE text COLLATE \"C\";\n",
			[]string{"change-column-collation-index-rebuild"}, nil},
		{"qualified schema, unqualified migration: column type", schema, "ALTER TABLE users ALTER COLUMN name TYPE varchar(100);\n",
			[]string{"change-column-type-coercible"}, []string{"change-column-type-rewrite"}},
		{"qualified schema, unqualified migration: index", schema, "DROP INDEX users_email_idx;\n",
			[]string{"drop-index-blocking"}, nil},
		{"schema in another search path", schema, "SET search_path TO app;\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\n",
			[]string{"set-not-null"}, []string{"set-not-null-proven"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := rulesOf(AnalyzeScript(script(tt.src), true, Config{Schema: tt.schema}))
			for _, r := range tt.want {
				if !slices.Contains(got, r) {
					t.Errorf("want %s in %v", r, got)
				}
			}
			for _, r := range tt.absent {
				if slices.Contains(got, r) {
					t.Errorf("want no %s in %v", r, got)
				}
			}
		})
	}
}

// TestForeignKeyAddedToFilledTable: a table CREATE TABLE … AS or SELECT … INTO made is new but has
// rows (unless WITH NO DATA): a foreign key added to it reads every one of them to validate it while
// holding SHARE ROW EXCLUSIVE on the referenced table, which the application writes to. Only NOT VALID
// keeps that lock brief.
func TestForeignKeyAddedToFilledTable(t *testing.T) {
	t.Parallel()
	const fk = "ALTER TABLE orders_copy ADD CONSTRAINT fk FOREIGN KEY (status_id) REFERENCES statuses (id)"
	tests := []struct {
		name, src string
		filled    bool // add-foreign-key, not create-table-with-fk
	}{
		{"CREATE TABLE AS", "CREATE TABLE orders_copy AS SELECT * FROM orders;\n" + fk + ";\n", true},
		{"SELECT INTO", "SELECT * INTO orders_copy FROM orders;\n" + fk + ";\n", true},
		{"renamed", "CREATE TABLE orders_new AS SELECT * FROM orders;\nALTER TABLE orders_new RENAME TO orders_copy;\n" + fk + ";\n", true},
		{"WITH NO DATA", "CREATE TABLE orders_copy AS SELECT * FROM orders WITH NO DATA;\n" + fk + ";\n", false},
		{"NOT VALID", "CREATE TABLE orders_copy AS SELECT * FROM orders;\n" + fk + " NOT VALID;\n", false},
		{"created empty", "CREATE TABLE orders_copy (status_id bigint);\n" + fk + ";\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := AnalyzeScript(script(tt.src), true, Config{})
			add, brief := find(fs, "add-foreign-key"), find(fs, "create-table-with-fk")
			switch {
			case tt.filled && (add == nil || add.Risk != Dangerous || !strings.Contains(add.Message, "reads every one of them") || !strings.Contains(add.Lock, "statuses") || brief != nil):
				t.Errorf("add-foreign-key %+v, create-table-with-fk %+v; want add-foreign-key alone", add, brief)
			case !tt.filled && (add != nil || brief == nil):
				t.Errorf("add-foreign-key %+v, create-table-with-fk %+v; want create-table-with-fk alone", add, brief)
			}
			if f := find(fs, "missing-lock-timeout"); f == nil || !strings.Contains(f.Message, "SHARE ROW EXCLUSIVE") {
				t.Errorf("missing-lock-timeout: %+v", f)
			}
		})
	}
	// Made by an earlier migration of the change: still filled.
	seq := NewSequence(Config{})
	seq.AnalyzeScript(script("CREATE TABLE orders (id bigint, status_id bigint);\nCREATE TABLE statuses (id bigint PRIMARY KEY);\n"), true)
	seq.StartChange()
	seq.AnalyzeScript(script("CREATE TABLE orders_copy AS SELECT * FROM orders;\n"), true)
	if f := find(seq.AnalyzeScript(script(fk+";\n"), true), "add-foreign-key"); f == nil {
		t.Error("foreign key added in a later migration of the change to a table CREATE TABLE … AS filled: no add-foreign-key")
	}
}

// TestForeignKeyAddedToNewTable: ALTER TABLE … ADD FOREIGN KEY on a table created earlier in the
// migration scans an empty table; only the referenced table's brief SHARE ROW EXCLUSIVE matters, as
// with an inline REFERENCES, and it needs lock_timeout.
func TestForeignKeyAddedToNewTable(t *testing.T) {
	t.Parallel()
	src := "CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint NOT NULL);\nALTER TABLE posts ADD CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id);\n"
	fs := AnalyzeScript(script(src), true, Config{})
	if f := find(fs, "add-foreign-key"); f != nil {
		t.Errorf("add-foreign-key on a new table: %v", f)
	}
	if f := find(fs, "create-table-with-fk"); f == nil || f.Line != 2 || f.Risk != Safe || !strings.Contains(f.Lock, "users") {
		t.Errorf("create-table-with-fk: %+v", f)
	}
	if f := find(fs, "missing-lock-timeout"); f == nil || f.Line != 2 || !strings.Contains(f.Message, "SHARE ROW EXCLUSIVE") {
		t.Errorf("missing-lock-timeout: %+v", f)
	}
}

// TestLockTimeoutScope: SET LOCAL lasts until its transaction ends and does nothing outside a
// transaction block; zero in any unit turns the timeout off; set_config counts as SET (is_local true
// as SET LOCAL). ROLLBACK undoes a SET made in the transaction, back to what stood when it began;
// ROLLBACK TO SAVEPOINT those made since the savepoint (PostgreSQL 15: SHOW lock_timeout after each).
func TestLockTimeoutScope(t *testing.T) {
	t.Parallel()
	alter := "ALTER TABLE users ADD COLUMN bio text;\n"
	tests := []struct {
		name    string
		src     string
		inTx    bool
		missing bool // whether missing-lock-timeout is reported
	}{
		{"SET LOCAL in the tool's transaction", "SET LOCAL lock_timeout = '2s';\n" + alter, true, false},
		{"SET LOCAL in an autocommit file", "SET LOCAL lock_timeout = '2s';\n" + alter, false, true},
		{"SET LOCAL in BEGIN … COMMIT", "BEGIN;\nSET LOCAL lock_timeout = '2s';\n" + alter + "COMMIT;\n", false, false},
		{"SET LOCAL ends at COMMIT", "BEGIN;\nSET LOCAL lock_timeout = '2s';\nCOMMIT;\n" + alter, false, true},
		{"SET LOCAL ends at ROLLBACK", "BEGIN;\nSET LOCAL lock_timeout = '2s';\nROLLBACK;\nBEGIN;\n" + alter + "COMMIT;\n", false, true},
		{"SET survives COMMIT", "BEGIN;\nSET lock_timeout = '2s';\nCOMMIT;\n" + alter, false, false},
		{"SET LOCAL 0 inside a session timeout", "SET lock_timeout = '2s';\nBEGIN;\nSET LOCAL lock_timeout = 0;\n" + alter + "COMMIT;\n", false, true},
		{"session timeout back after SET LOCAL 0", "SET lock_timeout = '2s';\nBEGIN;\nSET LOCAL lock_timeout = 0;\nCOMMIT;\n" + alter, false, false},
		{"0min is off", "SET lock_timeout = '0min';\n" + alter, true, true},
		{"0.0 is off", "SET lock_timeout = 0.0;\n" + alter, true, true},
		{"'0s' is off", "SET lock_timeout = '0s';\n" + alter, true, true},
		{"'0 ms' is off", "SET lock_timeout TO '0 ms';\n" + alter, true, true},
		{"'10ms' is on", "SET lock_timeout = '10ms';\n" + alter, true, false},
		// PostgreSQL rounds a value to whole milliseconds (half to even): what rounds to 0 is off.
		{"'0.5ms' rounds to 0", "SET lock_timeout = '0.5ms';\n" + alter, true, true},
		{"'400us' rounds to 0", "SET lock_timeout = '400us';\n" + alter, true, true},
		{"0.4 rounds to 0", "SET lock_timeout = 0.4;\n" + alter, true, true},
		{"'0.4 ms ' rounds to 0", "SET lock_timeout = ' 0.4 ms ';\n" + alter, true, true},
		{"set_config '499us' rounds to 0", "SELECT set_config('lock_timeout', '499us', false);\n" + alter, true, true},
		{"'0.6ms' rounds to 1", "SET lock_timeout = '0.6ms';\n" + alter, true, false},
		{"'1.5ms' rounds to 2", "SET lock_timeout = '1.5ms';\n" + alter, true, false},
		{"'600us' rounds to 1", "SET lock_timeout = '600us';\n" + alter, true, false},
		{"'0.0001s' rounds to 0", "SET lock_timeout = '0.0001s';\n" + alter, true, true},
		{"'0.001min' rounds to 0 s first", "SET lock_timeout = '0.001min';\n" + alter, true, true},
		{"'0.01min' rounds to 1 s", "SET lock_timeout = '0.01min';\n" + alter, true, false},
		{"'0x10' is 16ms", "SET lock_timeout = '0x10';\n" + alter, true, false},
		{"'0.00000001d' rounds to 0", "SET lock_timeout = '0.00000001d';\n" + alter, true, true},
		{"set_config session", "SELECT set_config('lock_timeout', '2s', false);\n" + alter, false, false},
		{"set_config local in a transaction", "SELECT set_config('lock_timeout', '2s', true);\n" + alter, true, false},
		{"set_config local outside one", "SELECT set_config('lock_timeout', '2s', true);\n" + alter, false, true},
		{"set_config to zero", "SET lock_timeout = '2s';\nSELECT set_config('lock_timeout', '0', false);\n" + alter, true, true},
		{"ROLLBACK undoes SET", "BEGIN;\nSET lock_timeout = '2s';\nROLLBACK;\n" + alter, false, true},
		{"ROLLBACK undoes set_config", "BEGIN;\nSELECT set_config('lock_timeout', '2s', false);\nROLLBACK;\n" + alter, false, true},
		{"ROLLBACK goes back to the session's", "SET lock_timeout = '2s';\nBEGIN;\nSET lock_timeout = 0;\nROLLBACK;\n" + alter, false, false},
		{"ROLLBACK of the tool's transaction", "SET lock_timeout = '2s';\nROLLBACK;\n" + alter, true, true},
		{"ROLLBACK TO SAVEPOINT undoes SET", "SAVEPOINT s;\nSET lock_timeout = '2s';\nROLLBACK TO SAVEPOINT s;\n" + alter, true, true},
		{"ROLLBACK TO SAVEPOINT back to SET LOCAL", "SET LOCAL lock_timeout = '2s';\nSAVEPOINT s;\nSET LOCAL lock_timeout = 0;\nROLLBACK TO s;\n" + alter, true, false},
		{"ROLLBACK TO the outer savepoint", "SAVEPOINT a;\nSAVEPOINT b;\nSET lock_timeout = '2s';\nRELEASE b;\nROLLBACK TO a;\n" + alter, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := AnalyzeScript(script(tt.src), tt.inTx, Config{})
			if got := find(fs, "missing-lock-timeout") != nil; got != tt.missing {
				t.Errorf("missing-lock-timeout %v, want %v: %v", got, tt.missing, rulesOf(fs))
			}
		})
	}
}

// TestLongLockTimeout: any lock_timeout but 0 counted as set, so SET lock_timeout = '1d' before an ALTER
// TABLE made it safe, though every query on the table may then queue behind the ALTER's wait for a day.
// A lock_timeout longer than MaxLockTimeout leaves missing-lock-timeout, caution, saying the value and
// what queues behind the wait; schemagate deploy's lock_timeout, a ceiling it puts back before each
// statement, makes it safe when it is short enough.
func TestLongLockTimeout(t *testing.T) {
	t.Parallel()
	alter := "ALTER TABLE users ADD COLUMN bio text;\n"
	deploy := func(d time.Duration) Config {
		return Config{Deploy: DeployTimeouts{{Name: "production", LockTimeout: d}}}
	}
	for _, tt := range []struct {
		name string
		src  string
		inTx bool
		cfg  Config
		risk Risk   // of missing-lock-timeout; -1: none
		says string // a part of its message
	}{
		{"1d", "SET lock_timeout = '1d';\n" + alter, true, Config{}, Caution, "with lock_timeout = 24h, longer than 10s: while it waits for its lock, every later query on the table queues behind it for up to 24h"},
		{"10min", "SET lock_timeout = '10min';\n" + alter, true, Config{}, Caution, "lock_timeout = 10min"},
		{"100000s", "SET lock_timeout = '100000s';\n" + alter, true, Config{}, Caution, "lock_timeout = 100000s"},
		{"a number is milliseconds", "SET lock_timeout = 60000;\n" + alter, true, Config{}, Caution, "lock_timeout = 1min"},
		{"set_config", "SELECT set_config('lock_timeout', '1h', false);\n" + alter, false, Config{}, Caution, "lock_timeout = 1h"},
		{"SET LOCAL", "BEGIN;\nSET LOCAL lock_timeout = '1d';\n" + alter + "COMMIT;\n", false, Config{}, Caution, "lock_timeout = 24h"},
		{"SHARE queues writes", "SET lock_timeout = '1min';\nCREATE INDEX users_bio_idx ON users (email);\n", true, Config{}, Caution,
			"every later write (INSERT, UPDATE, DELETE) on the table queues behind it for up to 1min"},
		{"10s is short enough", "SET lock_timeout = '10s';\n" + alter, true, Config{}, -1, ""},
		{"11s is not", "SET lock_timeout = '11s';\n" + alter, true, Config{}, Caution, "lock_timeout = 11s"},
		{"lowered before the ALTER", "SET lock_timeout = '1d';\nSET lock_timeout = '2s';\n" + alter, true, Config{}, -1, ""},
		{"SET LOCAL 2s inside a long session one", "SET lock_timeout = '1d';\nBEGIN;\nSET LOCAL lock_timeout = '2s';\n" + alter + "COMMIT;\n", false, Config{}, -1, ""},
		{"long again after SET LOCAL ends", "SET lock_timeout = '1d';\nBEGIN;\nSET LOCAL lock_timeout = '2s';\nCOMMIT;\n" + alter, false, Config{}, Caution, "lock_timeout = 24h"},
		{"deploy's 5s is the ceiling", "SET lock_timeout = '1d';\n" + alter, true, deploy(5 * time.Second), Safe,
			"schemagate deploy runs it with lock_timeout = 5s (environment production), which it puts back before each statement"},
		{"deploy's 1min is no better", "SET lock_timeout = '1d';\n" + alter, true, deploy(time.Minute), Caution, "lock_timeout = 24h"},
		// The deploy's lock_timeout counts as a SET of it would: 1min is too long, 5s is not.
		{"deploy's 1min alone", alter, true, deploy(time.Minute), Caution,
			"schemagate deploy runs it with lock_timeout = 1min (environment production), longer than 10s: while it waits for its lock, what queues behind it waits up to 1min"},
		{"deploy's 1min in one environment", alter, true, Config{Deploy: DeployTimeouts{{Name: "staging", LockTimeout: 5 * time.Second}, {Name: "production", LockTimeout: time.Minute}}},
			Caution, "longer than 10s"},
		{"deploy's 5s alone", alter, true, deploy(5 * time.Second), Safe, "schemagate deploy runs it with lock_timeout = 5s (environment production) and retries on SQLSTATE 55P03"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg
			cfg.Schema = testSchema(t)
			fs := AnalyzeScript(script(tt.src), tt.inTx, cfg)
			f := find(fs, "missing-lock-timeout")
			switch {
			case tt.risk < 0 && f != nil:
				t.Errorf("missing-lock-timeout %v, want none", f)
			case tt.risk >= 0 && (f == nil || f.Risk != tt.risk || !strings.Contains(f.Message, tt.says)):
				t.Errorf("missing-lock-timeout %v, want %s saying %q; findings: %v", f, tt.risk, tt.says, fs)
			}
		})
	}
}

// TestStaticLockModels: statements the rehearsal showed taking ACCESS EXCLUSIVE on a pre-existing table
// are modelled, so lint alone asks for lock_timeout.
func TestStaticLockModels(t *testing.T) {
	t.Parallel()
	schema := testSchema(t) + "CREATE TABLE events_default PARTITION OF events DEFAULT;\n"
	for _, tt := range []struct {
		src  string
		rule string
		risk Risk
	}{
		{"ALTER TRIGGER users_audit ON users RENAME TO users_audit2;", "rename-trigger", Caution},
		{"CREATE RULE r AS ON DELETE TO users DO INSTEAD NOTHING;", "create-rule", Caution},
		{"ALTER INDEX users_email_idx SET TABLESPACE pg_default;", "set-tablespace", Dangerous},
		{"CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');", "create-partition", Dangerous},
		{"CALL migrate_users();", "opaque-statement", Caution},
	} {
		fs := AnalyzeScript(script(tt.src+"\n"), true, Config{Schema: schema})
		if f := find(fs, tt.rule); f == nil || f.Risk != tt.risk {
			t.Errorf("%s: %s %+v, want risk %s", tt.src, tt.rule, f, tt.risk)
		}
		if tt.rule != "opaque-statement" && find(fs, "missing-lock-timeout") == nil {
			t.Errorf("%s: no missing-lock-timeout in %v", tt.src, rulesOf(fs))
		}
	}
	fs := AnalyzeScript(script("CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');\n"), true, Config{Schema: schema})
	if f := find(fs, "create-partition"); f == nil || !f.Scan || !strings.Contains(f.Message, "events_default") {
		t.Errorf("create-partition with a DEFAULT partition: %+v", f)
	}
}

// TestPartitionedIndex: an index on a partitioned table cannot be built CONCURRENTLY; the advice is
// ON ONLY + CONCURRENTLY per partition + ATTACH, and a CONCURRENTLY build on one fails.
func TestPartitionedIndex(t *testing.T) {
	t.Parallel()
	schema := testSchema(t)
	fs := AnalyzeScript(script("CREATE INDEX events_id_idx ON events (id);\n"), true, Config{Schema: schema})
	if f := find(fs, "create-index-blocking"); f == nil || strings.Contains(f.Suggestion, "CREATE INDEX CONCURRENTLY") && !strings.Contains(f.Suggestion, "ON ONLY") {
		t.Errorf("plain index on a partitioned table: %+v", f)
	}
	fs = AnalyzeScript(script("CREATE INDEX CONCURRENTLY IF NOT EXISTS events_id_idx ON events (id);\n"), false, Config{Schema: schema})
	if f := find(fs, "create-index-blocking"); f == nil || f.Risk != Dangerous || !strings.Contains(f.Message, "fails") {
		t.Errorf("concurrent index on a partitioned table: %+v", f)
	}
	fs = AnalyzeScript(script("CREATE INDEX CONCURRENTLY IF NOT EXISTS users_age_idx ON users (age);\n"), false, Config{Schema: schema})
	if f := find(fs, "create-index-blocking"); f != nil {
		t.Errorf("concurrent index on a plain table: %+v", f)
	}
	fs = AnalyzeScript(script("CREATE INDEX IF NOT EXISTS events_id_idx ON ONLY events (id);\n"), true, Config{Schema: schema})
	if f := find(fs, "create-index-blocking"); f != nil {
		t.Errorf("ON ONLY builds nothing: %+v", f)
	}
}

// TestTypeChangeCoercion: char(n), bit(n) and bpchar → text are rewritten; varchar and varbit growth are not.
func TestTypeChangeCoercion(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		old, new string
		want     bool
	}{
		{"char(5)", "text", false}, {"char(5)", "char(10)", false}, {"bit(4)", "bit(8)", false},
		{"varchar(5)", "varchar(10)", true}, {"varchar(50)", "text", true}, {"varbit(4)", "varbit(8)", true},
		{"varchar(50)", "varchar(10)", false}, {"varbit(8)", "varbit(4)", false},
	} {
		src := fmt.Sprintf("ALTER TABLE t ALTER COLUMN c TYPE %s;\n", tt.new)
		fs := AnalyzeScript(script(src), true, Config{Schema: fmt.Sprintf("CREATE TABLE t (c %s);", tt.old)})
		got := find(fs, "change-column-type-coercible") != nil
		if got != tt.want || (!got && find(fs, "change-column-type-rewrite") == nil) {
			t.Errorf("%s -> %s: %v, want coercible %v", tt.old, tt.new, rulesOf(fs), tt.want)
		}
	}
}

// TestDefaultVolatility: setval() is volatile; an unknown (user) function is not called metadata-only.
func TestDefaultVolatility(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]struct {
		rule string
		risk Risk
	}{
		"ALTER TABLE users ADD COLUMN n bigint DEFAULT setval('s', 1);":  {"add-column-volatile-default", Dangerous},
		"ALTER TABLE users ADD COLUMN n bigint DEFAULT my_func();":       {"add-column-default-nonvolatile", Caution},
		"ALTER TABLE users ADD COLUMN n text DEFAULT lower('X');":        {"add-column-default-nonvolatile", Safe},
		"ALTER TABLE users ADD COLUMN n timestamptz DEFAULT now();":      {"add-column-default-nonvolatile", Safe},
		"ALTER TABLE users ADD COLUMN n uuid DEFAULT gen_random_uuid();": {"add-column-volatile-default", Dangerous},
	} {
		f := find(AnalyzeScript(script(src+"\n"), true, Config{}), want.rule)
		if f == nil || f.Risk != want.risk || strings.Contains(f.Message, "non-volatile") && want.risk != Safe {
			t.Errorf("%s: %s %+v, want risk %s", src, want.rule, f, want.risk)
		}
	}
}

// TestIfNotExistsCreatesNothingThatExists: CREATE … IF NOT EXISTS of an object that exists (or, without
// a schema, may exist) does not make it new, so later statements on it are judged as on any table.
func TestIfNotExistsCreatesNothingThatExists(t *testing.T) {
	t.Parallel()
	const existing = "CREATE TABLE users (id bigint PRIMARY KEY, email text, name text, age int);\n" +
		"CREATE INDEX users_email_idx ON users (email);\nCREATE VIEW active_users AS SELECT id FROM users;\n"
	const onUsers = "SET lock_timeout = '2s';\nCREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY);\n" +
		"CREATE INDEX users_age_idx ON users (age);\nALTER TABLE users ALTER COLUMN age SET NOT NULL;\n" +
		"ALTER TABLE users RENAME COLUMN name TO nickname;\nALTER TABLE users DROP COLUMN email;\n"
	usersRules := []string{"create-index-blocking", "set-not-null", "rename-column", "drop-column"}
	tests := []struct {
		name, schema, src string
		want, none        []string
	}{
		{"table in the schema", existing, onUsers, usersRules, nil},
		{"no schema: the table may exist", "", onUsers, usersRules, nil},
		{"table the schema lacks is new", "CREATE TABLE orgs (id bigint);\n",
			"CREATE TABLE IF NOT EXISTS fresh (id bigint, v int);\nCREATE INDEX fresh_v_idx ON fresh (v);\nALTER TABLE fresh ALTER COLUMN v SET NOT NULL;\n",
			nil, []string{"create-index-blocking", "set-not-null"}},
		{"a schema of only a comment says nothing exists", "-- the rehearsal database has none of the tables\n",
			"CREATE TABLE IF NOT EXISTS fresh (id bigint, v int);\nCREATE INDEX fresh_v_idx ON fresh (v);\n",
			nil, []string{"create-index-blocking"}},
		{"index in the schema", existing,
			"SET lock_timeout = '2s';\nCREATE INDEX IF NOT EXISTS users_email_idx ON users (email);\nDROP INDEX users_email_idx;\n",
			[]string{"drop-index-blocking"}, nil},
		{"view replaced", existing,
			"SET lock_timeout = '2s';\nCREATE OR REPLACE VIEW active_users AS SELECT id FROM users;\nALTER VIEW active_users RENAME TO active_users_v1;\n",
			[]string{"replace-or-drop-view", "rename-table"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := AnalyzeScript(script(tt.src), true, Config{Schema: tt.schema})
			for _, r := range tt.want {
				if find(got, r) == nil {
					t.Errorf("%s missing: %v", r, got)
				}
			}
			for _, r := range tt.none {
				if f := find(got, r); f != nil {
					t.Errorf("%s on a table the migration creates: %v", r, f)
				}
			}
		})
	}
}

// TestSequenceCarriesState: a recipe spread over several migrations of a folder is judged as a whole.
func TestSequenceCarriesState(t *testing.T) {
	t.Parallel()
	migrations := []struct {
		src  string
		inTx bool
	}{
		{"CREATE TABLE users (id bigint PRIMARY KEY, email text);\nCREATE TABLE nopk (id bigint, v text);\n", true},
		{"SET lock_timeout = '2s';\nALTER TABLE users ADD CONSTRAINT email_nn CHECK (email IS NOT NULL) NOT VALID;\n", true},
		{"ALTER TABLE users VALIDATE CONSTRAINT email_nn;\n", true},
		{"SET lock_timeout = '2s';\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\n", true},
		{"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS nopk_id_uidx ON nopk (id);\n", false},
		{"SET lock_timeout = '2s';\nALTER TABLE nopk ADD CONSTRAINT nopk_pk PRIMARY KEY USING INDEX nopk_id_uidx;\n", true},
		{"SET lock_timeout = '2s';\nCREATE TABLE IF NOT EXISTS users (id bigint);\nCREATE INDEX users_email_idx ON users (email);\n", true},
	}
	seq := NewSequence(Config{})
	var got [][]Finding
	for _, m := range migrations {
		got = append(got, seq.AnalyzeScript(script(m.src), m.inTx))
	}
	if f := find(got[3], "set-not-null-proven"); f == nil || find(got[3], "set-not-null") != nil {
		t.Errorf("SET NOT NULL after a CHECK validated in an earlier migration: %v", got[3])
	}
	if f := find(got[5], "constraint-using-index-nullable"); f == nil || f.Risk != Dangerous {
		t.Errorf("PRIMARY KEY USING INDEX of an index built earlier on a nullable column: %v", got[5])
	}
	if find(got[6], "create-index-blocking") == nil {
		t.Errorf("CREATE TABLE IF NOT EXISTS of a table an earlier migration made exempted the index: %v", got[6])
	}
	// Each migration alone knows none of it.
	if find(AnalyzeScript(script(migrations[3].src), true, Config{}), "set-not-null") == nil {
		t.Error("lone migration: want set-not-null")
	}
}

// TestRiskClasses pins the class and wording of findings whose class depends on the statement.
func TestRiskClasses(t *testing.T) {
	t.Parallel()
	const parts = "CREATE TABLE events (id bigint, ts timestamptz) PARTITION BY RANGE (ts);\n" +
		"CREATE TABLE events_2025 (id bigint, ts timestamptz);\n"
	const withDefault = parts + "CREATE TABLE events_default PARTITION OF events DEFAULT;\n"
	const attach = "ALTER TABLE events ATTACH PARTITION events_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');\n"
	tests := []struct {
		name, schema, src string
		pg                int
		rule              string
		risk              Risk
		msg               string // the message contains it
	}{
		{"attach takes ACCESS EXCLUSIVE on the partition", parts, attach, 0, "missing-lock-timeout", Dangerous, "ACCESS EXCLUSIVE"},
		{"attach without default partition", parts, attach, 0, "attach-partition-scan", Caution, "scans events_2025"},
		{"attach scans the default partition", withDefault, attach, 0, "attach-partition-scan", Dangerous, "DEFAULT partition events_default"},
		{"attach on 11 locks the parent", parts, attach, 11, "attach-partition-scan", Dangerous, "on PostgreSQL 11 it also takes ACCESS EXCLUSIVE on events"},
		{"no CHECK implies a hash bound", "CREATE TABLE tenants (id bigint NOT NULL) PARTITION BY HASH (id);\n" +
			"CREATE TABLE tenants_0 (id bigint NOT NULL, CONSTRAINT b CHECK (id IS NOT NULL AND id >= 0 AND id < 100));\n",
			"ALTER TABLE tenants ATTACH PARTITION tenants_0 FOR VALUES WITH (MODULUS 2, REMAINDER 0);\n", 0, "attach-partition-scan", Caution, "scans tenants_0"},
		{"no CHECK on the column implies a bound on an expression", "CREATE TABLE logs (n int NOT NULL) PARTITION BY RANGE ((n + 0));\n" +
			"CREATE TABLE logs_0 (n int NOT NULL, CONSTRAINT b CHECK (n IS NOT NULL AND n >= 0 AND n < 10));\n",
			"ALTER TABLE logs ATTACH PARTITION logs_0 FOR VALUES FROM (0) TO (10);\n", 0, "attach-partition-scan", Caution, "scans logs_0"},
		{"a CHECK implies a bound on the column", "CREATE TABLE logs (n int NOT NULL) PARTITION BY RANGE (n);\n" +
			"CREATE TABLE logs_0 (n int NOT NULL, CONSTRAINT b CHECK (n IS NOT NULL AND n >= 0 AND n < 10));\n" +
			"CREATE TABLE logs_1 (n int);\n",
			"ALTER TABLE logs ATTACH PARTITION logs_0 FOR VALUES FROM (0) TO (10);\nALTER TABLE logs ATTACH PARTITION logs_1 FOR VALUES FROM (10) TO (20);\n", 0, "attach-partition-scan", Caution, "scans logs_1"},
		{"implicit SET NOT NULL scan", "CREATE TABLE nopk (id bigint);\nCREATE UNIQUE INDEX nopk_id_uidx ON nopk (id);\n",
			"ALTER TABLE nopk ADD CONSTRAINT nopk_pk PRIMARY KEY USING INDEX nopk_id_uidx;\n", 0, "constraint-using-index-nullable", Dangerous, "ACCESS EXCLUSIVE"},
		// The index made by a migration not read: whether its columns are nullable is not known (PostgreSQL
		// 15 scans the table under ACCESS EXCLUSIVE when they are, "verifying table").
		{"primary key using an index not known", "", "ALTER TABLE t ADD CONSTRAINT t_pk PRIMARY KEY USING INDEX t_id_idx;\n", 0,
			"constraint-using-index-nullable", Caution, "the index's columns and whether they are NOT NULL are not known here"},
		// A validated CHECK proves the column NOT NULL: PostgreSQL 15 does not scan ("existing constraints on
		// column … are sufficient to prove that it does not contain nulls").
		{"primary key using an index on a column a CHECK proves", "CREATE TABLE nopk (id bigint, CONSTRAINT id_nn CHECK (id IS NOT NULL));\nCREATE UNIQUE INDEX nopk_id_uidx ON nopk (id);\n",
			"ALTER TABLE nopk ADD CONSTRAINT nopk_pk PRIMARY KEY USING INDEX nopk_id_uidx;\n", 0, "constraint-using-index", Safe, "no build or scan"},
		{"primary key using an index on a column a CHECK proves, on 11", "CREATE TABLE nopk (id bigint, CONSTRAINT id_nn CHECK (id IS NOT NULL));\nCREATE UNIQUE INDEX nopk_id_uidx ON nopk (id);\n",
			"ALTER TABLE nopk ADD CONSTRAINT nopk_pk PRIMARY KEY USING INDEX nopk_id_uidx;\n", 11, "constraint-using-index-nullable", Dangerous, "implicit SET NOT NULL"},
		{"refresh concurrently blocks no reader", "", "REFRESH MATERIALIZED VIEW CONCURRENTLY user_stats;\n", 0, "missing-lock-timeout", Caution, "reads go on"},
		{"refresh blocks readers", "", "REFRESH MATERIALIZED VIEW user_stats;\n", 0, "missing-lock-timeout", Dangerous, "every later query"},
		{"replica identity of a nullable index fails", "CREATE TABLE users (id bigint, email text);\nCREATE UNIQUE INDEX users_email_uidx ON users (email);\n",
			"ALTER TABLE users REPLICA IDENTITY USING INDEX users_email_uidx;\n", 0, "replica-identity", Dangerous, "fails"},
		{"replica identity of an index on columns the state does not know", "",
			"CREATE UNIQUE INDEX CONCURRENTLY u ON users (id);\nALTER TABLE users REPLICA IDENTITY USING INDEX u;\n", 0, "replica-identity", Caution, "REPLICA IDENTITY"},
		{"new enum value used before commit", "CREATE TYPE status AS ENUM ('a');\nCREATE TABLE tk (id bigint, st status);\n",
			"ALTER TYPE status ADD VALUE 'c';\nUPDATE tk SET st = 'c' WHERE id = 1;\n", 0, "enum-add-value", Dangerous, "unsafe use of new value"},
		{"new enum value cast before commit", "CREATE TYPE status AS ENUM ('a');\n",
			"BEGIN;\nALTER TYPE public.status ADD VALUE IF NOT EXISTS 'c';\nINSERT INTO log SELECT 'c'::status;\nCOMMIT;\n", 0, "enum-add-value", Dangerous, "line 3 of the same transaction uses 'c'"},
		{"other values of the enum before commit", "CREATE TYPE status AS ENUM ('a');\nCREATE TABLE tk (id bigint, st status, note text);\n",
			"ALTER TYPE status ADD VALUE 'c';\nUPDATE tk SET st = 'a', note = 'c' WHERE id = 1;\nINSERT INTO tk (id, note) VALUES (2, 'c');\n", 0, "enum-add-value", Caution, "cannot be used until COMMIT"},
		{"type change of a column a view uses fails", "CREATE TABLE users (id bigint, name varchar(50), age int);\nCREATE VIEW named AS SELECT u.id FROM users u WHERE u.name <> '';\n",
			"ALTER TABLE users ALTER COLUMN name TYPE varchar(100);\n", 0, "change-column-type-coercible", Dangerous, "fails: named uses the column"},
		{"type change of a column a view's * took fails", "CREATE TABLE users (id bigint, name varchar(50));\nCREATE MATERIALIZED VIEW everyone AS SELECT * FROM users;\n",
			"ALTER TABLE users ALTER COLUMN name TYPE text;\n", 0, "change-column-type-coercible", Dangerous, "fails: everyone uses the column"},
		{"type change of a column no view uses", "CREATE TABLE users (id bigint, name varchar(50), age int);\nCREATE VIEW ids AS SELECT id FROM users;\nCREATE TABLE orgs (id bigint, name text);\nCREATE VIEW org_names AS SELECT name FROM orgs;\n",
			"ALTER TABLE users ALTER COLUMN name TYPE varchar(100);\n", 0, "change-column-type-coercible", Caution, "binary-coercible"},
		{"drop of a column a view uses fails", "CREATE TABLE users (id bigint, name varchar(50));\nCREATE VIEW named AS SELECT id, name FROM users;\n",
			"ALTER TABLE users DROP COLUMN name;\n", 0, "drop-column", Dangerous, "fails: view named uses it"},
		{"drop of a column a dropped view used", "CREATE TABLE users (id bigint, name varchar(50));\nCREATE VIEW named AS SELECT id, name FROM users;\nDROP VIEW named;\n",
			"ALTER TABLE users DROP COLUMN name;\n", 0, "drop-column", Caution, "running code"},
		{"add column to a partition fails", parts + "CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n",
			"ALTER TABLE events_2024 ADD COLUMN IF NOT EXISTS note text;\n", 0, "add-column-nullable", Dangerous, "fails: events_2024 is a partition of events"},
		{"add column to an attached partition fails", parts,
			"ALTER TABLE events ATTACH PARTITION events_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');\nALTER TABLE events_2025 ADD COLUMN note text;\n", 0, "add-column-nullable", Dangerous, "fails: events_2025 is a partition of events"},
		{"add column to a detached partition", parts + "CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n",
			"ALTER TABLE events DETACH PARTITION events_2024;\nALTER TABLE events_2024 ADD COLUMN note text;\n", 0, "add-column-nullable", Safe, "metadata-only"},
		{"add column to ONLY a partitioned table fails", parts + "CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n",
			"ALTER TABLE ONLY events ADD COLUMN note text;\n", 0, "add-column-nullable", Dangerous, "fails: ALTER TABLE ONLY events leaves out its partitions"},
		{"drop column of ONLY a partitioned table fails", parts + "CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n",
			"ALTER TABLE ONLY events DROP COLUMN id;\n", 0, "drop-column", Dangerous, "fails: ALTER TABLE ONLY events"},
		{"drop column of a partition fails", parts + "CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n",
			"ALTER TABLE events_2024 DROP COLUMN id;\n", 0, "drop-column", Dangerous, "fails: events_2024 is a partition of events"},
		{"refresh concurrently needs a unique index", "CREATE TABLE users (id bigint, email text);\nCREATE MATERIALIZED VIEW stats AS SELECT id, email FROM users;\n" +
			"CREATE INDEX stats_id ON stats (id);\nCREATE UNIQUE INDEX stats_email ON stats (lower(email));\nCREATE UNIQUE INDEX stats_pos ON stats (id) WHERE id > 0;\n",
			"REFRESH MATERIALIZED VIEW CONCURRENTLY stats;\n", 0, "refresh-matview-concurrently", Dangerous, "fails: it has no unique index"},
		{"refresh concurrently with a unique index", "CREATE TABLE users (id bigint, email text);\nCREATE MATERIALIZED VIEW stats AS SELECT id, email FROM users;\n" +
			"CREATE UNIQUE INDEX stats_id ON stats (id);\n",
			"REFRESH MATERIALIZED VIEW CONCURRENTLY stats;\n", 0, "refresh-matview-concurrently", Safe, "readers go on"},
		{"share lock queues writes", "", "CREATE INDEX users_age_idx ON users (age);\n", 0, "missing-lock-timeout", Dangerous, "every later write"},
		{"unbounded WHERE", "", "UPDATE users SET nick = 'y' WHERE nick IS NULL;\n", 0, "backfill-in-migration", Caution, "not bounded by a key range"},
		{"no WHERE", "", "UPDATE users SET nick = 'y';\n", 0, "backfill-in-migration", Dangerous, "every row"},
		{"merge from a table", "", "MERGE INTO users u USING orgs o ON u.org_id = o.id WHEN MATCHED THEN UPDATE SET nick = o.title;\n", 0,
			"backfill-in-migration", Dangerous, "MERGE INTO users from orgs"},
		{"domain validate", "", "ALTER DOMAIN positive_int VALIDATE CONSTRAINT positive_int_check;\n", 0, "domain-constraint", Dangerous, "SHARE"},
		{"set not null with a validated check on 11", "CREATE TABLE users (email text, CONSTRAINT email_nn CHECK (email IS NOT NULL));\n",
			"ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n", 11, "set-not-null", Dangerous, "PostgreSQL 11 ignores the validated CHECK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := find(AnalyzeScript(script(tt.src), true, Config{Schema: tt.schema, PGVersion: tt.pg}), tt.rule)
			if f == nil || f.Risk != tt.risk || !strings.Contains(f.Message, tt.msg) {
				t.Errorf("%s: %+v, want %s with %q", tt.rule, f, tt.risk, tt.msg)
			}
		})
	}
}

// TestMissingLockTimeoutWhatQueues: missing-lock-timeout says what queues behind the statement while it
// waits, and takes its class from that. CREATE OR REPLACE VIEW of a view the history has takes ACCESS
// EXCLUSIVE on it, so every later reader of the view queues. DROP INDEX CONCURRENTLY holds SHARE UPDATE
// EXCLUSIVE on the table while it waits for the transactions that use it, then takes ACCESS EXCLUSIVE on
// the index, which no query uses by then: reads and writes go on, so it is caution, and inside a
// transaction block it fails before it locks anything. A weaker finding earlier in the script does not
// hide a dangerous one later, nor does one the deploy's lock_timeout covers, nor one an ignore comment
// accepts for its own statement. The message names the kind of relation the statement says it locks:
// ACCESS EXCLUSIVE on a sequence holds up nextval(), so every INSERT that draws from it (PostgreSQL 15:
// an INSERT waiting behind ALTER SEQUENCE … RENAME fails on lock_timeout).
func TestMissingLockTimeoutWhatQueues(t *testing.T) {
	t.Parallel()
	const view = "CREATE TABLE users (id bigint, email text, age int);\nCREATE INDEX users_email_idx ON users (email);\nCREATE VIEW active_users AS SELECT id FROM users;\n"
	deploy := DeployTimeouts{{Name: "production", LockTimeout: 5 * time.Second}}
	type want struct {
		line int
		risk Risk
		says string
	}
	tests := []struct {
		name, schema, src string
		inTx              bool
		deploy            DeployTimeouts
		want              []want
	}{
		{"replace of an existing view", view, "CREATE OR REPLACE VIEW active_users AS SELECT id, email FROM users;\n", true, nil,
			[]want{{1, Dangerous, "ACCESS EXCLUSIVE on view active_users, which exists, without an earlier SET lock_timeout: while it waits, every later query on the view queues behind it"}}},
		{"drop index concurrently", view, "DROP INDEX CONCURRENTLY IF EXISTS users_email_idx;\n", false, nil,
			[]want{{1, Caution, "reads and writes on the table go on"}}},
		{"drop index concurrently, deploy's lock_timeout", view, "DROP INDEX CONCURRENTLY IF EXISTS users_email_idx;\n", false, deploy,
			[]want{{1, Safe, "schemagate deploy runs it with lock_timeout = 5s"}}},
		{"drop index concurrently inside a transaction fails first", view, "DROP INDEX CONCURRENTLY IF EXISTS users_email_idx;\n", true, nil, nil},
		{"drop index concurrently, then an ALTER", view, "DROP INDEX CONCURRENTLY IF EXISTS users_email_idx;\nALTER TABLE users ADD COLUMN bio text;\n", false, nil,
			[]want{{1, Caution, "reads and writes on the table go on"}, {2, Dangerous, "every later query on the table"}}},
		{"refresh concurrently, then an ALTER", "", "REFRESH MATERIALIZED VIEW CONCURRENTLY user_stats;\nALTER TABLE users ADD COLUMN bio text;\n", true, nil,
			[]want{{1, Caution, "reads go on"}, {2, Dangerous, "every later query on the table"}}},
		{"deploy covers the first, the script turns it off", "", "ALTER TABLE users ADD COLUMN a int;\nSET lock_timeout = 0;\nALTER TABLE users ADD COLUMN b int;\n", true, deploy,
			[]want{{1, Safe, "schemagate deploy runs it"}, {3, Dangerous, "turns lock_timeout off"}}},
		{"one per script", "", "ALTER TABLE users ADD COLUMN a int;\nALTER TABLE users ADD COLUMN b int;\n", true, nil,
			[]want{{1, Dangerous, "every later query on the table"}}},
		{"rename of a sequence", "", "ALTER SEQUENCE invoice_no RENAME TO invoice_number;\n", true, nil,
			[]want{{1, Dangerous, "takes ACCESS EXCLUSIVE on a pre-existing sequence without an earlier SET lock_timeout: while it waits, every later nextval() of the sequence queues behind it"}}},
		{"move of a foreign table", "", "ALTER FOREIGN TABLE remote_orders SET SCHEMA app;\n", true, nil,
			[]want{{1, Dangerous, "on a pre-existing foreign table without an earlier SET lock_timeout: while it waits, every later query on the foreign table queues behind it"}}},
		{"refresh of a materialized view", "", "REFRESH MATERIALIZED VIEW user_stats;\n", true, nil,
			[]want{{1, Dangerous, "on a pre-existing materialized view without an earlier SET lock_timeout: while it waits, every later query on the materialized view queues"}}},
		{"drop of a view", "", "DROP VIEW active_users;\n", true, nil,
			[]want{{1, Dangerous, "on a pre-existing view without an earlier SET lock_timeout: while it waits, every later query on the view queues"}}},
		{"an ignore comment speaks for its own statement", "", "-- schemagate:ignore missing-lock-timeout the table is tiny\nALTER TABLE tiny ADD COLUMN a int;\nALTER TABLE users ADD COLUMN b int;\n", true, nil,
			[]want{{2, Dangerous, "every later query on the table"}, {3, Dangerous, "every later query on the table"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []want
			for _, f := range AnalyzeScript(script(tt.src), tt.inTx, Config{Schema: tt.schema, Deploy: tt.deploy}) {
				if f.Rule == "missing-lock-timeout" {
					got = append(got, want{f.Line, f.Risk, f.Message})
				}
			}
			ok := len(got) == len(tt.want)
			for i := 0; ok && i < len(got); i++ {
				ok = got[i].line == tt.want[i].line && got[i].risk == tt.want[i].risk && strings.Contains(got[i].says, tt.want[i].says)
			}
			if !ok {
				t.Errorf("missing-lock-timeout findings %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestMessagesNameTheRelationKind: statement-after-access-exclusive, move-or-rename-schema and
// rename-table say which kind of relation the statement locks or moves, where the statement tells it.
func TestMessagesNameTheRelationKind(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, src, rule, says string
	}{
		{"after a table's lock", "ALTER TABLE users ADD COLUMN bio text;\nSELECT 1;\n", "statement-after-access-exclusive", "ACCESS EXCLUSIVE on a pre-existing table, which"},
		{"after a view's", "ALTER VIEW active_users RENAME TO active_users_v1;\nSELECT 1;\n", "statement-after-access-exclusive", "ACCESS EXCLUSIVE on a pre-existing view, which"},
		{"after a view column's rename", "ALTER VIEW active_users RENAME COLUMN email TO mail;\nSELECT 1;\n", "statement-after-access-exclusive", "on a pre-existing view, which"},
		{"after a materialized view's", "REFRESH MATERIALIZED VIEW user_stats;\nSELECT 1;\n", "statement-after-access-exclusive", "on a pre-existing materialized view, which"},
		{"after a sequence's", "ALTER SEQUENCE invoice_no SET SCHEMA app;\nSELECT 1;\n", "statement-after-access-exclusive", "on a pre-existing sequence, which"},
		{"the first lock of the transaction speaks", "ALTER VIEW active_users RENAME TO v1;\nALTER TABLE users ADD COLUMN bio text;\n", "statement-after-access-exclusive", "on a pre-existing view, which"},
		{"sequence moved", "ALTER SEQUENCE invoice_no SET SCHEMA app;\n", "move-or-rename-schema", "SET SCHEMA moves sequence invoice_no: "},
		{"foreign table moved", "ALTER FOREIGN TABLE remote_orders SET SCHEMA app;\n", "move-or-rename-schema", "SET SCHEMA moves foreign table remote_orders: "},
		{"sequence renamed", "ALTER SEQUENCE invoice_no RENAME TO invoice_number;\n", "rename-table", "ALTER SEQUENCE invoice_no RENAME TO invoice_number breaks running code that uses the old name (column defaults keep working"},
		{"foreign table renamed", "ALTER FOREIGN TABLE remote_orders RENAME TO r1;\n", "rename-table", "ALTER FOREIGN TABLE remote_orders RENAME TO r1 breaks running code that uses the old name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := find(AnalyzeScript(script(tt.src), true, Config{}), tt.rule)
			if f == nil || !strings.Contains(f.Message, tt.says) {
				t.Errorf("%s: %+v, want it to say %q", tt.rule, f, tt.says)
			}
		})
	}
}

// TestMessagesUseKnownRelkind: with the schema at hand, messages name the kind of relation the schema
// says a name is, not the kind the statement's keyword says (ALTER TABLE also takes views and sequences).
func TestMessagesUseKnownRelkind(t *testing.T) {
	t.Parallel()
	schema := testSchema(t)
	runTxCases(t, []txCase{
		{name: "view renamed by ALTER TABLE", src: "ALTER TABLE active_users RENAME TO v1;\n", schema: schema,
			rule: "rename-table", says: "RENAME view active_users TO v1 breaks running code that reads it by the old name"},
		{name: "its lock", src: "ALTER TABLE active_users RENAME TO v1;\n", schema: schema,
			rule: "missing-lock-timeout", says: "ACCESS EXCLUSIVE on a pre-existing view without an earlier SET lock_timeout: while it waits, every later query on the view queues"},
		{name: "what follows its lock", src: "ALTER TABLE active_users RENAME TO v1;\nSELECT 1;\n", schema: schema, inTx: true,
			rule: "statement-after-access-exclusive", says: "ACCESS EXCLUSIVE on a pre-existing view, which"},
		{name: "view column renamed by ALTER TABLE", src: "ALTER TABLE active_users RENAME COLUMN email TO mail;\nSELECT 1;\n", schema: schema, inTx: true,
			rule: "statement-after-access-exclusive", says: "on a pre-existing view, which"},
		{name: "sequence moved by ALTER TABLE", src: "ALTER TABLE invoice_no SET SCHEMA app;\n", schema: schema,
			rule: "move-or-rename-schema", says: "SET SCHEMA moves sequence invoice_no: running code that names it unqualified or in the old schema breaks (column defaults keep working"},
		{name: "materialized view renamed by ALTER TABLE", src: "ALTER TABLE user_stats RENAME TO s1;\n", schema: schema,
			rule: "rename-table", says: "RENAME materialized view user_stats TO s1 breaks running code that reads it"},
		{name: "a view the migration created and renamed", src: "CREATE VIEW v0 AS SELECT 1;\nALTER VIEW v0 RENAME TO v1;\nALTER TABLE v1 RENAME TO v2;\n", schema: schema,
			rule: "rename-table", absent: true},
		{name: "a table stays a table", src: "ALTER TABLE users RENAME TO accounts;\n", schema: schema,
			rule: "rename-table", says: "RENAME users TO accounts breaks running code that uses the old name"},
		{name: "without a schema the statement speaks", src: "ALTER TABLE active_users RENAME TO v1;\nSELECT 1;\n", inTx: true,
			rule: "statement-after-access-exclusive", says: "on a pre-existing table, which"},
	})
}

// TestSecuritySwitches: turning off the triggers that enforce foreign keys (DISABLE TRIGGER ALL, or an
// internal RI_ConstraintTrigger by name) is dangerous like session_replication_role = replica, also on
// a table the migration creates; DISABLE TRIGGER USER is not. DISABLE ROW LEVEL SECURITY opens every row
// to every role with privileges: dangerous; NO FORCE only lets the owner bypass the policies.
func TestSecuritySwitches(t *testing.T) {
	t.Parallel()
	const schema = "CREATE TABLE users (id bigint PRIMARY KEY, org_id bigint);\n"
	for src, want := range map[string]struct {
		rule string
		risk Risk
		says string
	}{
		"ALTER TABLE users DISABLE TRIGGER ALL;":                                  {"drop-or-toggle-trigger", Dangerous, "foreign keys"},
		"ALTER TABLE users DISABLE TRIGGER \"RI_ConstraintTrigger_c_16390\";":     {"drop-or-toggle-trigger", Dangerous, "foreign keys"},
		"CREATE TABLE fresh (id bigint);\nALTER TABLE fresh DISABLE TRIGGER ALL;": {"drop-or-toggle-trigger", Dangerous, "foreign keys"},
		"ALTER TABLE users DISABLE TRIGGER USER;":                                 {"drop-or-toggle-trigger", Caution, "SHARE ROW EXCLUSIVE"},
		"ALTER TABLE users DISABLE TRIGGER users_audit;":                          {"drop-or-toggle-trigger", Caution, "SHARE ROW EXCLUSIVE"},
		"ALTER TABLE users DISABLE ROW LEVEL SECURITY;":                           {"row-level-security", Dangerous, "every row"},
		"ALTER TABLE users NO FORCE ROW LEVEL SECURITY;":                          {"row-level-security", Caution, "owner bypasses"},
		"ALTER TABLE users ENABLE ROW LEVEL SECURITY;":                            {"row-level-security", Caution, "denies every row"},
	} {
		f := find(AnalyzeScript(script("SET lock_timeout = '2s';\n"+src+"\n"), true, Config{Schema: schema}), want.rule)
		if f == nil || f.Risk != want.risk || !strings.Contains(f.Message, want.says) {
			t.Errorf("%s: %s %+v, want risk %s saying %q", src, want.rule, f, want.risk, want.says)
		}
	}
	// A table the migration creates: no policy protected it before.
	if f := find(AnalyzeScript(script("CREATE TABLE fresh (id bigint);\nALTER TABLE fresh DISABLE ROW LEVEL SECURITY;\n"), true, Config{Schema: schema}), "row-level-security"); f != nil {
		t.Errorf("DISABLE ROW LEVEL SECURITY on a new table: %+v, want no finding", f)
	}
}

// TestSetNotNullSuggestionSeparatesSteps: following set-not-null's suggestion literally must not give
// statement-after-access-exclusive: DROP CONSTRAINT goes in a transaction after SET NOT NULL's.
func TestSetNotNullSuggestionSeparatesSteps(t *testing.T) {
	t.Parallel()
	f := find(AnalyzeScript(script("ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n"), true, Config{}), "set-not-null")
	if f == nil || !strings.Contains(f.Suggestion, "SET NOT NULL (no scan); then, in another transaction again, DROP CONSTRAINT") {
		t.Errorf("set-not-null %+v: suggestion does not put DROP CONSTRAINT in a transaction of its own", f)
	}
}

// TestToolTransactionPsqlScripts: psql runs sqitch scripts and plain folders statement by statement,
// each committing by itself outside the script's own BEGIN … COMMIT, so no lock an earlier statement
// took is held at the next one, whatever transaction the rehearsal runs them in; a BEGIN … COMMIT of
// the script is a transaction, and the tools that run a migration in one transaction keep the finding.
func TestToolTransactionPsqlScripts(t *testing.T) {
	t.Parallel()
	const (
		setup = "CREATE TABLE t (id bigint, x int);\n"
		body  = "SET lock_timeout = '1s';\nSET statement_timeout = '1min';\nALTER TABLE t ALTER COLUMN x SET NOT NULL;\nUPDATE t SET x = 1 WHERE x IS NULL;\n"
		plan  = "%syntax-version=1.0.0\n%project=p\n\na 2024-01-01T00:00:00Z Me <me@example.com> # a\nb [a] 2024-01-01T00:01:00Z Me <me@example.com> # b\n"
	)
	sqitch := func(b string) fstest.MapFS {
		return fstest.MapFS{
			"sqitch.plan":  {Data: []byte(plan)},
			"deploy/a.sql": {Data: []byte(setup)},
			"revert/a.sql": {Data: []byte("DROP TABLE t;\n")},
			"deploy/b.sql": {Data: []byte(b)},
			"revert/b.sql": {Data: []byte("ALTER TABLE t ALTER COLUMN x DROP NOT NULL;\n")},
		}
	}
	tests := []struct {
		name   string
		format migrate.Format
		files  fstest.MapFS
		want   bool // statement-after-access-exclusive on the UPDATE
	}{
		{"sqitch without BEGIN", migrate.FormatSqitch, sqitch(body), false},
		{"sqitch with BEGIN … COMMIT", migrate.FormatSqitch, sqitch("BEGIN;\n" + body + "COMMIT;\n"), true},
		{"plain", migrate.FormatPlain, fstest.MapFS{"001_a.sql": {Data: []byte(setup)}, "002_b.sql": {Data: []byte(body)}}, false},
		{"plain with BEGIN … COMMIT", migrate.FormatPlain, fstest.MapFS{"001_a.sql": {Data: []byte(setup)}, "002_b.sql": {Data: []byte("BEGIN;\n" + body + "COMMIT;\n")}}, true},
		{"golang-migrate", migrate.FormatGolangMigrate, fstest.MapFS{
			"1_a.up.sql": {Data: []byte(setup)}, "1_a.down.sql": {Data: []byte("DROP TABLE t;\n")},
			"2_b.up.sql": {Data: []byte(body)}, "2_b.down.sql": {Data: []byte("SELECT 1;\n")},
		}, true},
		{"goose", migrate.FormatGoose, fstest.MapFS{"00001_a.sql": {Data: []byte("-- +goose Up\n" + setup)}, "00002_b.sql": {Data: []byte("-- +goose Up\n" + body)}}, true},
		{"dbmate", migrate.FormatDbmate, fstest.MapFS{
			"20240101000001_a.sql": {Data: []byte("-- migrate:up\n" + setup + "\n-- migrate:down\n")},
			"20240101000002_b.sql": {Data: []byte("-- migrate:up\n" + body + "\n-- migrate:down\n")},
		}, true},
		{"flyway", migrate.FormatFlyway, fstest.MapFS{"V1__a.sql": {Data: []byte(setup)}, "V2__b.sql": {Data: []byte(body)}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set, err := migrate.Read(tt.files, tt.format)
			if err != nil {
				t.Fatal(err)
			}
			last := set.Migrations[len(set.Migrations)-1]
			// Alone, in a sequence (lint --dir), and with the rehearsal's schema: the same judgement.
			seq := NewSequence(Config{})
			seq.Analyze(set.Migrations[0], set.Format)
			for what, fs := range map[string][]Finding{
				"Analyze":          Analyze(last, set.Format, Config{Schema: setup}),
				"Sequence.Analyze": seq.Analyze(last, set.Format),
			} {
				if f := find(fs, "statement-after-access-exclusive"); (f != nil) != tt.want {
					t.Errorf("%s: statement-after-access-exclusive %+v, want it %v", what, f, tt.want)
				}
			}
		})
	}
}

// TestStatementExcerptKeepsLiterals: a finding quotes its statement on one line, but white space inside
// a string literal or a quoted identifier is the statement's meaning: 'a  b' must not read 'a b'. A line
// break inside a literal shows as \n.
func TestStatementExcerptKeepsLiterals(t *testing.T) {
	t.Parallel()
	src := "ALTER TABLE \"my  table\"\n    ADD CONSTRAINT c CHECK (status <> 'a  b\nc');\n"
	f := find(AnalyzeScript(script(src), true, Config{}), "add-check-constraint")
	if f == nil {
		t.Fatal("add-check-constraint missing")
	}
	if want := `ALTER TABLE "my  table" ADD CONSTRAINT c CHECK (status <> 'a  b\nc')`; f.Statement != want {
		t.Errorf("statement excerpt\n got %q\nwant %q", f.Statement, want)
	}
}

// TestStatementAfterAccessExclusiveCheapFollowUps: any statement after an ACCESS EXCLUSIVE in the same
// transaction was dangerous, the most common ORM shape (two ADD COLUMNs, a COMMENT, a new table, a
// one-row UPDATE of the new column) among them, though those take no lock another session holds and
// do no work that grows with the data. They are caution now; a statement that may wait for a lock on
// another pre-existing relation, or scans, rewrites, backfills, builds an index or calls a function,
// stays dangerous, and so does one after a cheap one.
func TestStatementAfterAccessExclusiveCheapFollowUps(t *testing.T) {
	t.Parallel()
	const head = "SET lock_timeout = '2s';\nSET statement_timeout = '30s';\n"
	for _, tt := range []struct {
		name string
		src  string
		want []Risk // statement-after-access-exclusive's findings, in order
		says string // a part of the last one's message
	}{
		{"two ADD COLUMNs", "ALTER TABLE users ADD COLUMN a int;\nALTER TABLE users ADD COLUMN b int;\n", []Risk{Caution}, "an ALTER TABLE that changes only the catalog"},
		{"a COMMENT and a new table", "ALTER TABLE users ADD COLUMN a int;\nCOMMENT ON COLUMN users.a IS 'x';\nCREATE TABLE audit_log (id bigint PRIMARY KEY, msg text);\n",
			[]Risk{Caution}, "a COMMENT"},
		{"a one-row UPDATE of the new column", "ALTER TABLE orgs ADD COLUMN plan text;\nUPDATE orgs SET plan = 'free' WHERE id = 1;\n", []Risk{Caution}, "by a key lookup"},
		{"a constant DEFAULT", "ALTER TABLE users ADD COLUMN a int;\nALTER TABLE users ADD COLUMN b text NOT NULL DEFAULT 'x';\n", []Risk{Caution}, "changes only the catalog"},
		{"an index on a new table", "ALTER TABLE users ADD COLUMN a int;\nCREATE TABLE t2 (id bigint);\nCREATE INDEX t2_id ON t2 (id);\n", []Risk{Caution}, "a CREATE TABLE"},
		{"another pre-existing table", "ALTER TABLE users ADD COLUMN a int;\nALTER TABLE orgs ADD COLUMN b int;\n", []Risk{Dangerous}, "may wait for a lock on another relation"},
		{"a new table referencing a pre-existing one", "ALTER TABLE users ADD COLUMN a int;\nCREATE TABLE t2 (org_id bigint REFERENCES orgs (id));\n", []Risk{Dangerous}, "may wait"},
		{"an UPDATE of every row", "ALTER TABLE orgs ADD COLUMN plan text;\nUPDATE orgs SET plan = 'free';\n", []Risk{Dangerous}, "may wait"},
		{"an UPDATE by a column that is no key", "ALTER TABLE orgs ADD COLUMN plan text;\nUPDATE orgs SET plan = 'free' WHERE name = 'x';\n", []Risk{Dangerous}, "may wait"},
		{"an UPDATE of an old column", "ALTER TABLE orgs ADD COLUMN plan text;\nUPDATE orgs SET name = 'free' WHERE id = 1;\n", []Risk{Dangerous}, "may wait"},
		{"an UPDATE with a subquery", "ALTER TABLE orgs ADD COLUMN plan text;\nUPDATE orgs SET plan = 'free' WHERE id = 1 AND id IN (SELECT org_id FROM users);\n", []Risk{Dangerous}, "may wait"},
		{"an index build", "ALTER TABLE users ADD COLUMN a int;\nCREATE INDEX users_a ON users (a);\n", []Risk{Dangerous}, "may wait"},
		{"a volatile DEFAULT rewrites", "ALTER TABLE users ADD COLUMN a int;\nALTER TABLE users ADD COLUMN b float8 DEFAULT random();\n", []Risk{Dangerous}, "may wait"},
		{"a CHECK scans", "ALTER TABLE users ADD COLUMN a int;\nALTER TABLE users ADD CONSTRAINT a_pos CHECK (a > 0);\n", []Risk{Dangerous}, "may wait"},
		{"a function call", "ALTER TABLE users ADD COLUMN a int;\nSELECT fill_users();\n", []Risk{Dangerous}, "may wait"},
		{"a costly one after a cheap one", "ALTER TABLE users ADD COLUMN a int;\nALTER TABLE users ADD COLUMN b int;\nCREATE INDEX users_a ON users (a);\n",
			[]Risk{Caution, Dangerous}, "may wait"},
		// ATTACH PARTITION takes ACCESS EXCLUSIVE on the partition, SHARE UPDATE EXCLUSIVE on the
		// partitioned table (PostgreSQL 12+): an ALTER of the partitioned table waits for its sessions.
		{"an ALTER of the table a partition was attached to", "ALTER TABLE events ATTACH PARTITION events_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\nALTER TABLE events ADD COLUMN note text;\n",
			[]Risk{Dangerous}, "may wait"},
		{"an ALTER of the attached partition", "ALTER TABLE events ATTACH PARTITION events_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\nCOMMENT ON TABLE events_2024 IS 'x';\n",
			[]Risk{Caution}, "a COMMENT"},
		// Dropping a column drops the foreign keys that use it, which takes ACCESS EXCLUSIVE on the
		// referenced table.
		{"a DROP COLUMN of a foreign key's column", "ALTER TABLE users ADD COLUMN a int;\nALTER TABLE users DROP COLUMN org_id;\n", []Risk{Dangerous}, "may wait"},
		{"a DROP COLUMN of a named foreign key's column", "ALTER TABLE users ADD COLUMN a int;\nALTER TABLE users DROP COLUMN team_id;\n", []Risk{Dangerous}, "may wait"},
		{"a DROP COLUMN of a table constraint's column", "ALTER TABLE users ADD COLUMN a int;\nALTER TABLE users DROP COLUMN lead_id;\n", []Risk{Dangerous}, "may wait"},
		{"a DROP COLUMN of another column", "ALTER TABLE users ADD COLUMN a int;\nALTER TABLE users DROP COLUMN email;\n", []Risk{Caution}, "changes only the catalog"},
		// The foreign key's check of the referenced row takes FOR KEY SHARE on it, which waits for a
		// session that updates or deletes it.
		{"an UPDATE of an added column with a foreign key", "ALTER TABLE users ADD COLUMN buyer_id bigint REFERENCES orgs (id);\nUPDATE users SET buyer_id = 1 WHERE id = 5;\n", []Risk{Dangerous}, "may wait"},
		{"an UPDATE of an added column a foreign key uses later", "BEGIN;\nALTER TABLE users ADD COLUMN buyer_id bigint;\nCOMMIT;\nALTER TABLE users ADD CONSTRAINT users_buyer FOREIGN KEY (buyer_id) REFERENCES orgs (id) NOT VALID;\nBEGIN;\nALTER TABLE users ADD COLUMN a int;\nUPDATE users SET buyer_id = 1 WHERE id = 5;\nCOMMIT;\n",
			[]Risk{Dangerous}, "may wait"},
		// serial fills every row from its sequence, and a domain's volatile DEFAULT fills them too:
		// both rewrite the table.
		{"an ADD COLUMN serial", "ALTER TABLE users ADD COLUMN a int;\nALTER TABLE users ADD COLUMN n serial;\n", []Risk{Dangerous}, "may wait"},
		{"an ADD COLUMN bigserial", "ALTER TABLE users ADD COLUMN a int;\nALTER TABLE users ADD COLUMN n bigserial;\n", []Risk{Dangerous}, "may wait"},
		{"an ADD COLUMN smallserial", "ALTER TABLE users ADD COLUMN a int;\nALTER TABLE users ADD COLUMN n smallserial;\n", []Risk{Dangerous}, "may wait"},
		{"an ADD COLUMN of a domain with a sequence DEFAULT", "ALTER TABLE users ADD COLUMN a int;\nALTER TABLE users ADD COLUMN n ticket_no;\n", []Risk{Dangerous}, "may wait"},
		{"an ADD COLUMN of a domain with a constant DEFAULT", "ALTER TABLE users ADD COLUMN a int;\nALTER TABLE users ADD COLUMN n flag;\n", []Risk{Caution}, "changes only the catalog"},
		{"a new transaction starts over", "BEGIN;\nALTER TABLE users ADD COLUMN a int;\nCOMMIT;\nBEGIN;\nALTER TABLE orgs ADD COLUMN b int;\nALTER TABLE users ADD COLUMN c int;\nCOMMIT;\n",
			[]Risk{Dangerous}, "may wait"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			schema := "CREATE TABLE orgs (id bigint PRIMARY KEY, name text);\nCREATE TABLE users (id bigint PRIMARY KEY, org_id bigint REFERENCES orgs (id), email text,\n" +
				"  team_id bigint CONSTRAINT users_team REFERENCES orgs (id), lead_id bigint, FOREIGN KEY (lead_id) REFERENCES orgs (id));\n" +
				"CREATE TABLE events (at date NOT NULL) PARTITION BY RANGE (at);\nCREATE TABLE events_2024 (at date NOT NULL);\n" +
				"CREATE SEQUENCE tickets;\nCREATE DOMAIN ticket_no AS bigint DEFAULT nextval('tickets');\nCREATE DOMAIN flag AS boolean DEFAULT false;\n"
			fs := AnalyzeScript(script(head+tt.src), !strings.Contains(tt.src, "BEGIN"), Config{Schema: schema})
			var got []Risk
			var last *Finding
			for i := range fs {
				if fs[i].Rule == "statement-after-access-exclusive" {
					got, last = append(got, fs[i].Risk), &fs[i]
				}
			}
			if !slices.Equal(got, tt.want) || !strings.Contains(last.Message, tt.says) {
				t.Errorf("statement-after-access-exclusive %v, want %v, the last saying %q; findings: %v", got, tt.want, tt.says, fs)
			}
		})
	}
}
