package lint

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestForeignKeysNameEveryReferencedTable: a statement whose foreign keys reference several
// pre-existing tables takes SHARE ROW EXCLUSIVE on each of them; its finding names every one, once,
// in the order the statement first names them, and none the migration created or the table itself.
func TestForeignKeysNameEveryReferencedTable(t *testing.T) {
	t.Parallel()
	schema := "CREATE TABLE accounts (id bigint PRIMARY KEY);\nCREATE TABLE branches (id bigint PRIMARY KEY);\nCREATE TABLE regions (id bigint PRIMARY KEY);\n"
	tests := []struct {
		name string
		src  string
		line int
		rule string
		want [][]string // per finding of rule on line: the referenced tables it must name
		not  []string   // tables no finding may name
	}{
		{"inline references", "CREATE TABLE c (id bigint PRIMARY KEY, a_id bigint REFERENCES accounts(id), b_id bigint REFERENCES branches(id));\n",
			1, "create-table-with-fk", [][]string{{"accounts", "branches"}}, nil},
		{"table constraints, duplicates and qualified names",
			"CREATE TABLE c (id bigint PRIMARY KEY, a_id bigint, b_id bigint REFERENCES branches, r_id bigint REFERENCES public.branches (id),\n" +
				"  FOREIGN KEY (a_id) REFERENCES accounts (id), CONSTRAINT c_r_fk FOREIGN KEY (r_id) REFERENCES regions (id), CONSTRAINT c_b_fk FOREIGN KEY (b_id) REFERENCES branches (id));\n",
			1, "create-table-with-fk", [][]string{{"branches", "accounts", "regions"}}, nil},
		{"tables of the migration and the table itself are not locked before",
			"CREATE TABLE fresh (id bigint PRIMARY KEY);\nCREATE TABLE c (id bigint PRIMARY KEY, a_id bigint REFERENCES accounts(id), parent_id bigint REFERENCES c(id), f_id bigint REFERENCES fresh(id));\n",
			2, "create-table-with-fk", [][]string{{"accounts"}}, []string{"fresh", "c"}},
		{"only new tables referenced",
			"CREATE TABLE fresh (id bigint PRIMARY KEY);\nCREATE TABLE c (id bigint PRIMARY KEY, parent_id bigint REFERENCES c(id), f_id bigint REFERENCES fresh(id));\n",
			2, "create-table-with-fk", nil, nil},
		{"new table: one finding per ADD CONSTRAINT",
			"CREATE TABLE c (id bigint PRIMARY KEY, a_id bigint, b_id bigint);\nALTER TABLE c ADD CONSTRAINT c_a_fk FOREIGN KEY (a_id) REFERENCES accounts (id), ADD CONSTRAINT c_b_fk FOREIGN KEY (b_id) REFERENCES branches (id);\n",
			2, "create-table-with-fk", [][]string{{"accounts"}, {"branches"}}, nil},
		{"new table: one finding per ADD COLUMN … REFERENCES",
			"CREATE TABLE c (id bigint PRIMARY KEY);\nALTER TABLE c ADD COLUMN a_id bigint REFERENCES accounts(id), ADD COLUMN b_id bigint REFERENCES branches(id), ADD COLUMN c_id bigint REFERENCES c(id);\n",
			2, "create-table-with-fk", [][]string{{"accounts"}, {"branches"}}, nil},
		{"existing table: each ADD COLUMN … REFERENCES names its table",
			"ALTER TABLE accounts ADD COLUMN b_id bigint REFERENCES branches(id), ADD COLUMN r_id bigint REFERENCES regions(id);\n",
			1, "add-column-inline-fk", [][]string{{"branches"}, {"regions"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := AnalyzeScript(script(tt.src), true, Config{Schema: schema})
			var got []Finding
			timeout := false
			for _, f := range fs {
				if f.Line == tt.line && f.Rule == tt.rule {
					got = append(got, f)
				}
				timeout = timeout || f.Line == tt.line && f.Rule == "missing-lock-timeout"
			}
			if len(got) != len(tt.want) {
				t.Fatalf("%d %s findings on line %d, want %d: %v", len(got), tt.rule, tt.line, len(tt.want), got)
			}
			for i, f := range got {
				if want := "SHARE ROW EXCLUSIVE on " + strings.Join(tt.want[i], ", "); !strings.HasSuffix(f.Lock, want) {
					t.Errorf("finding %d: lock %q, want it to end with %q", i, f.Lock, want)
				}
				for _, name := range tt.want[i] {
					if n := countWord(f.Message, name); n != 1 {
						t.Errorf("finding %d: message %q names %s %d times, want once", i, f.Message, name, n)
					}
				}
				for _, name := range tt.not {
					if countWord(f.Message, name) > 0 || countWord(f.Lock, name) > 0 {
						t.Errorf("finding %d names %s, which did not exist before the migration: %q / %q", i, name, f.Message, f.Lock)
					}
				}
			}
			if len(tt.want) > 0 && !timeout {
				t.Errorf("no missing-lock-timeout on line %d although the statement locks pre-existing tables: %v", tt.line, fs)
			}
		})
	}
}

var nameRE = regexp.MustCompile(`[\w.$]+`)

// countWord counts the occurrences of word in s as a whole name ("branches" is not in
// "public.branches" or "branches_pkey").
func countWord(s, word string) int {
	n := 0
	for _, w := range nameRE.FindAllString(s, -1) {
		if w == word {
			n++
		}
	}
	return n
}

// TestPartitionedForeignKeyBefore18: PostgreSQL before 18 refuses ADD FOREIGN KEY … NOT VALID on a
// partitioned table (measured on 15), so the usual NOT VALID + VALIDATE advice would fail the deploy:
// the NOT VALID form is version-unsupported, and both point to the partitions' own validated foreign
// keys, which ADD on the parent then takes over without a scan. A partition, and 18, keep the usual.
func TestPartitionedForeignKeyBefore18(t *testing.T) {
	t.Parallel()
	schema := "CREATE TABLE orgs (id bigint PRIMARY KEY);\nCREATE TABLE events (id bigint, org_id bigint) PARTITION BY HASH (id);\n" +
		"CREATE TABLE events_0 PARTITION OF events FOR VALUES WITH (MODULUS 1, REMAINDER 0);\n"
	const perPartition = "add the foreign key NOT VALID to each partition of events"
	tests := []struct {
		name, src string
		pg        string
		rule      string
		risk      Risk
		partition bool // the suggestion is the per-partition one
	}{
		{"not valid on the parent fails", "ALTER TABLE events ADD CONSTRAINT events_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id) NOT VALID;", "15", "version-unsupported", Dangerous, true},
		{"validated on the parent", "ALTER TABLE events ADD CONSTRAINT events_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id);", "15", "add-foreign-key", Dangerous, true},
		{"not valid on a partition", "ALTER TABLE events_0 ADD CONSTRAINT events_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id) NOT VALID;", "15", "add-constraint-not-valid", Safe, false},
		{"not valid on the parent on 18", "ALTER TABLE events ADD CONSTRAINT events_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id) NOT VALID;", "18", "add-constraint-not-valid", Safe, false},
		{"validated on the parent on 18", "ALTER TABLE events ADD CONSTRAINT events_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id);", "18", "add-foreign-key", Dangerous, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := ParseVersion(tt.pg)
			if err != nil {
				t.Fatal(err)
			}
			fs := AnalyzeScript(script("SET lock_timeout = '2s';\n"+tt.src+"\n"), true, Config{Schema: schema, PGVersion: v})
			f := find(fs, tt.rule)
			if f == nil || f.Risk != tt.risk {
				t.Fatalf("want %s %s, got %v", tt.risk, tt.rule, fs)
			}
			if got := strings.Contains(f.Suggestion, perPartition); got != tt.partition {
				t.Errorf("suggestion %q: per-partition advice %v, want %v", f.Suggestion, got, tt.partition)
			}
			if tt.rule == "version-unsupported" && find(fs, "add-constraint-not-valid") != nil {
				t.Errorf("a statement that fails is no safe NOT VALID constraint: %v", fs)
			}
		})
	}
}

