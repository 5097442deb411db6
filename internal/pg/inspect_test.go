package pg_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pg"
	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/schema"
)

// withoutRoles is schema.DefaultIgnore without the server's roles: the tests share one server, whose
// roles other tests create at any moment (a rehearsal's server is its own, or keeps the roles its
// migrations name).
var withoutRoles = func() schema.Ignore {
	ig := schema.DefaultIgnore
	ig.Roles = []string{}
	return ig
}()

func inspect(t testing.TB, conn *pgx.Conn) *schema.Catalog {
	t.Helper()
	c, err := pg.InspectIgnoring(context.Background(), conn, withoutRoles)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func exec(t testing.TB, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("exec %q: %v", sql, err)
	}
}

// applyDown runs a generated down the way its flags say: one transaction, or step by step in
// autocommit when it must run outside one.
func applyDown(ctx context.Context, conn *pgx.Conn, d *schema.DownScript) error {
	if !d.NoTransaction {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		for _, s := range d.Statements() {
			if _, err := tx.Exec(ctx, s); err != nil {
				return &stepError{s, err}
			}
		}
		return tx.Commit(ctx)
	}
	for _, s := range d.Statements() {
		if _, err := conn.Exec(ctx, s); err != nil {
			return &stepError{s, err}
		}
	}
	return nil
}

type stepError struct {
	sql string
	err error
}

func (e *stepError) Error() string { return e.err.Error() + "\nin: " + e.sql }

// roundTrip is the proof of a generated down: before, up, generate, down, compare with before, up again,
// compare with after.
type roundTrip struct {
	before, after *schema.Catalog
	down          *schema.DownScript
	// downProblems and reUpProblems describe differences; downErr and reUpErr are failures to apply.
	downProblems, reUpProblems []string
	downErr, reUpErr           error
}

func (r *roundTrip) exact() bool {
	return r.downErr == nil && r.reUpErr == nil && len(r.downProblems) == 0 && len(r.reUpProblems) == 0
}

func runRoundTrip(t testing.TB, conn *pgx.Conn, up string) *roundTrip {
	t.Helper()
	ctx := context.Background()
	r := &roundTrip{before: inspect(t, conn)}
	exec(t, conn, up)
	r.after = inspect(t, conn)
	r.down = schema.GenerateDown(r.before, r.after)
	if r.downErr = applyDown(ctx, conn, r.down); r.downErr != nil {
		return r
	}
	r.downProblems = schema.Describe(schema.Compare(r.before, inspect(t, conn)), schema.DownPhrasing)
	if len(r.downProblems) > 0 {
		return r
	}
	if _, err := conn.Exec(ctx, up); err != nil {
		r.reUpErr = err
		return r
	}
	r.reUpProblems = schema.Describe(schema.Compare(r.after, inspect(t, conn)), schema.ReUpPhrasing)
	return r
}

const baseSchema = `
CREATE TYPE status AS ENUM ('new', 'paid', 'shipped');
CREATE DOMAIN positive AS integer CONSTRAINT positive_check CHECK (VALUE > 0);
CREATE TYPE address AS (street text, city text, country text);
CREATE TYPE dims AS (w int, h int, unit text);
CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL,
    name varchar(100) COLLATE "C",
    bio text DEFAULT 'none',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_idx ON users (email);
CREATE TABLE orders (
    id serial PRIMARY KEY,
    user_id bigint NOT NULL CONSTRAINT orders_user_fk REFERENCES users (id),
    status status NOT NULL DEFAULT 'new',
    qty positive,
    note text,
    total numeric(10,2) CHECK (total >= 0),
    doubled numeric GENERATED ALWAYS AS (total * 2) STORED,
    shipping address
);
CREATE INDEX orders_user_idx ON orders (user_id);
CREATE SEQUENCE invoice_no START 1000 INCREMENT 5;
CREATE VIEW user_orders AS SELECT u.email, o.id, o.total FROM users u JOIN orders o ON o.user_id = u.id;
CREATE MATERIALIZED VIEW order_totals AS SELECT user_id, sum(total) AS total FROM orders GROUP BY user_id;
CREATE UNIQUE INDEX order_totals_user_idx ON order_totals (user_id);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.note := coalesce(NEW.note, ''); RETURN NEW; END $$;
CREATE FUNCTION order_count(uid bigint) RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM orders WHERE user_id = uid $$;
CREATE PROCEDURE reset_notes() LANGUAGE sql AS $$ UPDATE orders SET note = NULL $$;
CREATE TRIGGER orders_touch BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION touch();
CREATE SCHEMA audit;
ALTER DEFAULT PRIVILEGES IN SCHEMA audit GRANT SELECT ON SEQUENCES TO PUBLIC;
CREATE TABLE audit.events (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), payload jsonb);
CREATE TABLE audit.events_archive (archived_at timestamptz) INHERITS (audit.events);
CREATE EXTENSION citext;
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY users_self ON users FOR SELECT USING (email = current_user);
COMMENT ON TABLE users IS 'people who order';
COMMENT ON COLUMN users.email IS 'login';
CREATE TABLE events (id bigint, at date NOT NULL, kind text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE INDEX events_kind_idx ON events (kind);
INSERT INTO users (email) VALUES ('a@example.com');
INSERT INTO orders (user_id, total) VALUES (1, 10);
`

// foreignSetup makes a foreign table ft on server s (no extension needed), and a second server s2.
const foreignSetup = `CREATE FOREIGN DATA WRAPPER w; CREATE SERVER s FOREIGN DATA WRAPPER w; CREATE SERVER s2 FOREIGN DATA WRAPPER w;
	CREATE FOREIGN TABLE ft (a int OPTIONS (column_name 'A'), b text NOT NULL DEFAULT 'x') SERVER s OPTIONS (x 'y')`

// tsSetup makes a text search dictionary my_dict and a configuration my_cfg that maps two token types to
// it before english_stem.
const tsSetup = `CREATE TEXT SEARCH DICTIONARY my_dict (TEMPLATE = simple, STOPWORDS = english);
	CREATE TEXT SEARCH CONFIGURATION my_cfg (COPY = english);
	ALTER TEXT SEARCH CONFIGURATION my_cfg ALTER MAPPING FOR asciiword, word WITH my_dict, english_stem;
	COMMENT ON TEXT SEARCH CONFIGURATION my_cfg IS 'docs'`

// pubSetup makes the publications app_pub (two tables, one with a column list and a row filter, some
// operations, a comment), audit_pub (a schema, a partitioned table) and all_pub (FOR ALL TABLES), and a
// role sg_pub_kind that may own a publication.
const pubSetup = `DO $$ BEGIN CREATE ROLE sg_pub_kind; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
	DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO sg_pub_kind', current_database()); END $$;
	CREATE PUBLICATION app_pub FOR TABLE orders (id, user_id, total) WHERE (total > 0), users WITH (publish = 'insert, update');
	COMMENT ON PUBLICATION app_pub IS 'cdc';
	CREATE PUBLICATION audit_pub FOR TABLES IN SCHEMA audit, TABLE events WITH (publish_via_partition_root = true);
	CREATE PUBLICATION all_pub FOR ALL TABLES`

