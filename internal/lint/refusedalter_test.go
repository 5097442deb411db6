package lint

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestConstraintUsingIndexRefusedMatchesServer: ADD CONSTRAINT … UNIQUE or PRIMARY KEY USING INDEX of an
// index PostgreSQL will not take over (not unique, not a btree, on an expression, partial, or a column
// in another sort order) fails, and lint says so (dangerous constraint-using-index, lock "— (ERROR)",
// naming PostgreSQL's reason), where it said "no build or scan"; a plain unique index, with INCLUDE
// columns too, stays safe. Each case runs on the server first.
func TestConstraintUsingIndexRefusedMatchesServer(t *testing.T) {
	conn := pgtest.Conn(t)
	ctx := t.Context()
	for _, tt := range []struct {
		index, kind string
		refused     string // part of PostgreSQL's error, "" when it takes the index
	}{
		{"CREATE UNIQUE INDEX u_ix ON u (lower(email))", "UNIQUE", "contains expressions"},
		{"CREATE UNIQUE INDEX u_ix ON u (email) WHERE email <> ''", "UNIQUE", "is a partial index"},
		{"CREATE UNIQUE INDEX u_ix ON u (email DESC)", "UNIQUE", "does not have default sorting behavior"},
		{"CREATE UNIQUE INDEX u_ix ON u (id, email NULLS FIRST)", "UNIQUE", "column number 2 does not have default sorting behavior"},
		{"CREATE INDEX u_ix ON u (email)", "UNIQUE", "is not a unique index"},
		{"CREATE INDEX u_ix ON u USING hash (email)", "UNIQUE", "is not a unique index"},
		{"CREATE UNIQUE INDEX u_ix ON u (id) WHERE id > 0", "PRIMARY KEY", "is a partial index"},
		{"CREATE UNIQUE INDEX u_ix ON u (email)", "UNIQUE", ""},
		{"CREATE UNIQUE INDEX u_ix ON u (email) INCLUDE (id)", "UNIQUE", ""},
		{"CREATE UNIQUE INDEX u_ix ON u (email ASC NULLS LAST)", "UNIQUE", ""},
		{"CREATE UNIQUE INDEX u_ix ON u (id)", "PRIMARY KEY", ""},
	} {
		t.Run(tt.index, func(t *testing.T) {
			schema := "CREATE TABLE u (id bigint NOT NULL, email text);\n" + tt.index + ";\n"
			src := "ALTER TABLE u ADD CONSTRAINT u_key " + tt.kind + " USING INDEX u_ix;\n"
			if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
				t.Fatal(err)
			}
			_, err := conn.Exec(ctx, schema+src)
			if _, rerr := conn.Exec(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
				t.Fatal(rerr)
			}
			if (err != nil) != (tt.refused != "") || err != nil && !strings.Contains(err.Error(), tt.refused) {
				t.Fatalf("on the server: %v, want an error saying %q: the case is wrong", err, tt.refused)
			}
			fs := AnalyzeScript(script(src), true, Config{Schema: schema})
			f := find(fs, "constraint-using-index")
			switch {
			case f == nil:
				t.Errorf("no constraint-using-index (all: %v)", rulesOf(fs))
			case tt.refused != "" && (f.Risk != Dangerous || f.Lock != "— (ERROR)" || !strings.Contains(f.Message, tt.refused)):
				t.Errorf("%s %s (lock %s), want dangerous, failing, saying %q", f.Risk, f.Message, f.Lock, tt.refused)
			case tt.refused == "" && f.Risk != Safe:
				t.Errorf("%s %s, want safe", f.Risk, f.Message)
			}
		})
	}
}

