package lint

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestSetNotNullProofMatchesServer: SET NOT NULL is set-not-null-proven exactly when PostgreSQL skips its
// scan, which it does when a validated CHECK implies the column is not null, through AND, NOT and rows
// as well (PostgreSQL 12+); an OR with an arm that does not, a strict comparison alone, or a NOT VALID
// constraint leaves the scan. A CHECK written on the column proves as one written on the table, under the
// name PostgreSQL gives it (one unused in the table's schema), and c IS DISTINCT FROM NULL as c IS NOT
// NULL; a CHECK follows its column's RENAME, and LIKE … INCLUDING CONSTRAINTS copies it, valid; a partition
// or an inheritance child has its parents' CHECKs. Each case runs on the server, which counts the scans
// of the table.
func TestSetNotNullProofMatchesServer(t *testing.T) {
	tests := []struct {
		name, check string
		proven      bool
		msg         string // part of the static message
		schema      string // the table, instead of m (c int, d int, check)
	}{
		{"plain", "CONSTRAINT k CHECK (c IS NOT NULL)", true, "proven by a validated CHECK (c IS NOT NULL)", ""},
		{"and", "CONSTRAINT k CHECK (c IS NOT NULL AND c > 0)", true, "proven by the validated CHECK k, whose expression implies c IS NOT NULL", ""},
		{"nested and", "CONSTRAINT k CHECK (d > 0 AND (c < 10000 AND c IS NOT NULL))", true, "the validated CHECK k", ""},
		{"unnamed and", "CHECK (c > 0 AND c IS NOT NULL)", true, "proven by the validated CHECK m_c_check, whose expression implies c IS NOT NULL", ""},
		{"not is null", "CONSTRAINT k CHECK (NOT (c IS NULL))", true, "the validated CHECK k", ""},
		{"not or", "CONSTRAINT k CHECK (NOT (c IS NULL OR d IS NULL))", true, "the validated CHECK k", ""},
		{"or of ands", "CONSTRAINT k CHECK ((c IS NOT NULL AND d > 0) OR (c IS NOT NULL AND d < 0))", true, "the validated CHECK k", ""},
		{"row", "CONSTRAINT k CHECK ((c, d) IS NOT NULL)", true, "the validated CHECK k", ""},
		{"validated later", "CONSTRAINT k CHECK (c IS NOT NULL AND c > 0) NOT VALID", true, "the validated CHECK k", ""},
		{"or", "CONSTRAINT k CHECK (c IS NOT NULL OR d > 0)", false, "scans the whole table", ""},
		{"or with a strict arm", "CONSTRAINT k CHECK (c IS NOT NULL OR c > 0)", false, "scans the whole table", ""},
		{"strict comparison", "CONSTRAINT k CHECK (c > 0)", false, "scans the whole table", ""},
		{"not row is null", "CONSTRAINT k CHECK (NOT ((c, d) IS NULL))", false, "scans the whole table", ""},
		{"another column", "CONSTRAINT k CHECK (d IS NOT NULL AND c > 0)", false, "scans the whole table", ""},
		{"not valid", "CONSTRAINT k CHECK (c IS NOT NULL AND c > 0) NOT VALID", false, "scans the whole table", ""},
		{"distinct from null", "CONSTRAINT k CHECK (c IS DISTINCT FROM NULL)", true, "the validated CHECK k, whose expression implies c IS NOT NULL", ""},
		{"null distinct from", "CONSTRAINT k CHECK (NULL IS DISTINCT FROM c AND d > 0)", true, "the validated CHECK k", ""},
		{"not not distinct from null", "CONSTRAINT k CHECK (NOT (c IS NOT DISTINCT FROM NULL))", true, "the validated CHECK k", ""},
		{"distinct from a typed null", "CONSTRAINT k CHECK (c IS DISTINCT FROM NULL::int)", false, "scans the whole table", ""},
		{"distinct from another column", "CONSTRAINT k CHECK (c IS DISTINCT FROM d + 1)", false, "scans the whole table", ""},
		{"not valid in CREATE TABLE", "", true, "the validated CHECK k",
			"CREATE TABLE m (c int, d int, CONSTRAINT k CHECK (c IS NOT NULL AND c > 0) NOT VALID);\n"},
		{"column check", "", true, "proven by the validated CHECK m_c_check, whose expression implies c IS NOT NULL",
			"CREATE TABLE m (c int CHECK (c IS NOT NULL AND c > 0), d int);\n"},
		{"named column check", "", true, "the validated CHECK k",
			"CREATE TABLE m (c int CONSTRAINT k CHECK (c IS DISTINCT FROM NULL), d int);\n"},
		{"added column's check", "", true, "proven by a validated CHECK (c IS NOT NULL)",
			"CREATE TABLE m (d int);\nALTER TABLE m ADD COLUMN c int CHECK (c IS NOT NULL);\n"},
		{"column check on another column", "", false, "scans the whole table",
			"CREATE TABLE m (c int, d int CHECK (d IS NOT NULL AND c > 0));\n"},
		{"column check dropped by its name", "", false, "scans the whole table",
			"CREATE TABLE m (c int CHECK (c IS NOT NULL) CHECK (c > 0), d int);\nALTER TABLE m DROP CONSTRAINT m_c_check;\n"},
		{"second column check kept", "", true, "the validated CHECK m_c_check1",
			"CREATE TABLE m (c int CHECK (c > 0) CHECK (c IS NOT NULL AND c < 100), d int);\nALTER TABLE m DROP CONSTRAINT m_c_check;\n"},
		{"column dropped and added again", "", false, "scans the whole table",
			"CREATE TABLE m (c int CHECK (c IS NOT NULL), d int);\nALTER TABLE m DROP COLUMN c;\nALTER TABLE m ADD COLUMN c int;\n"},
		{"named after another table's check", "", true, "the validated CHECK m_c_check2",
			"CREATE TABLE m_c (a int, b int, CHECK (a < b));\nCREATE TABLE m (c int CHECK (c > 0), d int);\n" +
				"ALTER TABLE m ADD CHECK (c IS NOT NULL AND c < 100);\nALTER TABLE m DROP CONSTRAINT m_c_check1;\n"},
		{"renamed column's check", "", true, "proven by the validated CHECK m_x_check, whose expression implies c IS NOT NULL",
			"CREATE TABLE m (x int CHECK (x IS NOT NULL AND x > 0), d int);\nALTER TABLE m RENAME COLUMN x TO c;\n"},
		{"copied by like", "", true, "the validated CHECK src_c_check",
			"CREATE TABLE src (c int CHECK (c IS NOT NULL AND c > 0), d int);\nCREATE TABLE m (LIKE src INCLUDING CONSTRAINTS);\n"},
		{"copied valid by like", "", true, "the validated CHECK k",
			"CREATE TABLE src (c int, d int);\nALTER TABLE src ADD CONSTRAINT k CHECK (c IS NOT NULL AND c > 0) NOT VALID;\n" +
				"CREATE TABLE m (LIKE src INCLUDING CONSTRAINTS);\n"},
		{"not copied by like", "", false, "scans the whole table",
			"CREATE TABLE src (c int CHECK (c IS NOT NULL AND c > 0), d int);\nCREATE TABLE m (LIKE src);\n"},
		{"partitioned table's check", "", true, "the validated CHECK k",
			"CREATE TABLE p (c int, d int, CONSTRAINT k CHECK (c IS NOT NULL AND c > 0)) PARTITION BY RANGE (d);\nCREATE TABLE m PARTITION OF p FOR VALUES FROM (1) TO (10);\n"},
		{"partitioned table's check dropped", "", false, "scans the whole table",
			"CREATE TABLE p (c int, d int, CONSTRAINT k CHECK (c IS NOT NULL AND c > 0)) PARTITION BY RANGE (d);\nCREATE TABLE m PARTITION OF p FOR VALUES FROM (1) TO (10);\nALTER TABLE p DROP CONSTRAINT k;\n"},
		// An inheritance child has its parents' CHECKs, which follow their ADD, VALIDATE and DROP, but for
		// those NO INHERIT; proven by one, the child is not scanned (measured on 15).
		{"inherited check", "", true, "the validated CHECK k",
			"CREATE TABLE p (c int, d int, CONSTRAINT k CHECK (c IS NOT NULL AND c > 0));\nCREATE TABLE m () INHERITS (p);\n"},
		{"inherited check added later", "", true, "the validated CHECK k",
			"CREATE TABLE p (c int, d int);\nCREATE TABLE m () INHERITS (p);\nALTER TABLE p ADD CONSTRAINT k CHECK (c IS NOT NULL AND c > 0);\n"},
		{"inherited check not valid", "", false, "scans the whole table",
			"CREATE TABLE p (c int, d int);\nCREATE TABLE m () INHERITS (p);\nALTER TABLE p ADD CONSTRAINT k CHECK (c IS NOT NULL AND c > 0) NOT VALID;\n"},
		{"inherited check validated", "", true, "the validated CHECK k",
			"CREATE TABLE p (c int, d int);\nCREATE TABLE m () INHERITS (p);\nALTER TABLE p ADD CONSTRAINT k CHECK (c IS NOT NULL AND c > 0) NOT VALID;\n" +
				"ALTER TABLE p VALIDATE CONSTRAINT k;\n"},
		{"inherited from the parent's parent", "", true, "the validated CHECK k",
			"CREATE TABLE g (c int, d int);\nCREATE TABLE p () INHERITS (g);\nCREATE TABLE m () INHERITS (p);\nALTER TABLE g ADD CONSTRAINT k CHECK (c IS NOT NULL AND c > 0);\n"},
		{"given by ALTER TABLE … INHERIT", "", true, "the validated CHECK k",
			"CREATE TABLE p (c int, d int);\nCREATE TABLE m (c int, d int);\nALTER TABLE m INHERIT p;\nALTER TABLE p ADD CONSTRAINT k CHECK (c IS NOT NULL AND c > 0);\n"},
		{"parent's no inherit check", "", false, "scans the whole table",
			"CREATE TABLE p (c int, d int, CONSTRAINT k CHECK (c IS NOT NULL) NO INHERIT);\nCREATE TABLE m () INHERITS (p);\n"},
		{"inherited check dropped", "", false, "scans the whole table",
			"CREATE TABLE p (c int, d int, CONSTRAINT k CHECK (c IS NOT NULL AND c > 0));\nCREATE TABLE m () INHERITS (p);\nALTER TABLE p DROP CONSTRAINT k;\n"},
		{"inherited check kept by ONLY", "", true, "the validated CHECK k",
			"CREATE TABLE p (c int, d int, CONSTRAINT k CHECK (c IS NOT NULL AND c > 0));\nCREATE TABLE m () INHERITS (p);\nALTER TABLE ONLY p DROP CONSTRAINT k;\n"},
		{"inherited check kept by NO INHERIT", "", true, "the validated CHECK k",
			"CREATE TABLE p (c int, d int, CONSTRAINT k CHECK (c IS NOT NULL AND c > 0));\nCREATE TABLE m () INHERITS (p);\nALTER TABLE m NO INHERIT p;\nALTER TABLE p DROP CONSTRAINT k;\n"},
		{"inherited check kept by the other parent", "", true, "the validated CHECK k",
			"CREATE TABLE p (c int, d int, CONSTRAINT k CHECK (c IS NOT NULL AND c > 0));\nCREATE TABLE p2 (c int, CONSTRAINT k CHECK (c IS NOT NULL AND c > 0));\n" +
				"CREATE TABLE m () INHERITS (p, p2);\nALTER TABLE p DROP CONSTRAINT k;\n"},
		{"own check merged with the parent's", "", true, "the validated CHECK k",
			"CREATE TABLE p (c int, d int);\nCREATE TABLE m (c int, CONSTRAINT k CHECK (c IS NOT NULL AND c > 0)) INHERITS (p);\n" +
				"ALTER TABLE p ADD CONSTRAINT k CHECK (c IS NOT NULL AND c > 0);\nALTER TABLE p DROP CONSTRAINT k;\n"},
		// An unnamed CHECK's name skips those of constraints of every kind: a DROP by that name drops it.
		{"named after a unique constraint, dropped", "", false, "scans the whole table",
			"CREATE TABLE items (a int CONSTRAINT m_c_check UNIQUE);\nCREATE TABLE m (c int CHECK (c IS NOT NULL), d int);\nALTER TABLE m DROP CONSTRAINT m_c_check1;\n"},
		{"named after a domain's check, dropped", "", false, "scans the whole table",
			"CREATE DOMAIN m_c AS int CHECK (VALUE > 0);\nCREATE TABLE m (c int CHECK (c IS NOT NULL), d int);\nALTER TABLE m DROP CONSTRAINT m_c_check1;\n"},
		{"renamed check", "", true, "the validated CHECK positive",
			"CREATE TABLE m (c int CHECK (c IS NOT NULL AND c > 0), d int);\nALTER TABLE m RENAME CONSTRAINT m_c_check TO positive;\n"},
		{"renamed check dropped by its new name", "", false, "scans the whole table",
			"CREATE TABLE m (c int CONSTRAINT k CHECK (c IS NOT NULL), d int);\nALTER TABLE m RENAME CONSTRAINT k TO k2;\nALTER TABLE m DROP CONSTRAINT k2;\n"},
		// PostgreSQL runs an ALTER TABLE's drops first (AT_PASS_DROP), whatever their place in it: a CHECK
		// the same statement drops, by its name or with a column it uses, proves nothing (srcs has their
		// statements).
		{"check dropped by the same statement", "CONSTRAINT k CHECK (c IS NOT NULL)", false,
			"the validated CHECK k, which proves it, is dropped by the same ALTER TABLE", ""},
		{"check dropped before it in the same statement", "CONSTRAINT k CHECK (c IS NOT NULL)", false, "is dropped by the same ALTER TABLE", ""},
		{"check dropped with another column it uses", "CONSTRAINT k CHECK (c IS NOT NULL AND d > 0)", false, "is dropped by the same ALTER TABLE", ""},
		{"another check still proves it", "", true, "the validated CHECK k2",
			"CREATE TABLE m (c int CONSTRAINT k CHECK (c IS NOT NULL), d int, CONSTRAINT k2 CHECK (c IS NOT NULL AND c > 0));\n"},
	}
	// srcs are the ALTER TABLEs of the cases that do more than SET NOT NULL.
	srcs := map[string]string{
		"check dropped by the same statement":           "ALTER TABLE m ALTER COLUMN c SET NOT NULL, DROP CONSTRAINT k;\n",
		"check dropped before it in the same statement": "ALTER TABLE m DROP CONSTRAINT k, ALTER COLUMN c SET NOT NULL;\n",
		"check dropped with another column it uses":     "ALTER TABLE m ALTER COLUMN c SET NOT NULL, DROP COLUMN d;\n",
		"another check still proves it":                 "ALTER TABLE m DROP CONSTRAINT k, ALTER COLUMN c SET NOT NULL;\n",
	}
	conn := pgtest.Conn(t)
	ctx := t.Context()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			schema := "CREATE TABLE m (c int, d int, " + strings.TrimSuffix(tt.check, " NOT VALID") + ");\n"
			if tt.schema != "" {
				schema = tt.schema
			} else if strings.HasSuffix(tt.check, " NOT VALID") {
				schema = "CREATE TABLE m (c int, d int);\nALTER TABLE m ADD " + tt.check + ";\n"
				if tt.name == "validated later" {
					schema += "ALTER TABLE m VALIDATE CONSTRAINT k;\n"
				}
			}
			src := "ALTER TABLE m ALTER COLUMN c SET NOT NULL;\n"
			if x, ok := srcs[tt.name]; ok {
				src = x
			}
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

// TestSetNotNullReachesTheTablesBelow: ALTER TABLE … SET NOT NULL without ONLY sets the column NOT NULL
// in the table's partitions and inheritance children too, and PostgreSQL scans each one that neither has
// the column NOT NULL already nor a validated CHECK that proves it. A CHECK the parent passes down
// proves them all; a NO INHERIT one proves the parent only, and the children are scanned. Each case runs
// on the server, which counts the scans of every table.
func TestSetNotNullReachesTheTablesBelow(t *testing.T) {
	tests := []struct {
		name, schema, src string
		scanned           string // the tables the server scans, "" for none
		rule, msg         string
	}{
		{"no inherit proof", "CREATE TABLE p (c int, d int, CONSTRAINT k CHECK (c IS NOT NULL) NO INHERIT);\nCREATE TABLE m () INHERITS (p);\n",
			"ALTER TABLE p ALTER COLUMN c SET NOT NULL;", "m", "set-not-null", "it scans m while holding ACCESS EXCLUSIVE"},
		{"no inherit proof, two levels", "CREATE TABLE p (c int, d int, CONSTRAINT k CHECK (c IS NOT NULL) NO INHERIT);\nCREATE TABLE m () INHERITS (p);\nCREATE TABLE g () INHERITS (m);\n",
			"ALTER TABLE p ALTER COLUMN c SET NOT NULL;", "g m", "set-not-null", "it scans g and m while holding ACCESS EXCLUSIVE"},
		{"no inherit proof, only", "CREATE TABLE p (c int, d int, CONSTRAINT k CHECK (c IS NOT NULL) NO INHERIT);\nCREATE TABLE m () INHERITS (p);\n",
			"ALTER TABLE ONLY p ALTER COLUMN c SET NOT NULL;", "", "set-not-null-proven", "proven by a validated CHECK (c IS NOT NULL)"},
		{"no inherit proof, the child's own", "CREATE TABLE p (c int, d int, CONSTRAINT k CHECK (c IS NOT NULL) NO INHERIT);\nCREATE TABLE m (CONSTRAINT k2 CHECK (c IS NOT NULL AND c > 0)) INHERITS (p);\n",
			"ALTER TABLE p ALTER COLUMN c SET NOT NULL;", "", "set-not-null-proven", "proven by a validated CHECK (c IS NOT NULL)"},
		{"no inherit proof, the child's column not null", "CREATE TABLE p (c int, d int, CONSTRAINT k CHECK (c IS NOT NULL) NO INHERIT);\nCREATE TABLE m (c int NOT NULL) INHERITS (p);\n",
			"ALTER TABLE p ALTER COLUMN c SET NOT NULL;", "", "set-not-null-proven", "proven by a validated CHECK (c IS NOT NULL)"},
		{"inherited proof", "CREATE TABLE p (c int, d int, CONSTRAINT k CHECK (c IS NOT NULL));\nCREATE TABLE m () INHERITS (p);\nCREATE TABLE g () INHERITS (m);\n",
			"ALTER TABLE p ALTER COLUMN c SET NOT NULL;", "", "set-not-null-proven", "proven by a validated CHECK (c IS NOT NULL)"},
		{"partitions", "CREATE TABLE p (c int, d int, CONSTRAINT k CHECK (c IS NOT NULL)) PARTITION BY RANGE (d);\nCREATE TABLE m PARTITION OF p FOR VALUES FROM (1) TO (10);\n",
			"ALTER TABLE p ALTER COLUMN c SET NOT NULL;", "", "set-not-null-proven", "proven by a validated CHECK (c IS NOT NULL)"},
	}
	conn := pgtest.Conn(t)
	ctx := t.Context()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inRolledBackTx(t, conn, tt.schema)
			// A row in every table (but a partitioned one, which has no rows of its own).
			const tables = `SELECT c.relname::text FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') ORDER BY 1`
			rows, err := conn.Query(ctx, tables)
			if err != nil {
				t.Fatal(err)
			}
			names, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Exec(ctx, "INSERT INTO p VALUES (1, 1)"); err != nil {
				t.Fatal(err)
			}
			for _, n := range names {
				if n != "p" {
					if _, err := conn.Exec(ctx, "INSERT INTO "+n+" (c, d) VALUES (1, 1)"); err != nil {
						t.Fatal(err)
					}
				}
			}
			scans := func() map[string]int64 {
				out := map[string]int64{}
				for _, n := range names {
					var c int64
					if err := conn.QueryRow(ctx, "SELECT pg_stat_get_xact_numscans($1::regclass)", n).Scan(&c); err != nil {
						t.Fatal(err)
					}
					out[n] = c
				}
				return out
			}
			before := scans()
			if _, err := conn.Exec(ctx, tt.src); err != nil {
				t.Fatal(err)
			}
			var scanned []string
			for n, c := range scans() {
				if c > before[n] {
					scanned = append(scanned, n)
				}
			}
			slices.Sort(scanned)
			if got := strings.Join(scanned, " "); got != tt.scanned {
				t.Fatalf("the server scanned %q, want %q: the case is wrong", got, tt.scanned)
			}
			fs := AnalyzeScript(script(tt.src+"\n"), true, Config{Schema: tt.schema})
			if f := find(fs, tt.rule); f == nil || !strings.Contains(f.Message, tt.msg) {
				t.Errorf("%s: %+v, want one saying %q (all: %v)", tt.rule, f, tt.msg, rulesOf(fs))
			}
			if tt.rule == "set-not-null-proven" && find(fs, "set-not-null") != nil {
				t.Errorf("set-not-null raised too: %s", find(fs, "set-not-null").Message)
			}
		})
	}
}