// opSetup makes two operators that are each other's commutator (one with estimators and a comment), an
// operator family with a class (used by an index) and loose members, a text search parser and a template
// (with a comment) and a configuration and dictionary that use them, and a role sg_op_kind.
const opSetup = `DO $$ BEGIN CREATE ROLE sg_op_kind; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
	CREATE FUNCTION k_same(int, int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1 = $2';
	CREATE FUNCTION k_cmp(int, int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT CASE WHEN $1 < $2 THEN -1 WHEN $1 > $2 THEN 1 ELSE 0 END';
	CREATE OPERATOR <<< (LEFTARG = int, RIGHTARG = int, FUNCTION = k_same, COMMUTATOR = >>>);
	CREATE OPERATOR >>> (LEFTARG = int, RIGHTARG = int, FUNCTION = k_same, COMMUTATOR = <<<, RESTRICT = eqsel, JOIN = eqjoinsel);
	COMMENT ON OPERATOR >>> (int, int) IS 'gt';
	CREATE OPERATOR FAMILY k_fam USING btree;
	CREATE OPERATOR CLASS k_ops FOR TYPE int USING btree FAMILY k_fam AS OPERATOR 3 <<<, FUNCTION 1 k_cmp(int, int);
	ALTER OPERATOR FAMILY k_fam USING btree ADD OPERATOR 1 < (int, bigint), FUNCTION 1 (int, bigint) btint48cmp(int, bigint);
	CREATE TABLE k_t (a int); CREATE INDEX k_t_a ON k_t (a k_ops);
	CREATE TEXT SEARCH PARSER k_prs (START = prsd_start, GETTOKEN = prsd_nexttoken, END = prsd_end, LEXTYPES = prsd_lextype);
	CREATE TEXT SEARCH TEMPLATE k_tmpl (LEXIZE = dsimple_lexize); COMMENT ON TEXT SEARCH TEMPLATE k_tmpl IS 't';
	CREATE TEXT SEARCH CONFIGURATION k_cfg (PARSER = k_prs); CREATE TEXT SEARCH DICTIONARY k_dict (TEMPLATE = k_tmpl)`

// procSetup makes a table access method used by a table and a materialized view, a procedural language
// (plpgsql's functions under another name) with a function written in it, a comment and a grant, a
// conversion and a transform, and a role sg_proc_kind.
const procSetup = `DO $$ BEGIN CREATE ROLE sg_proc_kind; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
	CREATE FUNCTION k_am_handler(internal) RETURNS table_am_handler LANGUAGE internal AS 'heap_tableam_handler';
	CREATE ACCESS METHOD k_heap TYPE TABLE HANDLER k_am_handler; COMMENT ON ACCESS METHOD k_heap IS 'am';
	CREATE TABLE k_am_t (a int) USING k_heap; CREATE MATERIALIZED VIEW k_am_mv USING k_heap AS SELECT 1 AS x;
	CREATE FUNCTION k_lang_handler() RETURNS language_handler LANGUAGE c AS '$libdir/plpgsql', 'plpgsql_call_handler';
	CREATE FUNCTION k_lang_inline(internal) RETURNS void LANGUAGE c AS '$libdir/plpgsql', 'plpgsql_inline_handler';
	CREATE FUNCTION k_lang_valid(oid) RETURNS void LANGUAGE c AS '$libdir/plpgsql', 'plpgsql_validator';
	CREATE TRUSTED LANGUAGE k_lang HANDLER k_lang_handler INLINE k_lang_inline VALIDATOR k_lang_valid;
	COMMENT ON LANGUAGE k_lang IS 'lang'; REVOKE USAGE ON LANGUAGE k_lang FROM PUBLIC; GRANT USAGE ON LANGUAGE k_lang TO sg_proc_kind;
	CREATE FUNCTION k_in_lang() RETURNS int LANGUAGE k_lang AS 'BEGIN RETURN 1; END';
	CREATE FUNCTION k_conv_fn(int4, int4, cstring, internal, int4, bool) RETURNS int4 LANGUAGE c STRICT
	  AS '$libdir/utf8_and_iso8859_1', 'iso8859_1_to_utf8';
	CREATE DEFAULT CONVERSION k_conv FOR 'LATIN1' TO 'UTF8' FROM k_conv_fn; COMMENT ON CONVERSION k_conv IS 'conv';
	CREATE TYPE k_tr AS ENUM ('a');
	CREATE FUNCTION k_tr_from(internal) RETURNS internal LANGUAGE internal IMMUTABLE STRICT AS 'prsd_start';
	CREATE FUNCTION k_tr_to(internal) RETURNS k_tr LANGUAGE internal IMMUTABLE STRICT AS 'enum_in';
	CREATE TRANSFORM FOR k_tr LANGUAGE k_lang (FROM SQL WITH FUNCTION k_tr_from(internal), TO SQL WITH FUNCTION k_tr_to(internal));
	COMMENT ON TRANSFORM FOR k_tr LANGUAGE k_lang IS 'tr'`

// boxSetup makes a type, an operator < (int, k_box) and a btree support function for them; boxMembers
// adds them to the built-in family integer_ops.
const (
	boxSetup = `CREATE TYPE k_box AS (v int);
	CREATE FUNCTION k_lt_box(int, k_box) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1 < $2.v';
	CREATE FUNCTION k_cmp_box(int, k_box) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT btint4cmp($1, $2.v)';
	CREATE OPERATOR < (LEFTARG = int, RIGHTARG = k_box, FUNCTION = k_lt_box)`
	boxMembers = `ALTER OPERATOR FAMILY integer_ops USING btree ADD OPERATOR 1 < (int, k_box), FUNCTION 1 (int, k_box) k_cmp_box(int, k_box)`
)

// linkSetup makes the function of the operators whose links kindCases change.
const linkSetup = `CREATE FUNCTION l_same(int, int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1 = $2'`