// TestForeignKeyLockWithAnotherSubcommand: ADD FOREIGN KEY in an ALTER TABLE whose other subcommand
// (here ADD COLUMN) takes ACCESS EXCLUSIVE validates under that lock, which the server shows, and
// add-foreign-key says so, where it said SHARE ROW EXCLUSIVE on both; alone it keeps saying that.
func TestForeignKeyLockWithAnotherSubcommand(t *testing.T) {
	const schema = "CREATE TABLE u (id bigint PRIMARY KEY);\nCREATE TABLE t (id bigint PRIMARY KEY);\n"
	const combined = "ALTER TABLE t ADD COLUMN u_id bigint, ADD CONSTRAINT t_u_fk FOREIGN KEY (u_id) REFERENCES u (id);\n"
	conn := pgtest.Conn(t)
	ctx := t.Context()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // the test only looks
	if _, err := tx.Exec(ctx, schema+combined); err != nil {
		t.Fatal(err)
	}
	var modes []string
	if err := tx.QueryRow(ctx, `SELECT array_agg(mode ORDER BY mode) FROM pg_locks WHERE pid = pg_backend_pid() AND relation = 't'::regclass`).Scan(&modes); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(modes, "AccessExclusiveLock") {
		t.Fatalf("the ALTER TABLE holds %v on t, want AccessExclusiveLock: the case is wrong", modes)
	}
	for src, want := range map[string]string{
		combined: "while holding ACCESS EXCLUSIVE on t, which another subcommand of this ALTER TABLE takes (reads and writes blocked), and SHARE ROW EXCLUSIVE on u",
		"ALTER TABLE t ADD CONSTRAINT t_u_fk FOREIGN KEY (id) REFERENCES u (id);\n": "while holding SHARE ROW EXCLUSIVE on both (writes blocked)",
	} {
		f := find(AnalyzeScript(script(src), true, Config{Schema: schema}), "add-foreign-key")
		if f == nil || !strings.Contains(f.Message, want) {
			t.Errorf("%s: add-foreign-key %+v, want one saying %q", src, f, want)
		}
	}
}

// TestAddIdentityOnNullableColumnMatchesServer: ADD GENERATED … AS IDENTITY on a nullable column fails
// (dangerous, lock "— (ERROR)"), unless the same ALTER TABLE sets it NOT NULL, before or after; on a
// NOT NULL column it is the usual caution. Each case runs on the server first.
func TestAddIdentityOnNullableColumnMatchesServer(t *testing.T) {
	const schema = "CREATE TABLE t (id bigint PRIMARY KEY, a int, b int NOT NULL);\n"
	conn := pgtest.Conn(t)
	ctx := t.Context()
	for _, tt := range []struct {
		src   string
		fails bool
	}{
		{"ALTER TABLE t ALTER COLUMN a ADD GENERATED ALWAYS AS IDENTITY;\n", true},
		{"ALTER TABLE t ALTER COLUMN b ADD GENERATED BY DEFAULT AS IDENTITY;\n", false},
		{"ALTER TABLE t ALTER COLUMN a SET NOT NULL, ALTER COLUMN a ADD GENERATED ALWAYS AS IDENTITY;\n", false},
		{"ALTER TABLE t ALTER COLUMN a ADD GENERATED ALWAYS AS IDENTITY, ALTER COLUMN a SET NOT NULL;\n", false},
	} {
		t.Run(tt.src, func(t *testing.T) {
			if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
				t.Fatal(err)
			}
			_, err := conn.Exec(ctx, schema+tt.src)
			if _, rerr := conn.Exec(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
				t.Fatal(rerr)
			}
			if (err != nil) != tt.fails {
				t.Fatalf("on the server: %v, want failing %v: the case is wrong", err, tt.fails)
			}
			fs := AnalyzeScript(script(tt.src), true, Config{Schema: schema})
			f := find(fs, "add-identity-existing-column")
			switch {
			case f == nil:
				t.Errorf("no add-identity-existing-column (all: %v)", rulesOf(fs))
			case tt.fails && (f.Risk != Dangerous || f.Lock != "— (ERROR)" || !strings.Contains(f.Message, "must be declared NOT NULL")):
				t.Errorf("%s %s (lock %s), want dangerous and failing", f.Risk, f.Message, f.Lock)
			case !tt.fails && f.Risk != Caution:
				t.Errorf("%s %s, want caution", f.Risk, f.Message)
			}
		})
	}
}
