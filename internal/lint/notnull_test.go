package lint

import (
	"context"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestSetNotNullProofMatchesServer: SET NOT NULL is set-not-null-proven exactly when PostgreSQL skips its
// scan, which it does when a validated CHECK implies the column is not null, through AND, NOT and rows
// as well (PostgreSQL 12+); an OR with an arm that does not, a strict comparison alone, or a NOT VALID
// constraint leaves the scan. Each case runs on the server, which counts the scans of the table.
func TestSetNotNullProofMatchesServer(t *testing.T) {
	tests := []struct {
		name, check string
		proven      bool
		msg         string // part of the static message
	}{
		{"plain", "CONSTRAINT k CHECK (c IS NOT NULL)", true, "proven by a validated CHECK (c IS NOT NULL)"},
		{"and", "CONSTRAINT k CHECK (c IS NOT NULL AND c > 0)", true, "proven by the validated CHECK k, whose expression implies c IS NOT NULL"},
		{"nested and", "CONSTRAINT k CHECK (d > 0 AND (c < 10000 AND c IS NOT NULL))", true, "the validated CHECK k"},
		{"unnamed and", "CHECK (c > 0 AND c IS NOT NULL)", true, "proven by a validated CHECK, whose expression implies c IS NOT NULL"},
		{"not is null", "CONSTRAINT k CHECK (NOT (c IS NULL))", true, "the validated CHECK k"},
		{"not or", "CONSTRAINT k CHECK (NOT (c IS NULL OR d IS NULL))", true, "the validated CHECK k"},
		{"or of ands", "CONSTRAINT k CHECK ((c IS NOT NULL AND d > 0) OR (c IS NOT NULL AND d < 0))", true, "the validated CHECK k"},
		{"row", "CONSTRAINT k CHECK ((c, d) IS NOT NULL)", true, "the validated CHECK k"},
		{"validated later", "CONSTRAINT k CHECK (c IS NOT NULL AND c > 0) NOT VALID", true, "the validated CHECK k"},
		{"or", "CONSTRAINT k CHECK (c IS NOT NULL OR d > 0)", false, "scans the whole table"},
		{"or with a strict arm", "CONSTRAINT k CHECK (c IS NOT NULL OR c > 0)", false, "scans the whole table"},
		{"strict comparison", "CONSTRAINT k CHECK (c > 0)", false, "scans the whole table"},
		{"not row is null", "CONSTRAINT k CHECK (NOT ((c, d) IS NULL))", false, "scans the whole table"},
		{"another column", "CONSTRAINT k CHECK (d IS NOT NULL AND c > 0)", false, "scans the whole table"},
		{"not valid", "CONSTRAINT k CHECK (c IS NOT NULL AND c > 0) NOT VALID", false, "scans the whole table"},
	}
	conn := pgtest.Conn(t)
	ctx := t.Context()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			schema := "CREATE TABLE m (c int, d int, " + strings.TrimSuffix(tt.check, " NOT VALID") + ");\n"
			if strings.HasSuffix(tt.check, " NOT VALID") {
				schema = "CREATE TABLE m (c int, d int);\nALTER TABLE m ADD " + tt.check + ";\n"
				if tt.name == "validated later" {
					schema += "ALTER TABLE m VALIDATE CONSTRAINT k;\n"
				}
			}
			const src = "ALTER TABLE m ALTER COLUMN c SET NOT NULL;\n"
			if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
				t.Fatal(err)
			}
			defer conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
			if _, err := conn.Exec(ctx, schema+"INSERT INTO m VALUES (1, 1);"); err != nil {
				t.Fatal(err)
			}
			const scans = "SELECT pg_stat_get_xact_numscans('m'::regclass)"
			var before, after int64
			if err := conn.QueryRow(ctx, scans).Scan(&before); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Exec(ctx, src); err != nil {
				t.Fatal(err)
			}
			if err := conn.QueryRow(ctx, scans).Scan(&after); err != nil {
				t.Fatal(err)
			}
			if scanned := after > before; scanned == tt.proven {
				t.Fatalf("the server scanned: %v, want %v: the case is wrong", scanned, !tt.proven)
			}
			want := "set-not-null"
			if tt.proven {
				want = "set-not-null-proven"
			}
			fs := AnalyzeScript(script(src), true, Config{Schema: schema})
			f := find(fs, want)
			if f == nil || !strings.Contains(f.Message, tt.msg) {
				t.Errorf("%s: %+v, want one saying %q (all: %v)", want, f, tt.msg, rulesOf(fs))
			}
		})
	}
}