// kindCases is one migration per object kind and direction; every one must round-trip exactly, unless
// irreversible says otherwise.
var kindCases = []struct {
	name         string
	setup        string // run after baseSchema, before the up
	up           string
	dataLoss     bool
	irreversible bool
	noTx         bool
}{
	{name: "create schema", up: `CREATE SCHEMA billing`},
	{name: "drop schema", up: `DROP TABLE audit.events CASCADE; DROP SCHEMA audit`, dataLoss: true},
	{name: "create table", up: `CREATE TABLE items (id int PRIMARY KEY, order_id int REFERENCES orders (id) ON DELETE CASCADE, sku text UNIQUE, price numeric CHECK (price > 0) NOT NULL)`},
	{name: "drop table", up: `DROP VIEW user_orders; DROP TABLE orders CASCADE`, dataLoss: true},
	{name: "create partitioned table", up: `CREATE TABLE logs (id bigint, at date NOT NULL, msg text) PARTITION BY RANGE (at);
		CREATE TABLE logs_2024 PARTITION OF logs FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
		CREATE INDEX logs_at_idx ON logs (at)`},
	{name: "drop partition", up: `DROP TABLE events_2024`, dataLoss: true},
	{name: "detach partition", up: `ALTER TABLE events DETACH PARTITION events_2024`},
	{name: "drop partitioned table", up: `DROP TABLE events`, dataLoss: true},
	{name: "create inheriting table", up: `CREATE TABLE base (id int, at date); CREATE TABLE sub (extra text) INHERITS (base); ALTER TABLE base ADD COLUMN late int`},
	{name: "add column to an inherited parent", up: `ALTER TABLE audit.events ADD COLUMN source text`},
	{name: "drop inheriting table", up: `DROP TABLE audit.events_archive`, dataLoss: true},
	// The child's inherited columns stay on it, declared locally: INHERIT again keeps them so (dropping
	// the parent's would no longer drop them), and no statement makes them inherited only again.
	{name: "stop inheriting", up: `ALTER TABLE audit.events_archive NO INHERIT audit.events`, irreversible: true},
	{name: "inherit", setup: `CREATE TABLE par (id bigint, a int CONSTRAINT a_pos CHECK (a > 0));
		CREATE TABLE ch (id bigint, a int CONSTRAINT a_pos CHECK (a > 0), b int)`,
		up: `ALTER TABLE ch INHERIT par`},
	{name: "stop inheriting from one of two parents", setup: `CREATE TABLE par1 (a int CONSTRAINT a_pos CHECK (a > 0));
		CREATE TABLE par2 (a int CONSTRAINT a_pos CHECK (a > 0)); CREATE TABLE ch (b int) INHERITS (par1, par2)`,
		up: `ALTER TABLE ch NO INHERIT par2`},
	{name: "drop a parent's column only", setup: `CREATE TABLE par (id bigint, a int); CREATE TABLE ch (b int) INHERITS (par)`,
		up: `ALTER TABLE ONLY par DROP COLUMN a`, irreversible: true, dataLoss: true},
	{name: "set unlogged", up: `ALTER TABLE audit.events_archive SET UNLOGGED`},
	{name: "add column", up: `ALTER TABLE users ADD COLUMN phone text NOT NULL DEFAULT ''`},
	// A column re-added comes last: the column order (SELECT *, INSERT and COPY without a column list)
	// cannot be restored in place.
	{name: "drop column", up: `ALTER TABLE orders DROP COLUMN note`, dataLoss: true, irreversible: true},
	{name: "drop last column", up: `ALTER TABLE orders DROP COLUMN shipping`, dataLoss: true},
	{name: "change column type", up: `ALTER TABLE orders ALTER COLUMN note TYPE varchar(20)`},
	{name: "change type under a view", up: `DROP VIEW user_orders; ALTER TABLE orders ALTER COLUMN id TYPE bigint;
		CREATE VIEW user_orders AS SELECT u.email, o.id, o.total FROM users u JOIN orders o ON o.user_id = u.id`},
	{name: "set default", up: `ALTER TABLE orders ALTER COLUMN note SET DEFAULT 'n/a'`},
	{name: "drop default", up: `ALTER TABLE users ALTER COLUMN bio DROP DEFAULT`},
	{name: "set not null", up: `ALTER TABLE users ALTER COLUMN bio SET NOT NULL`},
	{name: "drop not null", up: `ALTER TABLE users ALTER COLUMN email DROP NOT NULL`},
	{name: "add identity", up: `ALTER TABLE orders ALTER COLUMN user_id ADD GENERATED BY DEFAULT AS IDENTITY`},
	{name: "drop identity", up: `ALTER TABLE users ALTER COLUMN id DROP IDENTITY`},
	{name: "identity kind", up: `ALTER TABLE users ALTER COLUMN id SET GENERATED BY DEFAULT`},
	{name: "add generated column", up: `ALTER TABLE orders ADD COLUMN tripled numeric GENERATED ALWAYS AS (total * 3) STORED`},
	// Re-added as a generated column, doubled comes after shipping.
	{name: "drop generated expression", up: `ALTER TABLE orders ALTER COLUMN doubled DROP EXPRESSION`, irreversible: true},
	{name: "drop generated expression of the last column", setup: `ALTER TABLE orders ADD COLUMN tripled numeric GENERATED ALWAYS AS (total * 3) STORED`,
		up: `ALTER TABLE orders ALTER COLUMN tripled DROP EXPRESSION`},
	{name: "change collation", up: `ALTER TABLE users ALTER COLUMN name TYPE varchar(100) COLLATE "POSIX"`},
	{name: "rename column", up: `ALTER TABLE orders RENAME COLUMN note TO remark`},
	{name: "rename table", up: `ALTER TABLE orders RENAME TO purchases`},
	{name: "add check constraint", up: `ALTER TABLE users ADD CONSTRAINT users_email_check CHECK (email LIKE '%@%')`},
	{name: "add constraint not valid", up: `ALTER TABLE users ADD CONSTRAINT users_bio_len CHECK (length(bio) < 500) NOT VALID`},
	{name: "validate constraint", up: `ALTER TABLE orders ADD CONSTRAINT orders_qty_check CHECK (qty < 100) NOT VALID; ` +
		`SELECT 1; ALTER TABLE orders VALIDATE CONSTRAINT orders_qty_check`},
	{name: "drop foreign key", up: `ALTER TABLE orders DROP CONSTRAINT orders_user_fk`},
	{name: "drop primary key under a foreign key", up: `ALTER TABLE users DROP CONSTRAINT users_pkey CASCADE`},
	{name: "deferrable foreign key", up: `ALTER TABLE orders ALTER CONSTRAINT orders_user_fk DEFERRABLE INITIALLY DEFERRED`},
	{name: "rename constraint", up: `ALTER TABLE orders RENAME CONSTRAINT orders_user_fk TO orders_user_id_fkey`},
	{name: "create index", up: `CREATE INDEX orders_status_idx ON orders (status) WHERE status <> 'shipped'`},
	{name: "drop index", up: `DROP INDEX users_email_idx`, noTx: true},
	{name: "rename index", up: `ALTER INDEX orders_user_idx RENAME TO orders_by_user`},
	{name: "create sequence", up: `CREATE SEQUENCE ticket_no AS integer START 7 INCREMENT 3 CACHE 10 CYCLE`},
	{name: "drop sequence", up: `DROP SEQUENCE invoice_no`},
	{name: "alter sequence", up: `ALTER SEQUENCE invoice_no INCREMENT 10 MAXVALUE 99999`},
	{name: "set sequence unlogged", up: `ALTER SEQUENCE invoice_no SET UNLOGGED`},
	{name: "drop unlogged sequence", setup: `CREATE UNLOGGED SEQUENCE scratch_no`, up: `DROP SEQUENCE scratch_no`},
	{name: "serial column", up: `ALTER TABLE users ADD COLUMN seq serial`},
	{name: "create view", up: `CREATE VIEW paid_orders AS SELECT * FROM orders WHERE status = 'paid'`},
	{name: "drop view", up: `DROP VIEW user_orders`},
	{name: "replace view", up: `CREATE OR REPLACE VIEW user_orders AS SELECT u.email, o.id, o.total, o.note FROM users u JOIN orders o ON o.user_id = u.id`},
	{name: "create materialized view", up: `CREATE MATERIALIZED VIEW paid AS SELECT id FROM orders WHERE status = 'paid'; CREATE INDEX paid_id_idx ON paid (id)`},
	{name: "drop materialized view", up: `DROP MATERIALIZED VIEW order_totals`},
	{name: "create function", up: `CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a + b'`},
	{name: "drop function", up: `DROP FUNCTION order_count(bigint)`},
	{name: "replace function", up: `CREATE OR REPLACE FUNCTION order_count(uid bigint) RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) + 0 FROM orders WHERE user_id = uid $$`},
	{name: "change function result", up: `DROP FUNCTION order_count(bigint); CREATE FUNCTION order_count(uid bigint) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$`},
	{name: "create procedure", up: `CREATE PROCEDURE noop() LANGUAGE plpgsql AS $$ BEGIN END $$`},
	{name: "drop procedure", up: `DROP PROCEDURE reset_notes()`},
	{name: "create trigger", up: `CREATE TRIGGER users_touch BEFORE UPDATE ON orders FOR EACH ROW WHEN (OLD.note IS DISTINCT FROM NEW.note) EXECUTE FUNCTION touch()`},
	{name: "drop trigger and function", up: `DROP TRIGGER orders_touch ON orders; DROP FUNCTION touch()`},
	{name: "disable trigger", up: `ALTER TABLE orders DISABLE TRIGGER orders_touch`},
	{name: "create enum", up: `CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); ALTER TABLE users ADD COLUMN mood mood`},
	{name: "drop enum", up: `ALTER TABLE orders ALTER COLUMN status DROP DEFAULT; ALTER TABLE orders ALTER COLUMN status TYPE text; DROP TYPE status`},
	{name: "rename enum value", up: `ALTER TYPE status RENAME VALUE 'shipped' TO 'sent'`},
	{name: "add enum value", up: `ALTER TYPE status ADD VALUE 'refunded' AFTER 'paid'`, irreversible: true},
	{name: "create composite type", up: `CREATE TYPE money_amount AS (amount numeric(12,2), currency char(3) COLLATE "C"); COMMENT ON COLUMN money_amount.currency IS 'ISO 4217'; ALTER TABLE orders ADD COLUMN price money_amount`},
	{name: "drop composite type", up: `ALTER TABLE orders DROP COLUMN shipping; DROP TYPE address`, dataLoss: true},
	{name: "alter composite type", up: `ALTER TYPE dims ADD ATTRIBUTE depth int; ALTER TYPE dims DROP ATTRIBUTE unit; ALTER TYPE dims ALTER ATTRIBUTE h TYPE bigint; COMMENT ON TYPE dims IS 'box'`},
	{name: "composite attribute of a dropped composite", setup: `CREATE TYPE pt AS (x int, y int); CREATE TABLE q (id bigint PRIMARY KEY, p pt); ALTER TYPE address ADD ATTRIBUTE z pt`,
		up: `DROP TABLE q; ALTER TYPE address DROP ATTRIBUTE z; DROP TYPE pt`, dataLoss: true},
	{name: "create nested composite and domain over it", up: `CREATE TYPE pt AS (x int, y int); CREATE TYPE seg AS (a pt, b pt[], s status, q positive); CREATE DOMAIN seg_d AS seg; ALTER TABLE orders ADD COLUMN sg seg_d`},
	{name: "drop nested composite and domain over it", setup: `CREATE TYPE pt AS (x int); CREATE DOMAIN pd AS pt; CREATE TYPE seg AS (a pd, b pt[], c status)`,
		up: `DROP TYPE seg; DROP DOMAIN pd; DROP TYPE pt`},
	{name: "grant on composite type", up: `REVOKE USAGE ON TYPE dims FROM PUBLIC; REVOKE USAGE ON TYPE status FROM PUBLIC; REVOKE USAGE ON DOMAIN positive FROM PUBLIC`},
	{name: "rename composite attribute", up: `ALTER TYPE address RENAME ATTRIBUTE street TO line1`},
	{name: "rename composite type", up: `ALTER TYPE address RENAME TO postal_address`},
	{name: "move composite type", up: `CREATE SCHEMA geo; ALTER TYPE dims SET SCHEMA geo`},
	{name: "create range type", up: `CREATE TYPE r AS RANGE (subtype = int8); ALTER TABLE orders ADD COLUMN span r`},
	{name: "drop range type", setup: `CREATE TYPE r AS RANGE (subtype = int8); COMMENT ON TYPE r IS 'span'; REVOKE USAGE ON TYPE r FROM PUBLIC`, up: `DROP TYPE r`},
	{name: "comment on range type", setup: `CREATE TYPE r AS RANGE (subtype = int8)`, up: `COMMENT ON TYPE r IS 'span'`},
	{name: "create domain", up: `CREATE DOMAIN email AS citext NOT NULL CHECK (VALUE ~ '@')`},
	{name: "drop domain", up: `ALTER TABLE orders ALTER COLUMN qty TYPE integer; DROP DOMAIN positive`},
	{name: "alter domain", up: `ALTER DOMAIN positive SET DEFAULT 1; ALTER DOMAIN positive ADD CONSTRAINT small CHECK (VALUE < 1000); ALTER DOMAIN positive DROP CONSTRAINT positive_check`},
	{name: "create extension", up: `CREATE EXTENSION pg_trgm; CREATE INDEX users_name_trgm ON users USING gin (name gin_trgm_ops)`},
	{name: "drop extension", up: `DROP EXTENSION citext`},
	{name: "create policy", up: `CREATE POLICY orders_own ON orders USING (user_id = 1) WITH CHECK (user_id = 1); ALTER TABLE orders ENABLE ROW LEVEL SECURITY`},
	{name: "drop policy", up: `DROP POLICY users_self ON users; ALTER TABLE users DISABLE ROW LEVEL SECURITY`},
	{name: "grant default privileges", up: `ALTER DEFAULT PRIVILEGES IN SCHEMA audit GRANT SELECT, UPDATE ON TABLES TO PUBLIC; ALTER DEFAULT PRIVILEGES IN SCHEMA audit GRANT ALL ON SEQUENCES TO PUBLIC; ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO PUBLIC`},
	{name: "revoke default privileges", up: `ALTER DEFAULT PRIVILEGES IN SCHEMA audit REVOKE SELECT ON SEQUENCES FROM PUBLIC`},
	{name: "make table typed", setup: `CREATE TYPE pair AS (a int, b text); CREATE TABLE pairs (a int NOT NULL, b text)`,
		up: `ALTER TABLE pairs OF pair`},
	{name: "make typed table plain", setup: `CREATE TYPE pair AS (a int, b text); CREATE TABLE pairs OF pair (a WITH OPTIONS NOT NULL)`,
		up: `ALTER TABLE pairs NOT OF; ALTER TABLE pairs ADD COLUMN c int; ALTER TABLE pairs ALTER COLUMN b TYPE varchar(10)`},
	{name: "create typed table and its type", up: `CREATE TYPE pair AS (a int, b text COLLATE "C"); CREATE TABLE pairs OF pair (a WITH OPTIONS NOT NULL DEFAULT 1)`},
	{name: "drop typed table and its type", setup: `CREATE TYPE pair AS (a int, b text COLLATE "C"); CREATE TABLE pairs OF pair (a WITH OPTIONS NOT NULL DEFAULT 1);
		COMMENT ON TABLE pairs IS 'p'`,
		up: `DROP TABLE pairs; DROP TYPE pair`, dataLoss: true},
	{name: "alter the type of a typed table", setup: `CREATE TYPE pair AS (a int, b text); CREATE TABLE pairs OF pair`,
		up: `ALTER TYPE pair ADD ATTRIBUTE c date CASCADE; ALTER TYPE pair ALTER ATTRIBUTE a TYPE bigint CASCADE; ALTER TYPE pair DROP ATTRIBUTE b CASCADE`},
	{name: "type of a typed table renamed and replaced", setup: `CREATE TYPE pair AS (a int, b text); CREATE TYPE couple AS (a int, b text); CREATE TABLE pairs OF pair`,
		up: `ALTER TYPE pair RENAME TO pair_old; ALTER TABLE pairs NOT OF; ALTER TABLE pairs OF couple`},
	{name: "create foreign table", setup: foreignSetup,
		up: `CREATE FOREIGN TABLE ft2 (a int OPTIONS (c 'd') NOT NULL, b text COLLATE "C" DEFAULT 'x') SERVER s OPTIONS (t 'u''v');
		COMMENT ON FOREIGN TABLE ft2 IS 'x'; CREATE VIEW ft2_v AS SELECT a FROM ft2`},
	{name: "drop foreign table", setup: foreignSetup + `; COMMENT ON FOREIGN TABLE ft IS 'far'; COMMENT ON COLUMN ft.a IS 'col';
		REVOKE ALL ON ft FROM PUBLIC; GRANT SELECT ON ft TO PUBLIC; ALTER FOREIGN TABLE ft ADD CONSTRAINT ft_b CHECK (b <> '')`,
		up: `DROP FOREIGN TABLE ft`},
	{name: "alter foreign table", setup: foreignSetup,
		up: `ALTER FOREIGN TABLE ft OPTIONS (SET x 'z', ADD q '1'); ALTER FOREIGN TABLE ft ALTER COLUMN a OPTIONS (DROP column_name, ADD other 'v');
		ALTER FOREIGN TABLE ft ADD COLUMN c int OPTIONS (k 'v'); ALTER FOREIGN TABLE ft DROP COLUMN b; COMMENT ON FOREIGN TABLE ft IS 'c';
		ALTER FOREIGN TABLE ft RENAME TO ft_renamed`},
	{name: "drop foreign table options", setup: foreignSetup, up: `ALTER FOREIGN TABLE ft OPTIONS (DROP x); ALTER FOREIGN TABLE ft ALTER COLUMN a OPTIONS (DROP column_name)`},
	{name: "create foreign partition", setup: foreignSetup + `; CREATE TABLE parts (k int, v text) PARTITION BY LIST (k)`,
		up: `CREATE FOREIGN TABLE parts1 PARTITION OF parts FOR VALUES IN (1) SERVER s OPTIONS (a 'b');
		ALTER FOREIGN TABLE parts1 ALTER COLUMN v OPTIONS (ADD n 'm')`},
	{name: "drop foreign partition", setup: foreignSetup + `; CREATE TABLE parts (k int, v text) PARTITION BY LIST (k);
		CREATE FOREIGN TABLE parts1 PARTITION OF parts FOR VALUES IN (1) SERVER s OPTIONS (a 'b');
		ALTER FOREIGN TABLE parts1 ALTER COLUMN v OPTIONS (ADD n 'm')`,
		up: `DROP FOREIGN TABLE parts1`},
	{name: "replace table with foreign table", setup: foreignSetup + `; CREATE TABLE rt (a int, b text); CREATE VIEW rt_v AS SELECT a FROM rt`,
		up: `DROP TABLE rt CASCADE; CREATE FOREIGN TABLE rt (a int, b text) SERVER s`, dataLoss: true},
	{name: "replace foreign table with table", setup: foreignSetup + `; CREATE VIEW ft_v AS SELECT a FROM ft`,
		up: `DROP FOREIGN TABLE ft CASCADE; CREATE TABLE ft (a int, b text); CREATE VIEW ft_v AS SELECT a FROM ft`},
	{name: "foreign table on another server", setup: foreignSetup,
		up:           `DROP FOREIGN TABLE ft; CREATE FOREIGN TABLE ft (a int OPTIONS (column_name 'A'), b text NOT NULL DEFAULT 'x') SERVER s2 OPTIONS (x 'y')`,
		irreversible: true},
	{name: "create text search objects", up: tsSetup + `; ALTER TABLE users ADD COLUMN tsv tsvector DEFAULT to_tsvector('my_cfg', '');
		CREATE INDEX users_bio_fts ON users USING gin (to_tsvector('public.my_cfg', bio))`},
	{name: "drop text search objects", setup: tsSetup + `; ALTER TABLE users ADD COLUMN tsv tsvector DEFAULT to_tsvector('my_cfg', '');
		CREATE INDEX users_bio_fts ON users USING gin (to_tsvector('public.my_cfg', bio))`,
		up: `DROP INDEX users_bio_fts; ALTER TABLE users ALTER COLUMN tsv DROP DEFAULT; DROP TEXT SEARCH CONFIGURATION my_cfg;
		DROP TEXT SEARCH DICTIONARY my_dict`, noTx: true},
	{name: "alter text search objects", setup: `DO $$ BEGIN CREATE ROLE sg_ts_kind; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$; ` + tsSetup,
		up: `ALTER TEXT SEARCH CONFIGURATION my_cfg ALTER MAPPING FOR asciiword WITH simple;
		ALTER TEXT SEARCH CONFIGURATION my_cfg DROP MAPPING FOR email, url;
		ALTER TEXT SEARCH CONFIGURATION my_cfg ADD MAPPING FOR blank WITH simple;
		ALTER TEXT SEARCH DICTIONARY my_dict (STOPWORDS = russian, ACCEPT = false);
		ALTER TEXT SEARCH CONFIGURATION my_cfg OWNER TO sg_ts_kind; COMMENT ON TEXT SEARCH CONFIGURATION my_cfg IS NULL;
		COMMENT ON TEXT SEARCH DICTIONARY my_dict IS 'stop'`},
	{name: "create event trigger", up: `CREATE FUNCTION evt() RETURNS event_trigger LANGUAGE plpgsql AS 'BEGIN END';
		CREATE EVENT TRIGGER et ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE') EXECUTE FUNCTION evt();
		COMMENT ON EVENT TRIGGER et IS 'audit'`},
	{name: "drop event trigger", setup: `CREATE FUNCTION evt() RETURNS event_trigger LANGUAGE plpgsql AS 'BEGIN END';
		CREATE EVENT TRIGGER et ON sql_drop WHEN TAG IN ('DROP TABLE') EXECUTE FUNCTION evt(); ALTER EVENT TRIGGER et ENABLE REPLICA;
		COMMENT ON EVENT TRIGGER et IS 'audit'`,
		up: `DROP EVENT TRIGGER et; DROP FUNCTION evt()`},
	{name: "alter event trigger", setup: `CREATE FUNCTION evt() RETURNS event_trigger LANGUAGE plpgsql AS 'BEGIN END';
		CREATE FUNCTION evt2() RETURNS event_trigger LANGUAGE plpgsql AS 'BEGIN END';
		CREATE EVENT TRIGGER et ON ddl_command_end EXECUTE FUNCTION evt(); CREATE EVENT TRIGGER et2 ON ddl_command_end EXECUTE FUNCTION evt()`,
		up: `ALTER EVENT TRIGGER et RENAME TO et_renamed; ALTER EVENT TRIGGER et_renamed ENABLE ALWAYS; COMMENT ON EVENT TRIGGER et_renamed IS 'x';
		DROP EVENT TRIGGER et2; CREATE EVENT TRIGGER et2 ON ddl_command_start EXECUTE FUNCTION evt2()`},
	{name: "statistics and collation owners and comments", setup: `DO $$ BEGIN CREATE ROLE sg_note_kind; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
		CREATE STATISTICS users_st ON id, email FROM users; COMMENT ON STATISTICS users_st IS 'pair';
		CREATE COLLATION ci (provider = icu, locale = 'und'); COMMENT ON COLLATION ci IS 'c'`,
		up: `COMMENT ON STATISTICS users_st IS 'changed'; ALTER STATISTICS users_st OWNER TO sg_note_kind;
		COMMENT ON COLLATION ci IS NULL; ALTER COLLATION ci OWNER TO sg_note_kind`},
	// Created again by the down, the statistics object gets its owner and comment back.
	{name: "drop and rename statistics with owners and comments", setup: `DO $$ BEGIN CREATE ROLE sg_note_kind; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
		CREATE SCHEMA st; CREATE STATISTICS st.users_st ON id, email FROM users; COMMENT ON STATISTICS st.users_st IS 'pair';
		ALTER STATISTICS st.users_st OWNER TO sg_note_kind;
		CREATE STATISTICS orders_st ON id, user_id FROM orders; COMMENT ON STATISTICS orders_st IS 'fk'`,
		up: `DROP STATISTICS st.users_st; ALTER STATISTICS orders_st RENAME TO orders_st2`},
	{name: "create publications", up: `CREATE PUBLICATION app_pub FOR TABLE orders (id, user_id, total) WHERE (total > 0), users
		WITH (publish = 'insert, update'); COMMENT ON PUBLICATION app_pub IS 'cdc';
		CREATE PUBLICATION audit_pub FOR TABLES IN SCHEMA audit, TABLE events WITH (publish_via_partition_root = true);
		CREATE PUBLICATION all_pub FOR ALL TABLES`},
	{name: "drop publications", setup: pubSetup, up: `DROP PUBLICATION app_pub, audit_pub, all_pub`},
	{name: "alter publications", setup: pubSetup,
		up: `ALTER PUBLICATION app_pub SET TABLE orders (id, status) WHERE (id > 5), audit.events_archive;
		ALTER PUBLICATION app_pub SET (publish = 'insert', publish_via_partition_root = true); ALTER PUBLICATION app_pub RENAME TO app_pub2;
		COMMENT ON PUBLICATION app_pub2 IS NULL; ALTER PUBLICATION app_pub2 OWNER TO sg_pub_kind;
		ALTER PUBLICATION audit_pub DROP TABLES IN SCHEMA audit; ALTER PUBLICATION audit_pub ADD TABLES IN SCHEMA public;
		DROP PUBLICATION all_pub; CREATE PUBLICATION all_pub FOR TABLE users; COMMENT ON PUBLICATION all_pub IS 'now some'`},
	// The publication follows the table back, and the column its row filter and column list name.
	{name: "rename published table and column", setup: pubSetup,
		up: `ALTER TABLE orders RENAME COLUMN total TO amount; ALTER TABLE orders RENAME TO purchases`},
	{name: "drop published table", setup: pubSetup, up: `DROP TABLE audit.events_archive`, dataLoss: true},
	{name: "create operators, families, classes, text search parsers and templates", up: opSetup},
	{name: "add members to a built-in operator family", setup: boxSetup, up: boxMembers},
	// Links between operators: PostgreSQL unsets the link to an operator dropped that links back and sets
	// the unset link of the operator a new one names. <<~ is in a class: the down cannot drop it.
	{name: "create an operator's commutator and negator", setup: linkSetup + `;
		CREATE OPERATOR <<~ (LEFTARG = int, RIGHTARG = int, FUNCTION = l_same);
		CREATE OPERATOR CLASS l_ops FOR TYPE int USING hash AS OPERATOR 1 <<~, FUNCTION 1 hashint4(int)`,
		up: `CREATE OPERATOR ~>> (LEFTARG = int, RIGHTARG = int, FUNCTION = l_same, COMMUTATOR = <<~);
		CREATE OPERATOR <<! (LEFTARG = int, RIGHTARG = int, FUNCTION = l_same, NEGATOR = <<~)`},
	// Filling a shell: the down cannot make a shell but by creating the operator that names it again.
	{name: "fill a shell operator", setup: linkSetup + `;
		CREATE OPERATOR <<~ (LEFTARG = int, RIGHTARG = int, FUNCTION = l_same, COMMUTATOR = ~>>, NEGATOR = <<!)`,
		up: `CREATE OPERATOR ~>> (LEFTARG = int, RIGHTARG = int, FUNCTION = l_same);
		CREATE OPERATOR <<! (LEFTARG = int, RIGHTARG = int, FUNCTION = l_same, NEGATOR = <<~)`},
	// The up creates ~>> again without its link, which dropping it took from <<~ (in a class, which keeps
	// it from being dropped): creating ~>> again as it was links both again.
	{name: "create an operator again without its commutator", setup: linkSetup + `;
		CREATE OPERATOR <<~ (LEFTARG = int, RIGHTARG = int, FUNCTION = l_same, COMMUTATOR = ~>>);
		CREATE OPERATOR ~>> (LEFTARG = int, RIGHTARG = int, FUNCTION = l_same, COMMUTATOR = <<~);
		CREATE OPERATOR CLASS l_ops FOR TYPE int USING hash AS OPERATOR 1 <<~, FUNCTION 1 hashint4(int)`,
		up: `DROP OPERATOR ~>> (int, int); CREATE OPERATOR ~>> (LEFTARG = int, RIGHTARG = int, FUNCTION = l_same)`},
	// ~>> links to <<~, which does not link back: dropping <<~ leaves ~>>'s link dangling; created again,
	// ~>> comes first (it makes <<~ a shell linked back, which creating <<~ unlinks).
	{name: "drop an operator's one-way commutator", setup: linkSetup + `;
		CREATE OPERATOR ~>> (LEFTARG = int, RIGHTARG = int, FUNCTION = l_same, COMMUTATOR = <<~);
		CREATE OPERATOR <<~ (LEFTARG = int, RIGHTARG = int, FUNCTION = l_same)`,
		up: `DROP OPERATOR <<~ (int, int)`},
	{name: "drop members of a built-in operator family", setup: boxSetup + ";" + boxMembers,
		up: `ALTER OPERATOR FAMILY integer_ops USING btree DROP OPERATOR 1 (int, k_box), FUNCTION 1 (int, k_box)`},
	{name: "drop the type of a built-in operator family's members", setup: boxSetup + ";" + boxMembers, up: `DROP TYPE k_box CASCADE`},
	{name: "drop operators, families, classes, text search parsers and templates", setup: opSetup,
		up: `DROP INDEX k_t_a; DROP OPERATOR FAMILY k_fam USING btree; DROP OPERATOR >>> (int, int); DROP OPERATOR <<< (int, int);
		DROP TEXT SEARCH CONFIGURATION k_cfg; DROP TEXT SEARCH DICTIONARY k_dict; DROP TEXT SEARCH PARSER k_prs; DROP TEXT SEARCH TEMPLATE k_tmpl`},
	// The operator left has lost its commutator: creating the dropped one again links them again.
	{name: "drop an operator's commutator", setup: opSetup, up: `DROP OPERATOR >>> (int, int)`},
	{name: "alter operators, families, classes, text search parsers and templates", setup: opSetup,
		up: `ALTER OPERATOR >>> (int, int) SET (RESTRICT = scalargtsel, JOIN = NONE); COMMENT ON OPERATOR >>> (int, int) IS NULL;
		ALTER OPERATOR <<< (int, int) OWNER TO sg_op_kind;
		ALTER OPERATOR FAMILY k_fam USING btree DROP OPERATOR 1 (int, bigint); ALTER OPERATOR FAMILY k_fam USING btree ADD OPERATOR 2 <= (int, bigint);
		ALTER OPERATOR CLASS k_ops USING btree OWNER TO sg_op_kind; COMMENT ON OPERATOR CLASS k_ops USING btree IS 'c';
		ALTER OPERATOR FAMILY k_fam USING btree RENAME TO k_fam2; CREATE SCHEMA kops; ALTER OPERATOR CLASS k_ops USING btree SET SCHEMA kops;
		ALTER OPERATOR <<< (int, int) SET SCHEMA kops;
		ALTER TEXT SEARCH TEMPLATE k_tmpl RENAME TO k_tmpl2; COMMENT ON TEXT SEARCH TEMPLATE k_tmpl2 IS NULL; ALTER TEXT SEARCH PARSER k_prs SET SCHEMA kops`},
	{name: "create access methods, languages, conversions and transforms", up: procSetup},
	{name: "drop access methods, languages, conversions and transforms", setup: procSetup,
		up: `DROP TABLE k_am_t; DROP MATERIALIZED VIEW k_am_mv; DROP ACCESS METHOD k_heap; DROP CONVERSION k_conv;
		DROP LANGUAGE k_lang CASCADE`, dataLoss: true},
	{name: "alter access methods, languages, conversions and transforms", setup: procSetup,
		up: `ALTER TABLE k_am_t SET ACCESS METHOD heap; ALTER MATERIALIZED VIEW k_am_mv SET ACCESS METHOD heap;
		COMMENT ON ACCESS METHOD k_heap IS NULL; ALTER FUNCTION k_am_handler(internal) RENAME TO k_am_handler2;
		GRANT USAGE ON LANGUAGE k_lang TO PUBLIC; CREATE OR REPLACE LANGUAGE k_lang HANDLER k_lang_handler; ALTER LANGUAGE k_lang RENAME TO k_language;
		ALTER LANGUAGE k_language OWNER TO sg_proc_kind; COMMENT ON LANGUAGE k_language IS 'l2';
		CREATE SCHEMA kproc; ALTER CONVERSION k_conv SET SCHEMA kproc; ALTER CONVERSION kproc.k_conv RENAME TO k_conversion;
		ALTER CONVERSION kproc.k_conversion OWNER TO sg_proc_kind; COMMENT ON CONVERSION kproc.k_conversion IS NULL;
		CREATE OR REPLACE TRANSFORM FOR k_tr LANGUAGE k_language (TO SQL WITH FUNCTION k_tr_to(internal));
		COMMENT ON TRANSFORM FOR k_tr LANGUAGE k_language IS 'tr2'`},
	// A transform is named by its type: the down renames the type back (no function returns this one).
	{name: "rename a type that has a transform", setup: procSetup + `;
		CREATE TYPE k_tr3 AS ENUM ('a'); CREATE TRANSFORM FOR k_tr3 LANGUAGE plpgsql (FROM SQL WITH FUNCTION k_tr_from(internal))`,
		up: `ALTER TYPE k_tr3 RENAME TO k_tr4`},
	{name: "change a conversion", setup: procSetup,
		up: `DROP CONVERSION k_conv; CREATE CONVERSION k_conv FOR 'LATIN1' TO 'UTF8' FROM k_conv_fn`},
	{name: "comments", up: `COMMENT ON TABLE users IS 'customers'; COMMENT ON COLUMN users.email IS NULL; COMMENT ON INDEX orders_user_idx IS 'fk lookup'; COMMENT ON FUNCTION touch() IS 'trigger'`},
}

