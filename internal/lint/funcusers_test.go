package lint

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestReplaceFunctionInUseMatchesServer: CREATE OR REPLACE FUNCTION of a function that an index, a
// stored generated column, an exclusion constraint or a partition key calls, directly or through
// another function, leaves what PostgreSQL stored with the old one (replace-function-in-use,
// dangerous); one that a CHECK calls leaves rows the new one refuses (caution). Each case runs on
// PostgreSQL, committed, and a new session (whose cache has the new function) probes what is stored:
// a lookup through the index by what the function returns now misses the row, the stored column
// differs from the function, the partition the planner prunes to lacks the row, a row breaks the
// CHECK. The rule speaks exactly when the probe finds something stale. PostgreSQL takes a replacement
// that is no longer IMMUTABLE as well.
func TestReplaceFunctionInUseMatchesServer(t *testing.T) {
	t.Parallel()
	const norm = "CREATE FUNCTION norm_email(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower($1) $$;\n"
	const trimmed = "SET lock_timeout = '2s';\nCREATE OR REPLACE FUNCTION norm_email(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(trim($1)) $$;\n"
	const users = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n"
	const rows = "INSERT INTO users (id, email) SELECT g, 'u' || g || '@x.com' FROM generate_series(1, 1000) g;\nINSERT INTO users VALUES (0, ' Bob@x.com');\n"
	const generated = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL,\n  email_norm text GENERATED ALWAYS AS (norm_email(email)) STORED);\n"
	const uq = "CREATE UNIQUE INDEX users_email_uq ON users (norm_email(email));\n"
	// The row ' Bob@x.com' through the index, by what norm_email returns for it now.
	const lookup = "SELECT NOT EXISTS (SELECT 1 FROM users WHERE norm_email(email) = norm_email(' Bob@x.com'))"
	// Whether an index or a column of users still uses norm_email on the server.
	const usesNorm = "SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE tablename = 'users' AND indexdef LIKE '%norm_email%') OR " +
		"EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'email_norm')"
	const stale = "SELECT email_norm IS DISTINCT FROM norm_email(email) FROM users WHERE id = 0"
	const isLower = "CREATE FUNCTION is_lower(text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT $1 = lower($1) $$;\n" +
		"CREATE TABLE codes (code text CHECK (is_lower(code)));\nINSERT INTO codes VALUES ('abc');\n"
	const events = "CREATE TABLE ev (code text) PARTITION BY LIST (norm_email(code));\nCREATE TABLE ev_a PARTITION OF ev FOR VALUES IN ('a');\n" +
		"CREATE TABLE ev_d PARTITION OF ev DEFAULT;\nINSERT INTO ev VALUES (' A');\n"
	tests := []struct {
		name, schema, src, probe string
		risk                     Risk // of replace-function-in-use; Safe: none
		msg                      []string
		fix                      string // what the suggestion says to run after the change: the probe then finds nothing stale
	}{
		{name: "a unique index and a stored generated column", schema: norm + generated + uq + rows, src: trimmed, probe: lookup, risk: Dangerous,
			msg: []string{"unique index users_email_uq and generated column users.email_norm use norm_email", "a unique index admits duplicates"}},
		{name: "a stored generated column", schema: norm + generated + rows, src: trimmed, probe: stale, risk: Dangerous,
			msg: []string{"generated column users.email_norm uses norm_email", "a stored column keeps stale values"}, fix: "UPDATE users SET email = email WHERE id BETWEEN 0 AND 500"},
		{name: "an index PostgreSQL names", schema: norm + users + "CREATE INDEX ON users (norm_email(email));\n" + rows, src: trimmed, probe: lookup, risk: Dangerous,
			msg: []string{"an index on users uses norm_email"}, fix: "REINDEX TABLE CONCURRENTLY users"},
		{name: "a partial index's predicate", schema: norm + users + "CREATE INDEX users_bob ON users (id) WHERE norm_email(email) LIKE 'bob%';\n" + rows, src: trimmed,
			probe: "SELECT NOT EXISTS (SELECT 1 FROM users WHERE norm_email(email) LIKE 'bob%')", risk: Dangerous, msg: []string{"index users_bob uses norm_email"}},
		{name: "through another function", schema: norm + "CREATE FUNCTION email_key(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'k:' || norm_email($1) $$;\n" +
			users + "CREATE INDEX users_key ON users (email_key(email));\n" + rows, src: trimmed,
			probe: "SELECT NOT EXISTS (SELECT 1 FROM users WHERE email_key(email) = email_key(' Bob@x.com'))", risk: Dangerous,
			msg: []string{"index users_key uses email_key, which calls norm_email"}},
		{name: "replaced by a VOLATILE function", schema: norm + users + uq + rows,
			src: "CREATE OR REPLACE FUNCTION norm_email(text) RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT lower(trim($1)) $$;\n", probe: lookup, risk: Dangerous,
			msg: []string{"unique index users_email_uq uses norm_email"}},
		{name: "an exclusion constraint", schema: norm + users + "ALTER TABLE users ADD CONSTRAINT users_email_ex EXCLUDE USING btree (norm_email(email) WITH =);\n" + rows,
			src: trimmed, probe: lookup, risk: Dangerous, msg: []string{"exclusion constraint users_email_ex of users uses norm_email"}},
		{name: "a partition key", schema: norm + events, src: trimmed,
			probe: "SELECT NOT EXISTS (SELECT 1 FROM ev WHERE norm_email(code) = norm_email(' A'))", risk: Dangerous, msg: []string{"the partition key of ev uses norm_email"}},
		{name: "a CHECK", schema: isLower, src: "CREATE OR REPLACE FUNCTION is_lower(text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT $1 = upper($1) $$;\n",
			probe: "SELECT EXISTS (SELECT 1 FROM codes WHERE NOT is_lower(code))", risk: Caution,
			msg: []string{"CHECK constraint codes_code_check of codes uses is_lower", "rows the new function would refuse stay"}},
		{name: "the same definition again", schema: norm + generated + uq + rows,
			src: "CREATE OR REPLACE FUNCTION norm_email(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower($1) $$;\n", probe: lookup},
		// The same definition written otherwise: as the catalog writes it (check reads the history from
		// there), or as an author re-types it in a repeatable migration.
		{name: "the same definition as the catalog writes it", schema: norm + generated + uq + rows,
			src: "CREATE OR REPLACE FUNCTION public.norm_email(text)\n RETURNS text\n LANGUAGE sql\n IMMUTABLE\nAS $function$ SELECT lower($1) $function$;\n", probe: lookup},
		{name: "the same definition, its options in another order", schema: norm + generated + uq + rows,
			src: "CREATE OR REPLACE FUNCTION norm_email(text) RETURNS text AS $$ SELECT lower($1) $$ LANGUAGE SQL IMMUTABLE;\n", probe: lookup},
		{name: "the same definition, its body with a semicolon and other whitespace", schema: norm + generated + uq + rows,
			src: "CREATE OR REPLACE FUNCTION norm_email(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$\n  select LOWER($1);\n$$;\n", probe: lookup},
		{name: "the same definition, its parameter named", schema: norm + generated + uq + rows,
			src: "CREATE OR REPLACE FUNCTION norm_email(e text) RETURNS pg_catalog.text LANGUAGE sql IMMUTABLE AS $$ SELECT lower($1) $$;\n", probe: lookup},
		{name: "the same PL/pgSQL function, indented otherwise", schema: users + "CREATE FUNCTION norm_email(text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$\nBEGIN\n  RETURN lower($1);\nEND $$;\n" + uq + rows,
			src: "CREATE OR REPLACE FUNCTION norm_email(text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN lower($1); -- as before\n END $$;\n", probe: lookup},
		{name: "a PL/pgSQL function whose string changes", schema: users + "CREATE FUNCTION norm_email(text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN lower($1) || ' '; END $$;\n" + uq + rows,
			src:   "CREATE OR REPLACE FUNCTION norm_email(text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN lower($1) || '  '; END $$;\n",
			probe: "SELECT NOT EXISTS (SELECT 1 FROM users WHERE norm_email(email) = norm_email(' Bob@x.com'))", risk: Dangerous, msg: []string{"unique index users_email_uq uses norm_email"}},
		// Another function by the name: PostgreSQL stored the function the index's call resolved to.
		{name: "a new overload", schema: norm + users + uq + rows,
			src: "CREATE OR REPLACE FUNCTION norm_email(integer) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'n' || $1 $$;\n", probe: lookup},
		{name: "a function by the name in another schema", schema: norm + users + uq + rows + "CREATE SCHEMA audit;\n" + strings.Replace(norm, "norm_email", "audit.norm_email", 1),
			src: strings.Replace(trimmed, "norm_email", "audit.norm_email", 1), probe: lookup},
		{name: "a function named as a built-in", schema: users + "CREATE SCHEMA util;\nCREATE FUNCTION util.lower(integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT $1 $$;\n" +
			"CREATE INDEX t_lower ON users (lower(email));\n" + rows,
			src:   "CREATE OR REPLACE FUNCTION util.lower(integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT -$1 $$;\n",
			probe: "SELECT NOT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower(' Bob@x.com'))"},
		{name: "through another function, one by the name in another schema", schema: norm + "CREATE FUNCTION email_key(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'k:' || norm_email($1) $$;\n" +
			users + "CREATE INDEX users_key ON users (email_key(email));\n" + rows + "CREATE SCHEMA audit;\n" + strings.Replace(norm, "norm_email", "audit.norm_email", 1),
			src: strings.Replace(trimmed, "norm_email", "audit.norm_email", 1), probe: "SELECT NOT EXISTS (SELECT 1 FROM users WHERE email_key(email) = email_key(' Bob@x.com'))"},
		{name: "the overload the index calls, beside another", schema: norm + "CREATE FUNCTION norm_email(integer) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'n' || $1 $$;\n" + users + uq + rows,
			src: trimmed, probe: lookup, risk: Dangerous, msg: []string{"unique index users_email_uq uses norm_email"}},
		// Users PostgreSQL dropped before the replacement: the probe finds none left on the server.
		{name: "the indexed column dropped earlier", schema: norm + users + uq + "CREATE INDEX ON users (norm_email(email));\n" + rows, src: "ALTER TABLE users DROP COLUMN email;\n" + trimmed, probe: usesNorm},
		{name: "the column a generated column reads dropped earlier", schema: norm + generated + rows, src: "ALTER TABLE users DROP COLUMN email CASCADE;\n" + trimmed, probe: usesNorm},
		{name: "the function dropped with its users, made again", schema: norm + generated + uq + rows, src: "DROP FUNCTION norm_email CASCADE;\n" + norm + trimmed, probe: usesNorm},
		{name: "another column dropped", schema: norm + users + "ALTER TABLE users ADD COLUMN note text;\n" + uq + rows, src: "ALTER TABLE users DROP COLUMN note;\n" + trimmed, probe: lookup,
			risk: Dangerous, msg: []string{"unique index users_email_uq uses norm_email"}},
		// Users renamed or moved earlier: PostgreSQL keeps them by OID, with what the function stored.
		{name: "the table renamed earlier", schema: norm + users + uq + rows + "ALTER TABLE users RENAME TO accounts;\n", src: trimmed,
			probe: "SELECT NOT EXISTS (SELECT 1 FROM accounts WHERE norm_email(email) = norm_email(' Bob@x.com'))", risk: Dangerous,
			msg: []string{"unique index users_email_uq uses norm_email"}},
		{name: "the index renamed earlier", schema: norm + users + uq + rows + "ALTER INDEX users_email_uq RENAME TO users_email_key;\n", src: trimmed,
			probe: lookup, risk: Dangerous, msg: []string{"unique index users_email_key uses norm_email"}},
		{name: "the table moved to another schema earlier", schema: norm + users + uq + rows + "CREATE SCHEMA app;\nALTER TABLE users SET SCHEMA app;\n", src: trimmed,
			probe: "SELECT NOT EXISTS (SELECT 1 FROM app.users WHERE norm_email(email) = norm_email(' Bob@x.com'))", risk: Dangerous,
			msg: []string{"unique index users_email_uq uses norm_email"}},
		{name: "the generated column renamed earlier", schema: norm + generated + rows + "ALTER TABLE users RENAME COLUMN email_norm TO email_key;\n", src: trimmed,
			probe: "SELECT email_key IS DISTINCT FROM norm_email(email) FROM users WHERE id = 0", risk: Dangerous,
			msg: []string{"generated column users.email_key uses norm_email"}},
		{name: "the indexed column renamed, then dropped", schema: norm + users + uq + rows + "ALTER TABLE users RENAME COLUMN email TO mail;\n",
			src: "ALTER TABLE users DROP COLUMN mail;\n" + trimmed, probe: usesNorm},
		// A table the same migration creates is empty but for what it writes itself before the replacement.
		{name: "a table created in the same migration, seeded before the replacement", schema: norm, src: users + uq + rows + trimmed, probe: lookup, risk: Caution,
			msg: []string{"unique index users_email_uq uses norm_email", "users is new to this change and created empty"}},
		{name: "a table created in the same migration with rows", schema: norm,
			src:   "CREATE TABLE users AS SELECT g AS id, 'u' || g || '@x.com' AS email FROM generate_series(1, 1000) g UNION ALL SELECT 0, ' Bob@x.com';\n" + uq + trimmed,
			probe: lookup, risk: Dangerous, msg: []string{"unique index users_email_uq uses norm_email"}},
		{name: "ALTER FUNCTION … STABLE", schema: norm + generated + uq + rows, src: "ALTER FUNCTION norm_email(text) STABLE;\n", probe: lookup},
		{name: "the index dropped earlier", schema: norm + users + uq + "DROP INDEX users_email_uq;\n" + rows, src: trimmed, probe: lookup},
		{name: "the table made again without them", schema: norm + generated + uq + "DROP TABLE users;\n" + users + rows, src: trimmed, probe: lookup},
		{name: "a function nothing stored uses", schema: norm + users + rows + "CREATE INDEX users_email ON users (lower(email));\n", src: trimmed,
			probe: "SELECT NOT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower(' Bob@x.com'))"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			url := pgtest.URL(t)
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if _, err := conn.Exec(ctx, tt.schema); err != nil {
				t.Fatalf("schema: %v", err)
			}
			if _, err := conn.Exec(ctx, tt.src); err != nil {
				t.Fatalf("the server refuses %q: %v: the case is wrong", tt.src, err)
			}
			// A new session: the one that replaced the function may still plan with the old one.
			probe, err := pgx.Connect(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer probe.Close(ctx)
			var found bool
			if _, err := probe.Exec(ctx, "SET enable_seqscan = off"); err != nil {
				t.Fatal(err)
			}
			if err := probe.QueryRow(ctx, tt.probe).Scan(&found); err != nil {
				t.Fatalf("probe %s: %v", tt.probe, err)
			}
			if found != (tt.risk != Safe) {
				t.Fatalf("the server finds something stale: %v, want %v: the case is wrong", found, tt.risk != Safe)
			}
			if tt.fix != "" {
				if _, err := probe.Exec(ctx, tt.fix); err != nil {
					t.Fatalf("%s: %v", tt.fix, err)
				}
				if err := probe.QueryRow(ctx, tt.probe).Scan(&found); err != nil || found {
					t.Errorf("after %s the probe finds something stale: %v (%v), want nothing: the suggestion is wrong", tt.fix, found, err)
				}
			}
			f := find(AnalyzeScript(script(tt.src), true, Config{Schema: tt.schema}), "replace-function-in-use")
			switch {
			case tt.risk == Safe && f != nil:
				t.Fatalf("replace-function-in-use %s: %s, want none", f.Risk, f.Message)
			case tt.risk == Safe:
				return
			case f == nil:
				t.Fatalf("no replace-function-in-use, want it %s", tt.risk)
			case f.Risk != tt.risk:
				t.Errorf("replace-function-in-use is %s, want %s: %s", f.Risk, tt.risk, f.Message)
			}
			for _, m := range tt.msg {
				if !strings.Contains(f.Message, m) {
					t.Errorf("replace-function-in-use says\n%s\nwant it to say %q", f.Message, m)
				}
			}
		})
	}
}
