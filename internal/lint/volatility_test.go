package lint

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// notOnServer are the names of volatileFuncs and stableFuncs that the test server's pg_proc may lack,
// each with why: functions of other PostgreSQL versions or of extensions not installed, and words the
// parser turns into calls of other functions.
var notOnServer = map[string]string{
	"uuidv4": "PostgreSQL 18", "uuidv7": "PostgreSQL 18", "random_normal": "PostgreSQL 16",
	"uuid_generate_v7": "the pg_uuidv7 extension",
	"uuid_generate_v1": "the uuid-ossp extension", "uuid_generate_v1mc": "the uuid-ossp extension", "uuid_generate_v4": "the uuid-ossp extension",
	"gen_random_bytes": "the pgcrypto extension",
	"trim":             "TRIM(…) is parsed as btrim, ltrim or rtrim",
}

// TestFuncVolatilityMatchesServer: every function volatileFuncs names is volatile in the server's
// pg_proc (provolatile 'v', every overload), and none stableFuncs names is, so that the lists cannot
// drift from PostgreSQL's: txid_current() and pg_current_xact_id() are stable, and a DEFAULT calling
// them is a fast default, not a rewrite. The extensions the lists know are installed first when the
// server has them.
func TestFuncVolatilityMatchesServer(t *testing.T) {
	conn := pgtest.Conn(t)
	ctx := t.Context()
	for _, ext := range []string{"uuid-ossp", "pgcrypto"} {
		if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS "`+ext+`"`); err != nil {
			t.Logf("extension %s: %v", ext, err)
		}
	}
	names := slices.Sorted(maps.Keys(volatileFuncs))
	names = append(names, slices.Sorted(maps.Keys(stableFuncs))...)
	rows, err := conn.Query(ctx, `SELECT proname::text, array_agg(DISTINCT provolatile::text ORDER BY provolatile::text)
		FROM pg_proc WHERE proname = ANY($1) GROUP BY proname`, names)
	if err != nil {
		t.Fatal(err)
	}
	server := map[string][]string{}
	for rows.Next() {
		var name string
		var kinds []string
		if err := rows.Scan(&name, &kinds); err != nil {
			t.Fatal(err)
		}
		server[name] = kinds
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		kinds, ok := server[name]
		switch {
		case !ok && notOnServer[name] != "":
			t.Logf("%s is not in the server's pg_proc (%s)", name, notOnServer[name])
		case !ok:
			t.Errorf("%s is not in the server's pg_proc: no function to judge the volatility of", name)
		case volatileFuncs[name] && !slices.Equal(kinds, []string{"v"}):
			t.Errorf("volatileFuncs has %s, whose provolatile on the server is %v, not only 'v'", name, kinds)
		case stableFuncs[name] && slices.Contains(kinds, "v"):
			t.Errorf("stableFuncs has %s, which the server has volatile (provolatile %v)", name, kinds)
		}
		if volatileFuncs[name] && stableFuncs[name] {
			t.Errorf("%s is in both volatileFuncs and stableFuncs", name)
		}
	}
}

// defaultVerdict is what the static analysis says of the DEFAULT of the ADD COLUMN on line: "rewrite"
// (add-column-volatile-default), "fast" (add-column-default-nonvolatile, safe) or "unknown"
// (add-column-default-nonvolatile, caution: the rehearsal's trace decides).
func defaultVerdict(t *testing.T, fs []Finding, line int) string {
	t.Helper()
	var got []string
	for _, f := range fs {
		switch {
		case f.Line != line:
		case f.Rule == "add-column-volatile-default":
			got = append(got, "rewrite")
		case f.Rule == "add-column-default-nonvolatile" && f.Risk == Caution:
			got = append(got, "unknown")
		case f.Rule == "add-column-default-nonvolatile" && f.Risk == Safe:
			got = append(got, "fast")
		}
	}
	if len(got) != 1 {
		t.Fatalf("line %d: DEFAULT findings %v, want one: %v", line, got, fs)
	}
	return got[0]
}

// TestUserFunctionDefaultMatchesServer: ADD COLUMN … DEFAULT calling a function the linter has seen
// created is judged by the function's declared volatility, VOLATILE unless it says STABLE or IMMUTABLE,
// and the server agrees (a new relfilenode is a rewrite): a volatile function rewrites the table, a
// stable or immutable one does not; a LANGUAGE sql function PostgreSQL inlines (one SELECT of an
// expression, no FROM, not SECURITY DEFINER or SET …) is as volatile as its body.
func TestUserFunctionDefaultMatchesServer(t *testing.T) {
	schema := "CREATE TABLE t (id int PRIMARY KEY);\nCREATE TABLE codes (code text);\n"
	tests := []struct {
		name  string
		funcs string // statements before the ALTER TABLE, one a line
		def   string
	}{
		{"plpgsql without volatility", "CREATE FUNCTION gen_code() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'x'; END $$;", "gen_code()"},
		{"plpgsql VOLATILE, schema-qualified call", "CREATE FUNCTION gen_code() RETURNS text LANGUAGE plpgsql VOLATILE AS $$ BEGIN RETURN 'x'; END $$;", "public.gen_code()"},
		{"plpgsql STABLE", "CREATE FUNCTION gen_code() RETURNS text LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN 'x'; END $$;", "gen_code()"},
		{"plpgsql IMMUTABLE in an expression", "CREATE FUNCTION gen_code() RETURNS text IMMUTABLE LANGUAGE plpgsql AS $$ BEGIN RETURN 'x'; END $$;", "gen_code() || 'y'"},
		{"sql with FROM", "CREATE FUNCTION gen_code() RETURNS text LANGUAGE sql AS $$ SELECT code FROM codes LIMIT 1 $$;", "gen_code()"},
		{"sql SECURITY DEFINER", "CREATE FUNCTION gen_code() RETURNS text LANGUAGE sql SECURITY DEFINER AS $$ SELECT 'x' $$;", "gen_code()"},
		{"sql with SET", "CREATE FUNCTION gen_code() RETURNS text LANGUAGE sql SET search_path = public AS $$ SELECT 'x' $$;", "gen_code()"},
		{"sql inlined, constant", "CREATE FUNCTION gen_code() RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$;", "gen_code()"},
		{"sql inlined, argument", "CREATE FUNCTION gen_code(n int) RETURNS text LANGUAGE sql AS $$ SELECT 'x' || n $$;", "gen_code(3)"},
		{"sql inlined, volatile body", "CREATE FUNCTION gen_code() RETURNS text LANGUAGE sql AS $$ SELECT md5(random()::text) $$;", "gen_code()"},
		{"sql inlined, stable body", "CREATE FUNCTION gen_code() RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT now()::text $$;", "gen_code()"},
		{"sql RETURN", "CREATE FUNCTION gen_code() RETURNS text LANGUAGE sql RETURN 'x';", "gen_code()"},
		{"sql RETURN, volatile", "CREATE FUNCTION gen_code() RETURNS text LANGUAGE sql RETURN random()::text;", "gen_code()"},
		{"sql inlined, calls a volatile function",
			"CREATE FUNCTION gen_p() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'x'; END $$;\nCREATE FUNCTION gen_code() RETURNS text LANGUAGE sql AS $$ SELECT gen_p() $$;", "gen_code()"},
		{"ALTER FUNCTION … STABLE",
			"CREATE FUNCTION gen_code() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'x'; END $$;\nALTER FUNCTION gen_code() STABLE;", "gen_code()"},
		{"CREATE OR REPLACE … VOLATILE",
			"CREATE FUNCTION gen_code() RETURNS text LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN 'x'; END $$;\nCREATE OR REPLACE FUNCTION gen_code() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'y'; END $$;", "gen_code()"},
	}
	conn := pgtest.Conn(t)
	ctx := t.Context()
	if _, err := conn.Exec(ctx, schema+"INSERT INTO t VALUES (1); INSERT INTO codes VALUES ('x');"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alter := fmt.Sprintf("ALTER TABLE t ADD COLUMN code text DEFAULT %s;", tt.def)
			src := tt.funcs + "\n" + alter + "\n"
			tx, err := conn.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(context.Background())
			var before, after uint32
			if _, err := tx.Exec(ctx, tt.funcs); err != nil {
				t.Fatal(err)
			}
			if err := tx.QueryRow(ctx, "SELECT relfilenode FROM pg_class WHERE oid = 't'::regclass").Scan(&before); err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(ctx, alter); err != nil {
				t.Fatal(err)
			}
			if err := tx.QueryRow(ctx, "SELECT relfilenode FROM pg_class WHERE oid = 't'::regclass").Scan(&after); err != nil {
				t.Fatal(err)
			}
			want := "fast"
			if before != after {
				want = "rewrite"
			}
			line := strings.Count(src, "\n")
			if got := defaultVerdict(t, AnalyzeScript(script(src), true, Config{Schema: schema}), line); got != want {
				t.Errorf("static analysis says %s, the server did %s", got, want)
			}
		})
	}
}

// TestBuiltinDefaultMatchesServer: ADD COLUMN … DEFAULT calling a built-in function is judged as the
// server does it (a new relfilenode is a rewrite): the session and server information functions
// (pg_backend_pid(), current_database(), version(), inet_client_addr()…) are stable, a fast default,
// where the parser did not know them and left the rehearsal's trace to decide.
func TestBuiltinDefaultMatchesServer(t *testing.T) {
	schema := "CREATE TABLE t (id int PRIMARY KEY);\n"
	defaults := []string{
		"pg_backend_pid()", "current_database()", "current_schema()", "current_schemas(true)::text", "version()",
		"inet_client_addr()::text", "inet_client_port()", "inet_server_addr()::text", "inet_server_port()",
		"pg_postmaster_start_time()::text", "pg_conf_load_time()::text", "pg_my_temp_schema()::text",
		"pg_current_snapshot()::text", "txid_current_snapshot()::text", "pg_current_xact_id_if_assigned()::text",
		"txid_current_if_assigned()::text", "pg_trigger_depth()",
		"clock_timestamp()::text", "now()::text",
	}
	conn := pgtest.Conn(t)
	ctx := t.Context()
	if _, err := conn.Exec(ctx, schema+"INSERT INTO t VALUES (1);"); err != nil {
		t.Fatal(err)
	}
	for _, def := range defaults {
		t.Run(def, func(t *testing.T) {
			alter := fmt.Sprintf("ALTER TABLE t ADD COLUMN c text DEFAULT %s;", def)
			tx, err := conn.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(context.Background())
			var before, after uint32
			const fileNode = "SELECT relfilenode FROM pg_class WHERE oid = 't'::regclass"
			if err := tx.QueryRow(ctx, fileNode).Scan(&before); err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(ctx, alter); err != nil {
				t.Fatal(err)
			}
			if err := tx.QueryRow(ctx, fileNode).Scan(&after); err != nil {
				t.Fatal(err)
			}
			want := "fast"
			if before != after {
				want = "rewrite"
			}
			if got := defaultVerdict(t, AnalyzeScript(script(alter+"\n"), true, Config{Schema: schema}), 1); got != want {
				t.Errorf("static analysis says %s, the server did %s", got, want)
			}
		})
	}
}

// TestUserFunctionDefault: a function the linter has not seen created, or whose definitions disagree
// (overloads), keeps the caution; one created in an earlier migration of the folder is judged by its
// CREATE FUNCTION; a dropped one is unknown again.
func TestUserFunctionDefault(t *testing.T) {
	t.Parallel()
	schema := "CREATE TABLE t (id int PRIMARY KEY);\n"
	volatileFn := "CREATE FUNCTION gen_code() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'x'; END $$;\n"
	alter := "ALTER TABLE t ADD COLUMN code text DEFAULT gen_code();\n"
	tests := []struct {
		name       string
		migrations []string // the ALTER TABLE is the last line of the last one
		want       string
	}{
		{"not seen", []string{alter}, "unknown"},
		{"same file", []string{volatileFn + alter}, "rewrite"},
		{"earlier migration", []string{volatileFn, alter}, "rewrite"},
		{"in the schema", []string{"SELECT 1;\n" + alter}, "rewrite"},
		{"dropped", []string{volatileFn, "DROP FUNCTION gen_code();\n" + alter}, "unknown"},
		{"renamed away", []string{volatileFn, "ALTER FUNCTION gen_code() RENAME TO gen_code2;\n" + alter}, "unknown"},
		{"overloads that disagree", []string{volatileFn + "CREATE FUNCTION gen_code(n int) RETURNS text LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN 'x'; END $$;\n" + alter}, "unknown"},
		{"overloads that agree", []string{volatileFn + "CREATE FUNCTION gen_code(n int) RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'x'; END $$;\n" + alter}, "rewrite"},
		{"STRICT sql function", []string{"CREATE FUNCTION gen_code() RETURNS text LANGUAGE sql STRICT AS $$ SELECT 'x' $$;\n" + alter}, "unknown"},
		{"sql function calling an unseen one", []string{"CREATE FUNCTION gen_code() RETURNS text LANGUAGE sql AS $$ SELECT other_code() $$;\n" + alter}, "unknown"},
		{"stable", []string{"CREATE FUNCTION gen_code() RETURNS text LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN 'x'; END $$;\n" + alter}, "fast"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := Config{Schema: schema}
			if tt.name == "in the schema" {
				cfg.Schema += volatileFn
			}
			q := NewSequence(cfg)
			var fs []Finding
			for i, m := range tt.migrations {
				fs = q.AnalyzeScript(&migrate.Script{File: fmt.Sprintf("%d.sql", i+1), SQL: m, Statements: sqlparse.Parse(m)}, true)
			}
			last := tt.migrations[len(tt.migrations)-1]
			if got := defaultVerdict(t, fs, strings.Count(last, "\n")); got != tt.want {
				t.Errorf("DEFAULT judged %s, want %s", got, tt.want)
			}
		})
	}
}

// TestSubqueryDefaultMatchesServer: PostgreSQL refuses a subquery in a DEFAULT expression ("cannot
// use subquery in DEFAULT expression", 0A000), anywhere in it: ADD COLUMN … DEFAULT (SELECT …) is
// refused-expression (dangerous, the deploy stopping there), and no fast default besides.
func TestSubqueryDefaultMatchesServer(t *testing.T) {
	schema := "CREATE TABLE users (id int PRIMARY KEY);\nCREATE TABLE codes (code text);\n"
	const refused = "PostgreSQL refuses a subquery in a DEFAULT expression"
	tests := []struct {
		serverCase
		risk Risk
	}{
		{serverCase{name: "scalar subquery", schema: schema, src: "ALTER TABLE users ADD COLUMN zz text DEFAULT (SELECT 'x');", fails: true,
			rule: "refused-expression", msg: refused, not: "add-column-default-nonvolatile"}, Dangerous},
		{serverCase{name: "subquery in an expression", schema: schema, src: "ALTER TABLE users ADD COLUMN zz text DEFAULT coalesce((SELECT min(code) FROM codes), 'y');", fails: true,
			rule: "refused-expression", msg: refused, not: "add-column-default-nonvolatile"}, Dangerous},
		{serverCase{name: "EXISTS", schema: schema, src: "ALTER TABLE users ADD COLUMN zz boolean DEFAULT EXISTS (SELECT 1 FROM codes);", fails: true,
			rule: "refused-expression", msg: refused, not: "add-column-default-nonvolatile"}, Dangerous},
		{serverCase{name: "constant", schema: schema, src: "ALTER TABLE users ADD COLUMN zz text DEFAULT 'x';",
			rule: "add-column-default-nonvolatile", msg: "metadata-only", not: "refused-expression"}, Safe},
	}
	conn := pgtest.Conn(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, conn)
			if f := find(AnalyzeScript(script(tt.src+"\n"), true, Config{Schema: schema}), tt.rule); f == nil || f.Risk != tt.risk {
				t.Errorf("%s: %+v, want %s", tt.rule, f, tt.risk)
			}
		})
	}
}