func TestGenerateDownRoundTrip(t *testing.T) {
	for _, tc := range kindCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conn := pgtest.Conn(t)
			exec(t, conn, baseSchema)
			if tc.setup != "" {
				exec(t, conn, tc.setup)
			}
			r := runRoundTrip(t, conn, tc.up)
			t.Logf("generated down:\n%s", r.down.SQL)
			if r.down.Empty() {
				t.Fatalf("no down generated for %s", tc.up)
			}
			for _, st := range r.down.Steps {
				if strings.TrimSpace(st.Comment) == "" {
					t.Errorf("step %q has no comment\n%s", st.SQL, r.down.SQL)
				}
			}
			if strings.Contains(r.down.SQL, "-- \n") {
				t.Errorf("down has an empty comment line\n%s", r.down.SQL)
			}
			if r.down.DataLoss != tc.dataLoss {
				t.Errorf("DataLoss = %v, want %v\n%s", r.down.DataLoss, tc.dataLoss, r.down.SQL)
			}
			if tc.noTx && !r.down.NoTransaction {
				t.Errorf("NoTransaction = false, want true (CONCURRENTLY)\n%s", r.down.SQL)
			}
			if tc.irreversible {
				if r.down.Reversible() || len(r.down.Warnings) == 0 {
					t.Errorf("want an irreversible step and a warning\n%s", r.down.SQL)
				}
				if r.downErr != nil || len(r.downProblems) == 0 {
					t.Errorf("irreversible down: downErr %v, problems %q; want no error and a reported difference", r.downErr, r.downProblems)
				}
				return
			}
			if !r.exact() {
				t.Errorf("round trip not exact:\ndown error: %v\nre-up error: %v\nafter down: %q\nafter re-up: %q\n--- down:\n%s",
					r.downErr, r.reUpErr, r.downProblems, r.reUpProblems, r.down.SQL)
			}
		})
	}
}