// TestInlineForeignKeyMatchesServer: ADD COLUMN … REFERENCES validates the key on every existing row
// when the column has a DEFAULT clause, any, DEFAULT NULL included (transformAlterTableStmt keeps the
// validation whenever raw_default is set), and validates nothing when it has none, a domain's DEFAULT
// included: the server says which at client_min_messages = debug1 ("validating foreign key
// constraint"), and the finding is dangerous exactly when it did.
func TestInlineForeignKeyMatchesServer(t *testing.T) {
	schema := "CREATE TABLE statuses (id bigint PRIMARY KEY);\nCREATE TABLE orders (id bigint PRIMARY KEY);\n" +
		"CREATE DOMAIN status_ref AS bigint DEFAULT 1;\n"
	columns := []string{
		"status_id bigint NOT NULL DEFAULT 1 REFERENCES statuses(id)",
		"status_id bigint DEFAULT 1 REFERENCES statuses(id)",
		"status_id bigint DEFAULT NULL REFERENCES statuses(id)",
		"status_id bigint DEFAULT NULL::bigint REFERENCES statuses(id)",
		"status_id bigint REFERENCES statuses(id) DEFAULT 1",
		"status_id bigint REFERENCES statuses(id)",
		"status_id status_ref REFERENCES statuses(id)",
		"status_id bigint CONSTRAINT orders_status_fk REFERENCES statuses(id) ON DELETE SET NULL",
		"status_id bigint GENERATED ALWAYS AS (1) STORED REFERENCES statuses(id)",
		"status_id bigserial REFERENCES statuses(id)",
		"status_id bigint GENERATED BY DEFAULT AS IDENTITY REFERENCES statuses(id)",
	}
	url := pgtest.URL(t)
	for _, col := range columns {
		t.Run(col, func(t *testing.T) {
			ctx := t.Context()
			cfg, err := pgx.ParseConfig(url)
			if err != nil {
				t.Fatal(err)
			}
			validated := false
			cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
				validated = validated || strings.HasPrefix(n.Message, "validating foreign key constraint")
			}
			conn, err := pgx.ConnectConfig(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.Background())
			src := fmt.Sprintf("ALTER TABLE orders ADD COLUMN %s;\n", col)
			tx, err := conn.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(context.Background())
			for _, sql := range []string{schema, "INSERT INTO statuses VALUES (1); INSERT INTO orders VALUES (1)", "SET LOCAL client_min_messages = debug1", src} {
				if _, err := tx.Exec(ctx, sql); err != nil {
					t.Fatalf("%s: %v", sql, err)
				}
			}
			var got []Finding
			for _, f := range AnalyzeScript(script(src), true, Config{Schema: schema}) {
				if f.Rule == "add-column-inline-fk" {
					got = append(got, f)
				}
			}
			if len(got) != 1 {
				t.Fatalf("%d add-column-inline-fk findings, want 1: %v", len(got), got)
			}
			f := got[0]
			if (f.Risk == Dangerous) != validated || f.Scan != validated {
				t.Errorf("the server validated the key: %v; finding %s (scan %v): %s", validated, f.Risk, f.Scan, f.Message)
			}
			if validated && !strings.Contains(f.Suggestion, "NOT VALID") {
				t.Errorf("suggestion %q does not add the key NOT VALID", f.Suggestion)
			}
		})
	}
}