// TestSetNotNullOfAddedColumn: SET NOT NULL of a column the migration added to a pre-existing table, in a
// later statement or in the same ALTER TABLE, is told to go into the ADD COLUMN, written with the
// column's type and DEFAULT as the migration has them. Each case runs on the server, on a table of 100
// rows, which counts the scans and rewrites of the table (or refuses the migration), and so does the
// ADD COLUMN the suggestion gives: with a non-volatile DEFAULT it scans nothing, and lint rates it safe;
// with a volatile one its rewrite reads the table once, where ADD COLUMN then SET NOT NULL read it twice,
// and a SET NOT NULL in the same ALTER TABLE as such an ADD COLUMN reads it no more than the rewrite does.
// Without a DEFAULT every row holds NULL and SET NOT NULL fails. A column the table had before, or one a
// statement between may have filled or changed, keeps the CHECK NOT VALID → VALIDATE → SET NOT NULL advice.
func TestSetNotNullOfAddedColumn(t *testing.T) {
	const items = "CREATE TABLE items (id int);\n"
	tests := []struct {
		name, schema, src string
		perStatement      bool // each statement a transaction of its own (as psql runs a plain folder)
		scans             int  // the scans of items the server counts for src, the rewrites' reads included
		rewrites, fails   bool // src rewrites items; the server refuses src (a NULL in the column)
		rule, msg         string
		suggestion        string // part of the suggestion
		fix               string // the ADD COLUMN the suggestion gives, "" for none
		fixScans          int    // the scans of items the server counts for fix
	}{
		{name: "later statement", src: "ALTER TABLE items ADD COLUMN flag int DEFAULT 0;\nALTER TABLE items ALTER COLUMN flag SET NOT NULL;\n", scans: 1,
			rule: "set-not-null", msg: "scans the whole table while holding ACCESS EXCLUSIVE, though the ADD COLUMN of line 1 gave every row its DEFAULT",
			suggestion: "drop the SET NOT NULL and write NOT NULL in the ADD COLUMN", fix: "ALTER TABLE items ADD COLUMN flag int NOT NULL DEFAULT 0;"},
		{name: "later transaction", perStatement: true, src: "ALTER TABLE items ADD COLUMN flag int DEFAULT 0;\nALTER TABLE items ALTER COLUMN flag SET NOT NULL;\n", scans: 1,
			rule: "set-not-null", msg: "though the ADD COLUMN of line 1 gave every row its DEFAULT", fix: "ALTER TABLE items ADD COLUMN flag int NOT NULL DEFAULT 0;"},
		{name: "same statement", src: "ALTER TABLE items ADD COLUMN flag int DEFAULT 0, ALTER COLUMN flag SET NOT NULL;\n", scans: 1,
			rule: "set-not-null", msg: "though the ADD COLUMN of this statement gave every row its DEFAULT", fix: "ALTER TABLE items ADD COLUMN flag int NOT NULL DEFAULT 0;"},
		{name: "stable default", src: "ALTER TABLE items ADD COLUMN seen timestamptz DEFAULT now();\nALTER TABLE items ALTER COLUMN seen SET NOT NULL;\n", scans: 1,
			rule: "set-not-null", msg: "gave every row its DEFAULT", fix: "ALTER TABLE items ADD COLUMN seen timestamptz NOT NULL DEFAULT now();"},
		{name: "as written", src: "ALTER TABLE public.items ADD COLUMN \"Price\" numeric(10,2) -- in euros\n  DEFAULT 1.5, ALTER COLUMN \"Price\" SET NOT NULL;\n", scans: 1,
			rule: "set-not-null", msg: "gave every row its DEFAULT", fix: "ALTER TABLE public.items ADD COLUMN \"Price\" numeric(10,2) NOT NULL DEFAULT 1.5;"},
		// A CHECK of the column has the table scanned, in the pass SET NOT NULL's check shares when it
		// is in the same ALTER TABLE.
		{name: "column check", src: "ALTER TABLE items ADD COLUMN flag int DEFAULT 0 CHECK (flag >= 0);\nALTER TABLE items ALTER COLUMN flag SET NOT NULL;\n", scans: 2,
			rule: "set-not-null", msg: "after the ADD COLUMN of line 1 scanned it for its CHECK: NOT NULL written in that ADD COLUMN is checked in its scan",
			suggestion: "The scan stays", fix: "ALTER TABLE items ADD COLUMN flag int NOT NULL DEFAULT 0 CHECK (flag >= 0);", fixScans: 1},
		{name: "column check, same statement", src: "ALTER TABLE items ADD COLUMN flag int DEFAULT 0 CHECK (flag >= 0), ALTER COLUMN flag SET NOT NULL;\n", scans: 1,
			rule: "set-not-null-proven", msg: "is checked row by row in the scan the ADD COLUMN of this statement makes for its CHECK"},
		{name: "explicit NULL", src: "ALTER TABLE items ADD COLUMN flag int NULL DEFAULT 0;\nALTER TABLE items ALTER COLUMN flag SET NOT NULL;\n", scans: 1,
			rule: "set-not-null", msg: "gave every row its DEFAULT", fix: "ALTER TABLE items ADD COLUMN flag int NOT NULL DEFAULT 0;"},
		// NOT NULL takes the NULL constraint's place, wherever it stands, and is not written again before
		// the first constraint.
		{name: "explicit NULL after the default", src: "ALTER TABLE items ADD COLUMN arr int[] DEFAULT '{}' NULL;\nALTER TABLE items ALTER COLUMN arr SET NOT NULL;\n", scans: 1,
			rule: "set-not-null", msg: "gave every row its DEFAULT", fix: "ALTER TABLE items ADD COLUMN arr int[] DEFAULT '{}' NOT NULL;"},
		{name: "volatile default", src: "ALTER TABLE items ADD COLUMN seen timestamptz DEFAULT clock_timestamp();\nALTER TABLE items ALTER COLUMN seen SET NOT NULL;\n", scans: 2, rewrites: true,
			rule: "set-not-null", msg: "after the ADD COLUMN of line 1 rewrote it for its volatile DEFAULT clock_timestamp(): NOT NULL written in that ADD COLUMN is checked in its rewrite",
			suggestion: "one pass over the table instead of two. The rewrite stays", fix: "ALTER TABLE items ADD COLUMN seen timestamptz NOT NULL DEFAULT clock_timestamp();", fixScans: 1},
		{name: "volatile default, same statement", src: "ALTER TABLE items ADD COLUMN seen timestamptz DEFAULT clock_timestamp(), ALTER COLUMN seen SET NOT NULL;\n", scans: 1, rewrites: true,
			rule: "set-not-null-proven", msg: "is checked row by row in the rewrite the ADD COLUMN of this statement makes for its volatile DEFAULT clock_timestamp(): no scan of its own"},
		{name: "generated", src: "ALTER TABLE items ADD COLUMN twice int GENERATED ALWAYS AS (id * 2) STORED;\nALTER TABLE items ALTER COLUMN twice SET NOT NULL;\n", scans: 2, rewrites: true,
			rule: "set-not-null", msg: "after the ADD COLUMN of line 1 rewrote it for its GENERATED … STORED expression",
			fix: "ALTER TABLE items ADD COLUMN twice int NOT NULL GENERATED ALWAYS AS (id * 2) STORED;", fixScans: 1},
		{name: "generated, same statement", src: "ALTER TABLE items ADD COLUMN twice int GENERATED ALWAYS AS (id * 2) STORED, ALTER COLUMN twice SET NOT NULL;\n", scans: 1, rewrites: true,
			rule: "set-not-null-proven", msg: "is checked row by row in the rewrite the ADD COLUMN of this statement makes for its GENERATED … STORED expression"},
		{name: "constrained domain", schema: items + "CREATE DOMAIN posint AS int CHECK (VALUE > 0);\n",
			src: "ALTER TABLE items ADD COLUMN n posint DEFAULT 1;\nALTER TABLE items ALTER COLUMN n SET NOT NULL;\n", scans: 2, rewrites: true,
			rule: "set-not-null", msg: "after the ADD COLUMN of line 1 rewrote it for the constraints of its domain posint",
			fix: "ALTER TABLE items ADD COLUMN n posint NOT NULL DEFAULT 1;", fixScans: 1},
		{name: "constrained domain, same statement", schema: items + "CREATE DOMAIN posint AS int CHECK (VALUE > 0);\n",
			src: "ALTER TABLE items ADD COLUMN n posint DEFAULT 1, ALTER COLUMN n SET NOT NULL;\n", scans: 1, rewrites: true,
			rule: "set-not-null-proven", msg: "in the rewrite the ADD COLUMN of this statement makes for the constraints of its domain posint"},
		{name: "no default", src: "ALTER TABLE items ADD COLUMN flag int;\nALTER TABLE items ALTER COLUMN flag SET NOT NULL;\n", fails: true,
			rule: "set-not-null", msg: "fails on a table that has rows: the ADD COLUMN of line 1 adds flag without a DEFAULT, so every row holds NULL in it",
			suggestion: "ALTER TABLE items ADD COLUMN flag int NOT NULL DEFAULT <value>;"},
		{name: "no default, same statement", src: "ALTER TABLE items ADD COLUMN flag int, ALTER COLUMN flag SET NOT NULL;\n", fails: true,
			rule: "set-not-null", msg: "fails on a table that has rows: the ADD COLUMN of this statement adds flag without a DEFAULT"},
		{name: "no default, column check, same statement", src: "ALTER TABLE items ADD COLUMN flag int CHECK (flag > 0), ALTER COLUMN flag SET NOT NULL;\n", fails: true,
			rule: "set-not-null", msg: "fails on a table that has rows: the ADD COLUMN of this statement adds flag without a DEFAULT"},
		{name: "default null", src: "ALTER TABLE items ADD COLUMN flag int DEFAULT NULL;\nALTER TABLE items ALTER COLUMN flag SET NOT NULL;\n", fails: true,
			rule: "set-not-null", msg: "fails on a table that has rows", suggestion: "ALTER TABLE items ADD COLUMN flag int NOT NULL DEFAULT <value>;"},
		{name: "default set afterwards", src: "ALTER TABLE items ADD COLUMN flag int;\nALTER TABLE items ALTER COLUMN flag SET DEFAULT 0;\nALTER TABLE items ALTER COLUMN flag SET NOT NULL;\n", fails: true,
			rule: "set-not-null", msg: "fails on a table that has rows"},
		{name: "filled by an update", src: "ALTER TABLE items ADD COLUMN flag int;\nUPDATE items SET flag = id;\nALTER TABLE items ALTER COLUMN flag SET NOT NULL;\n", scans: 2,
			rule: "set-not-null", msg: "SET NOT NULL on items.flag scans the whole table while holding ACCESS EXCLUSIVE", suggestion: "CHECK (flag IS NOT NULL) NOT VALID"},
		{name: "type changed between", src: "ALTER TABLE items ADD COLUMN flag int DEFAULT 0;\nALTER TABLE items ALTER COLUMN flag TYPE bigint;\nALTER TABLE items ALTER COLUMN flag SET NOT NULL;\n", scans: 2, rewrites: true,
			rule: "set-not-null", msg: "SET NOT NULL on items.flag scans the whole table while holding ACCESS EXCLUSIVE", suggestion: "CHECK (flag IS NOT NULL) NOT VALID"},
		{name: "column of the table before", schema: "CREATE TABLE items (id int, flag int DEFAULT 0);\n", src: "ALTER TABLE items ALTER COLUMN flag SET NOT NULL;\n", scans: 1,
			rule: "set-not-null", msg: "SET NOT NULL on items.flag scans the whole table while holding ACCESS EXCLUSIVE", suggestion: "CHECK (flag IS NOT NULL) NOT VALID"},
		{name: "if not exists of a column it has", schema: "CREATE TABLE items (id int, flag int);\n",
			src: "ALTER TABLE items ADD COLUMN IF NOT EXISTS flag int DEFAULT 0;\nALTER TABLE items ALTER COLUMN flag SET NOT NULL;\n", fails: true,
			rule: "set-not-null", msg: "SET NOT NULL on items.flag scans the whole table while holding ACCESS EXCLUSIVE", suggestion: "CHECK (flag IS NOT NULL) NOT VALID"},
	}
	conn := pgtest.Conn(t)
	ctx := t.Context()
	// run runs sql on items of 100 rows (id only) in a transaction it rolls back, and tells how many
	// times the server scanned items, whether it rewrote it, and its error.
	run := func(t *testing.T, schema, sql string) (scans int64, rewrote bool, err error) {
		t.Helper()
		if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
			t.Fatal(err)
		}
		defer conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
		if _, err := conn.Exec(ctx, schema+"INSERT INTO items (id) SELECT g FROM generate_series(1, 100) g;"); err != nil {
			t.Fatal(err)
		}
		const read = "SELECT pg_stat_get_xact_numscans('items'::regclass), pg_relation_filenode('items')"
		var before, after int64
		var node, node2 uint32
		if err := conn.QueryRow(ctx, read).Scan(&before, &node); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, sql); err != nil {
			return 0, false, err
		}
		if err := conn.QueryRow(ctx, read).Scan(&after, &node2); err != nil {
			t.Fatal(err)
		}
		return after - before, node2 != node, nil
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			schema := items
			if tt.schema != "" {
				schema = tt.schema
			}
			scans, rewrote, err := run(t, schema, tt.src)
			switch {
			case tt.fails:
				if !strings.Contains(fmt.Sprint(err), "contains null values") {
					t.Fatalf("the server: %v, want it to refuse the NULLs: the case is wrong", err)
				}
			case err != nil:
				t.Fatalf("the server: %v: the case is wrong", err)
			case scans != int64(tt.scans) || rewrote != tt.rewrites:
				t.Fatalf("the server scanned items %d times, rewrote it: %v; want %d, %v: the case is wrong", scans, rewrote, tt.scans, tt.rewrites)
			}
			fs := AnalyzeScript(script(tt.src), !tt.perStatement, Config{Schema: schema})
			f := find(fs, tt.rule)
			if f == nil || !strings.Contains(f.Message, tt.msg) || !strings.Contains(f.Suggestion, tt.suggestion) || !strings.Contains(f.Suggestion, tt.fix) {
				t.Fatalf("%s: %+v, want one saying %q, suggesting %q %q (all: %v)", tt.rule, f, tt.msg, tt.suggestion, tt.fix, rulesOf(fs))
			}
			if tt.rule == "set-not-null-proven" && find(fs, "set-not-null") != nil {
				t.Errorf("set-not-null raised too: %s", find(fs, "set-not-null").Message)
			}
			if tt.fix == "" {
				return
			}
			scans, rewrote, err = run(t, schema, tt.fix)
			if err != nil || scans != int64(tt.fixScans) || rewrote != tt.rewrites {
				t.Errorf("the suggested %s: scanned items %d times, rewrote it: %v, error %v; want %d, %v", tt.fix, scans, rewrote, err, tt.fixScans, tt.rewrites)
			}
			fixed := AnalyzeScript(script(tt.fix+"\n"), true, Config{Schema: schema})
			if f := find(fixed, "set-not-null"); f != nil {
				t.Errorf("the suggested %s: %s", tt.fix, f.Message)
			}
			if !tt.rewrites {
				if f := find(fixed, "add-column-default-nonvolatile"); f == nil || f.Risk != Safe {
					t.Errorf("the suggested %s: %+v, want a safe add-column-default-nonvolatile (all: %v)", tt.fix, f, rulesOf(fixed))
				}
			}
		})
	}
}