// TestGenerateDownFromEmpty proves both directions for whole schemas: the base schema created from an
// empty database is dropped exactly, and dropping it all is restored (empty).
func TestGenerateDownWholeSchema(t *testing.T) {
	t.Parallel()
	conn := pgtest.Conn(t)
	r := runRoundTrip(t, conn, baseSchema)
	if !r.exact() {
		t.Fatalf("create all: round trip not exact: %v %v %q %q\n%s", r.downErr, r.reUpErr, r.downProblems, r.reUpProblems, r.down.SQL)
	}
	r = runRoundTrip(t, conn, `DROP SCHEMA audit CASCADE; DROP VIEW user_orders; DROP MATERIALIZED VIEW order_totals;
		DROP TABLE orders, users; DROP PROCEDURE reset_notes(); DROP FUNCTION order_count(bigint), touch();
		DROP DOMAIN positive; DROP TYPE status, address, dims; DROP SEQUENCE invoice_no; DROP EXTENSION citext`)
	if !r.exact() {
		t.Fatalf("drop all: round trip not exact: %v %v %q %q\n%s", r.downErr, r.reUpErr, r.downProblems, r.reUpProblems, r.down.SQL)
	}
	if !r.down.DataLoss {
		t.Errorf("re-created tables must be flagged as data loss")
	}
}