// TestSetNotNullOfAddedColumnBefore11: before PostgreSQL 11 any DEFAULT of ADD COLUMN is written into
// every row, so SET NOT NULL in a later statement reads the table a second time, and in the same ALTER
// TABLE costs nothing more than the rewrite.
func TestSetNotNullOfAddedColumnBefore11(t *testing.T) {
	t.Parallel()
	cfg := Config{PGVersion: 10, Schema: "CREATE TABLE items (id int);\n"}
	fs := AnalyzeScript(script("ALTER TABLE items ADD COLUMN flag int DEFAULT 0;\nALTER TABLE items ALTER COLUMN flag SET NOT NULL;\n"), true, cfg)
	if f := find(fs, "set-not-null"); f == nil || !strings.Contains(f.Message, "rewrote it for its DEFAULT, which PostgreSQL 10 stores in every row") ||
		!strings.Contains(f.Suggestion, "ALTER TABLE items ADD COLUMN flag int NOT NULL DEFAULT 0; one pass over the table instead of two") {
		t.Errorf("set-not-null: %+v (all: %v)", f, rulesOf(fs))
	}
	fs = AnalyzeScript(script("ALTER TABLE items ADD COLUMN flag int DEFAULT 0, ALTER COLUMN flag SET NOT NULL;\n"), true, cfg)
	if f := find(fs, "set-not-null-proven"); f == nil || find(fs, "set-not-null") != nil {
		t.Errorf("set-not-null-proven: %+v (all: %v)", f, rulesOf(fs))
	}
}