func TestInspectIgnoresBookkeepingAndExtensions(t *testing.T) {
	t.Parallel()
	conn := pgtest.Conn(t)
	exec(t, conn, `CREATE EXTENSION hstore; CREATE TABLE schema_migrations (version bigint PRIMARY KEY);
		CREATE TABLE schemagate_runs (id int); CREATE SCHEMA sqitch; CREATE TABLE sqitch.changes (id int);
		CREATE TABLE kept (id int)`)
	c := inspect(t, conn)
	if c.Tables["public.kept"] == nil {
		t.Fatalf("table kept missing: %v", keys(c.Tables))
	}
	for _, k := range []string{"public.schema_migrations", "public.schemagate_runs", "sqitch.changes"} {
		if c.Tables[k] != nil {
			t.Errorf("table %s must be ignored", k)
		}
	}
	if c.Schemas["sqitch"] != nil {
		t.Errorf("schema sqitch must be ignored")
	}
	for k := range c.Functions {
		if strings.Contains(k, "hstore") {
			t.Errorf("function %s belongs to an extension and must be left out", k)
		}
	}
	if c.Extensions["hstore"] == nil {
		t.Errorf("extension hstore missing")
	}
	custom, err := pg.InspectIgnoring(context.Background(), conn, schema.Ignore{Tables: []string{"kept"}})
	if err != nil {
		t.Fatal(err)
	}
	if custom.Tables["public.kept"] != nil || custom.Tables["public.schema_migrations"] == nil {
		t.Errorf("custom ignore list not applied: %v", keys(custom.Tables))
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestInspectCatalogContents(t *testing.T) {
	t.Parallel()
	conn := pgtest.Conn(t)
	exec(t, conn, baseSchema)
	c := inspect(t, conn)
	u := c.Tables["public.users"]
	if u == nil {
		t.Fatalf("users missing: %v", keys(c.Tables))
	}
	id, name := u.Column("id"), u.Column("name")
	if id.Identity != "always" || !id.NotNull || id.Type != "bigint" {
		t.Errorf("users.id = %+v", id)
	}
	if name.Type != "character varying(100)" || name.Collation != `"C"` {
		t.Errorf("users.name = %+v", name)
	}
	if u.Comment != "people who order" || u.Column("email").Comment != "login" || !u.RowSecurity {
		t.Errorf("users = %+v", u)
	}
	o := c.Tables["public.orders"]
	if d := o.Column("doubled"); d.Generated == "" || d.Default != "" {
		t.Errorf("orders.doubled = %+v", d)
	}
	if s := c.Sequences["public.orders_id_seq"]; s == nil || s.OwnedBy != "public.orders.id" {
		t.Errorf("orders_id_seq = %+v", s)
	}
	for k := range c.Sequences {
		if strings.HasPrefix(k, "public.users_id") {
			t.Errorf("identity sequence %s must be left out", k)
		}
	}
	if s := c.Sequences["public.invoice_no"]; s == nil || s.Start != 1000 || s.Increment != 5 {
		t.Errorf("invoice_no = %+v", s)
	}
	if fk := c.Constraints["public.orders.orders_user_fk"]; fk == nil || fk.Type != "f" || fk.References != "public.users" || !fk.Validated {
		t.Errorf("orders_user_fk = %+v", fk)
	}
	if ix := c.Indexes["public.users_email_idx"]; ix == nil || !ix.Unique || !ix.Valid || ix.Constraint != "" {
		t.Errorf("users_email_idx = %+v", ix)
	}
	if ix := c.Indexes["public.users_pkey"]; ix == nil || !ix.Primary || ix.Constraint != "users_pkey" {
		t.Errorf("users_pkey = %+v", ix)
	}
	if v := c.Views["public.user_orders"]; v == nil || !slices.Contains(v.DependsOn, "public.orders") || len(v.Columns) != 3 {
		t.Errorf("user_orders = %+v", v)
	}
	if v := c.Views["public.order_totals"]; v == nil || !v.Materialized {
		t.Errorf("order_totals = %+v", v)
	}
	if f := c.Functions["public.order_count(uid bigint)"]; f == nil || !strings.Contains(f.Definition, "count(*)") {
		t.Errorf("order_count = %+v (functions %v)", f, keys(c.Functions))
	}
	if p := c.Functions["public.reset_notes()"]; p == nil || p.Kind != "p" {
		t.Errorf("reset_notes = %+v", p)
	}
	if e := c.Enums["public.status"]; e == nil || !slices.Equal(e.Values, []string{"new", "paid", "shipped"}) {
		t.Errorf("status = %+v", e)
	}
	if d := c.Domains["public.positive"]; d == nil || d.BaseType != "integer" || d.Constraints["positive_check"] != "CHECK ((VALUE > 0))" {
		t.Errorf("positive = %+v", d)
	}
	if tr := c.Triggers["public.orders.orders_touch"]; tr == nil || tr.Enabled != "O" || tr.Function != "public.touch()" {
		t.Errorf("orders_touch = %+v", tr)
	}
	if p := c.Policies["public.users.users_self"]; p == nil || p.Command != "SELECT" || p.Roles != "public" {
		t.Errorf("users_self = %+v", p)
	}
	if c.Schemas["audit"] == nil || c.Tables["audit.events"] == nil || c.Extensions["citext"] == nil {
		t.Errorf("audit schema, audit.events or citext missing")
	}
}

// TestCompareSentences checks the round-trip wording on real catalogs: a down that leaves an index
// behind, and a re-up that changes a column's type.
func TestCompareSentences(t *testing.T) {
	t.Parallel()
	conn := pgtest.Conn(t)
	exec(t, conn, `CREATE TABLE users (id int PRIMARY KEY, email text); CREATE TABLE orders (id int, note text)`)
	before := inspect(t, conn)
	exec(t, conn, `CREATE INDEX users_email_idx ON users (email); ALTER TABLE orders ADD CONSTRAINT orders_id_check CHECK (id > 0)`)
	afterUp := inspect(t, conn)
	exec(t, conn, `ALTER TABLE orders DROP CONSTRAINT orders_id_check`) // a down that forgets the index
	got := schema.Describe(schema.Compare(before, inspect(t, conn)), schema.DownPhrasing)
	want := []string{"index users_email_idx is left behind by the down"}
	if !slices.Equal(got, want) {
		t.Errorf("down: got %q, want %q", got, want)
	}
	exec(t, conn, `ALTER TABLE orders ALTER COLUMN note TYPE varchar(20);
		ALTER TABLE orders ADD CONSTRAINT orders_id_check CHECK (id > 0) NOT VALID`) // a re-up that differs
	got = schema.Describe(schema.Compare(afterUp, inspect(t, conn)), schema.ReUpPhrasing)
	want = []string{
		"column orders.note is varchar(20) after re-up, was text",
		"constraint orders_id_check on orders is NOT VALID after re-up, was validated",
	}
	if !slices.Equal(got, want) {
		t.Errorf("re-up: got %q, want %q", got, want)
	}
}

func BenchmarkInspect(b *testing.B) {
	conn := pgtest.Conn(b)
	exec(b, conn, baseSchema)
	ctx := context.Background()
	for b.Loop() {
		if _, err := pg.Inspect(ctx, conn); err != nil {
			b.Fatal(err)
		}
	}
}

// TestGenerateDownColumnRenameKeepsDependents: renaming a column back restores, by itself, the index,
// constraint, trigger and policy definitions that quote it; the generated down must not drop and build
// them again (an index build on a big table), and must still prove exact.
func TestGenerateDownColumnRenameKeepsDependents(t *testing.T) {
	conn := pgtest.Conn(t)
	exec(t, conn, `CREATE TABLE rn (id int PRIMARY KEY, note text CHECK (note <> 'x'), other int);
		CREATE INDEX rn_note_idx ON rn (note, other) WHERE note IS NOT NULL;
		CREATE FUNCTION rn_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
		CREATE TRIGGER rn_t BEFORE UPDATE OF note ON rn FOR EACH ROW EXECUTE FUNCTION rn_touch();
		ALTER TABLE rn ENABLE ROW LEVEL SECURITY; CREATE POLICY rn_p ON rn USING (note <> 'y')`)
	r := runRoundTrip(t, conn, "ALTER TABLE rn RENAME COLUMN note TO note2")
	if !r.exact() {
		t.Fatalf("round trip not exact: %v %v %q %q\n%s", r.downErr, r.reUpErr, r.downProblems, r.reUpProblems, r.down.SQL)
	}
	var sqls []string
	for _, st := range r.down.Steps {
		if st.SQL != "" {
			sqls = append(sqls, st.SQL)
		}
	}
	if len(sqls) != 1 || sqls[0] != "ALTER TABLE rn RENAME COLUMN note2 TO note" {
		t.Errorf("generated down %q, want the rename alone", sqls)
	}
}

// TestSchemaSQLTypedAndForeignTables: the schema the risk rules read has a typed table with its columns
// and a foreign table as one (before, foreign tables were left out, and the rules took them as absent),
// and it runs on an empty database that has the server.
func TestSchemaSQLTypedAndForeignTables(t *testing.T) {
	t.Parallel()
	const server = `CREATE FOREIGN DATA WRAPPER w; CREATE SERVER s FOREIGN DATA WRAPPER w`
	conn := pgtest.Conn(t)
	exec(t, conn, server+`; CREATE TYPE pair AS (a int, b text); CREATE TABLE pairs OF pair (a WITH OPTIONS NOT NULL);
		CREATE FOREIGN TABLE remote (id int OPTIONS (column_name 'ID') NOT NULL CHECK (id > 0), note text) SERVER s OPTIONS (table_name 'r')`)
	got := inspect(t, conn).SchemaSQL(nil)
	for _, want := range []string{"CREATE TABLE pairs (\n    a integer NOT NULL,\n    b text\n);",
		"CREATE FOREIGN TABLE remote (\n    id integer OPTIONS (column_name 'ID') NOT NULL,\n    note text\n) SERVER s OPTIONS (table_name 'r');",
		"ALTER TABLE remote ADD CONSTRAINT remote_id_check CHECK ((id > 0));"} {
		if !strings.Contains(got, want) {
			t.Errorf("schema SQL has no\n%s\nin\n%s", want, got)
		}
	}
	exec(t, pgtest.Conn(t), server+";\n"+got)
}

// TestSchemaSQLFunctionBodyAfterItsTable: a LANGUAGE sql function with a BEGIN ATOMIC or RETURN body
// (PostgreSQL 14 and later) is resolved when it is created, so the schema SQL writes it after the
// tables it names (in its body, or as a parameter's row type), and the schema runs on an empty
// database; a PL/pgSQL body, which PostgreSQL reads only when the function runs, stays before them.
func TestSchemaSQLFunctionBodyAfterItsTable(t *testing.T) {
	t.Parallel()
	conn := pgtest.Conn(t)
	exec(t, conn, `CREATE TABLE items (id int, price numeric, qty int);
		CREATE FUNCTION total_price() RETURNS numeric LANGUAGE sql BEGIN ATOMIC SELECT sum(price) FROM items; END;
		CREATE FUNCTION item_qty(i items) RETURNS int LANGUAGE sql RETURN i.qty;
		CREATE FUNCTION count_items() RETURNS bigint LANGUAGE plpgsql AS 'BEGIN RETURN (SELECT count(*) FROM items); END'`)
	got := inspect(t, conn).SchemaSQL(nil)
	table := strings.Index(got, "CREATE TABLE items")
	for _, fn := range []string{"total_price()", "item_qty(i items)"} {
		if i := strings.Index(got, "FUNCTION public."+fn); i < table {
			t.Errorf("schema SQL writes %s before table items:\n%s", fn, got)
		}
	}
	if i := strings.Index(got, "FUNCTION public.count_items()"); i < 0 || i > table {
		t.Errorf("schema SQL writes count_items(), a PL/pgSQL function, after table items, or not at all:\n%s", got)
	}
	exec(t, pgtest.Conn(t), got)
}

// TestSchemaSQLTablesReferencingAPartitionedTable: the schema the risk rules read for a migration that
// names a partitioned table has the tables whose foreign keys reference it, with those foreign keys:
// DETACH PARTITION takes ACCESS EXCLUSIVE on them and scans them (detach-partition-blocking), though
// the migration does not name them. A table referencing a plain table does not come along.
func TestSchemaSQLTablesReferencingAPartitionedTable(t *testing.T) {
	t.Parallel()
	conn := pgtest.Conn(t)
	exec(t, conn, `CREATE TABLE p (id bigint NOT NULL, d date NOT NULL, PRIMARY KEY (id, d)) PARTITION BY RANGE (d);
		CREATE TABLE p1 PARTITION OF p FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
		CREATE TABLE tr (id bigint PRIMARY KEY, p_id bigint, pd date, CONSTRAINT tr_p_fk FOREIGN KEY (p_id, pd) REFERENCES p);
		CREATE TABLE plain (id bigint PRIMARY KEY);
		CREATE TABLE tp (id bigint PRIMARY KEY, plain_id bigint REFERENCES plain)`)
	c := inspect(t, conn)
	got := c.SchemaSQL(func(name string) bool { return name == "p" || name == "p1" || name == "plain" })
	for _, want := range []string{"CREATE TABLE tr (", "ADD CONSTRAINT tr_p_fk FOREIGN KEY (p_id, pd) REFERENCES p(id, d)"} {
		if !strings.Contains(got, want) {
			t.Errorf("schema SQL has no %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "CREATE TABLE tp") {
		t.Errorf("schema SQL has tp, which references a plain table the migration names:\n%s", got)
	}
	exec(t, pgtest.Conn(t), got)
}
