package pg_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pg"
	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/schema"
)

// incrementalCases change objects whose deparsed text other objects quote: renames under views, foreign
// keys, defaults, triggers, indexes and functions; overloads that change how a call deparses; comments
// set and removed; drops with CASCADE; a temporary table that shadows a table; a search path change.
var incrementalCases = []string{
	`CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, created_at timestamptz DEFAULT now());
	 CREATE VIEW v_users AS SELECT id, email FROM users WHERE email <> ''`,
	`ALTER TABLE users RENAME TO members`,
	`ALTER TABLE members RENAME COLUMN email TO mail`,
	`CREATE TABLE orders (id int PRIMARY KEY, member_id int REFERENCES members (id), total numeric(10,2));
	 CREATE INDEX orders_member_idx ON orders (member_id)`,
	`ALTER TABLE members RENAME COLUMN id TO member_no`,
	`COMMENT ON TABLE orders IS 'orders'; COMMENT ON COLUMN orders.total IS 'sum'`,
	`COMMENT ON TABLE orders IS NULL`,
	`CREATE FUNCTION f(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 + 1';
	 CREATE VIEW v_f AS SELECT f(1::smallint) AS x`,
	`CREATE FUNCTION f(smallint) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 + 2'`,
	`DROP FUNCTION f(smallint)`,
	`CREATE FUNCTION g(a int, b int DEFAULT 0) RETURNS int LANGUAGE sql AS 'SELECT a + b';
	 CREATE VIEW v_g AS SELECT g(1) AS x`,
	`CREATE FUNCTION g(a int) RETURNS int LANGUAGE sql AS 'SELECT a'`,
	`DROP FUNCTION g(int)`,
	`CREATE TYPE mood AS ENUM ('low', 'high'); ALTER TABLE orders ADD COLUMN m mood DEFAULT 'low'`,
	`ALTER TYPE mood RENAME TO feeling`,
	`ALTER TYPE feeling ADD VALUE 'mid' BEFORE 'high'`,
	`CREATE SEQUENCE order_no; ALTER TABLE orders ALTER COLUMN id SET DEFAULT nextval('order_no')`,
	`ALTER SEQUENCE order_no RENAME TO order_number`,
	`CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
	 CREATE TRIGGER orders_stamp BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION stamp()`,
	`ALTER FUNCTION stamp() RENAME TO stamp_row`,
	`CREATE FUNCTION all_members() RETURNS SETOF members LANGUAGE sql STABLE AS 'SELECT * FROM members'`,
	`ALTER TABLE members RENAME TO people`,
	`CREATE DOMAIN posint AS int CHECK (VALUE > 0); ALTER TABLE orders ADD COLUMN qty posint`,
	`ALTER DOMAIN posint RENAME TO positive`,
	`CREATE FUNCTION lower_mail(text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT lower($1)';
	 CREATE INDEX people_mail_idx ON people (lower_mail(mail));
	 ALTER TABLE people ENABLE ROW LEVEL SECURITY;
	 CREATE POLICY people_self ON people USING (lower_mail(mail) = current_user)`,
	`ALTER FUNCTION lower_mail(text) RENAME TO norm_mail`,
	`CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);
	 CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')`,
	`ALTER TABLE events RENAME TO happenings`,
	`CREATE TABLE base (a int); CREATE TABLE child (b int) INHERITS (base)`,
	`ALTER TABLE base RENAME TO root; ALTER TABLE root ADD COLUMN c text`,
	// The child's inherited columns and constraints declared locally (attislocal, conislocal) and
	// inherited again (attinhcount, coninhcount).
	`ALTER TABLE root ADD CONSTRAINT root_c_check CHECK (c <> ''); ALTER TABLE child NO INHERIT root`,
	`ALTER TABLE child INHERIT root`,
	`ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2) USING total`,
	`CREATE MATERIALIZED VIEW totals AS SELECT member_id, sum(total) AS s FROM orders GROUP BY member_id;
	 CREATE UNIQUE INDEX totals_idx ON totals (member_id)`,
	`ALTER TABLE orders ADD COLUMN double_total numeric GENERATED ALWAYS AS (norm_total(total)) STORED`,
	`DO $$ BEGIN EXECUTE 'ALTER TABLE orders ADD COLUMN note text'; EXECUTE 'CREATE INDEX orders_note_idx ON orders (note)'; END $$`,
	`CREATE VIEW v_orders AS SELECT id, total FROM orders; CREATE VIEW v_orders2 AS SELECT id FROM v_orders`,
	`ALTER VIEW v_orders RENAME COLUMN id TO order_id`,
	`ALTER TABLE orders RENAME COLUMN total TO amount`,
	`ALTER TABLE orders ADD COLUMN extra int; ALTER TABLE orders DROP COLUMN note CASCADE`,
	`ALTER TABLE orders DROP COLUMN amount CASCADE`,
	`SAVEPOINT a; CREATE TABLE gone (id int); ROLLBACK TO SAVEPOINT a; CREATE TABLE kept (id int); RELEASE SAVEPOINT a`,
	`ALTER TABLE orders DROP CONSTRAINT orders_member_id_fkey; ALTER TABLE orders ALTER COLUMN m DROP DEFAULT`,
	`DROP TRIGGER orders_stamp ON orders; DROP POLICY people_self ON people`,
	`DO $$ BEGIN CREATE ROLE schemagate_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
	 GRANT SELECT, INSERT ON orders TO schemagate_reader; GRANT USAGE ON SEQUENCE order_number TO PUBLIC`,
	`REVOKE INSERT ON orders FROM schemagate_reader; REVOKE EXECUTE ON FUNCTION stamp_row() FROM PUBLIC;
	 GRANT USAGE ON TYPE feeling TO schemagate_reader`,
	`GRANT SELECT (id), UPDATE (extra, id) ON orders TO schemagate_reader; GRANT REFERENCES (id) ON orders TO PUBLIC`,
	`REVOKE UPDATE (extra) ON orders FROM schemagate_reader; REVOKE ALL (id) ON orders FROM PUBLIC`,
	`ALTER TABLE orders SET (fillfactor = 70, autovacuum_enabled = false); ALTER TABLE orders REPLICA IDENTITY FULL;
	 ALTER TABLE orders ALTER COLUMN extra SET STATISTICS 500; ALTER TABLE orders ALTER COLUMN extra SET STORAGE PLAIN`,
	`CREATE STATISTICS orders_stats ON id, extra FROM orders; CREATE RULE orders_keep AS ON DELETE TO orders DO INSTEAD NOTHING;
	 ALTER TABLE orders CLUSTER ON orders_pkey; ALTER VIEW v_f SET (security_barrier = true)`,
	`DROP STATISTICS orders_stats; DROP RULE orders_keep ON orders; ALTER TABLE orders RESET (fillfactor);
	 ALTER TABLE orders SET WITHOUT CLUSTER; ALTER TABLE orders REPLICA IDENTITY USING INDEX orders_pkey`,
	`ALTER TABLE orders OWNER TO schemagate_reader; ALTER FUNCTION stamp_row() OWNER TO schemagate_reader;
	 ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO schemagate_reader;
	 CREATE COLLATION public.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`,
	`ALTER TABLE orders OWNER TO CURRENT_USER; ALTER FUNCTION stamp_row() OWNER TO CURRENT_USER;
	 ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT ON TABLES FROM schemagate_reader; DROP COLLATION public.ci`,
	// The database-wide default privileges are whole reads only (the probe fingerprints pg_default_acl):
	// a partial read after them keeps the mark's.
	`ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO schemagate_reader; ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC`,
	`COMMENT ON TABLE orders IS 'default privileges kept'`,
	`COMMENT ON TABLE orders IS NULL; ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM schemagate_reader;
	 ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC`,
	// The owner and comment of a statistics object are its table's to read again; a collation's, its
	// schema's (a whole read). COMMENT writes only pg_description, and takes away its row with IS NULL.
	`CREATE STATISTICS orders_pair ON id, extra FROM orders; COMMENT ON STATISTICS orders_pair IS 'pair';
	 CREATE COLLATION public.inc_coll (provider = icu, locale = 'und'); COMMENT ON COLLATION inc_coll IS 'c'`,
	`COMMENT ON STATISTICS orders_pair IS 'pairs'`,
	`COMMENT ON STATISTICS orders_pair IS NULL`,
	`ALTER STATISTICS orders_pair OWNER TO schemagate_reader`,
	`COMMENT ON COLLATION inc_coll IS NULL`,
	`ALTER COLLATION inc_coll OWNER TO schemagate_reader; COMMENT ON COLLATION inc_coll IS 'again'`,
	`ALTER STATISTICS orders_pair OWNER TO CURRENT_USER; ALTER COLLATION inc_coll OWNER TO CURRENT_USER`,
	`DROP STATISTICS orders_pair; DROP COLLATION inc_coll`,
	// A table re-read keeps the comments of its indexes.
	`CREATE TABLE notes (id int, body text); CREATE INDEX notes_body_idx ON notes (body); COMMENT ON INDEX notes_body_idx IS 'by body'`,
	`ALTER TABLE notes ADD COLUMN at date`,
	// An identity's sequence changed directly: its options are the column's.
	`CREATE TABLE ids (id int GENERATED ALWAYS AS IDENTITY, v text)`,
	`ALTER SEQUENCE ids_id_seq INCREMENT BY 5 CACHE 3`,
	// ... its data type and persistence.
	`ALTER SEQUENCE ids_id_seq AS smallint; ALTER SEQUENCE ids_id_seq SET UNLOGGED`,
	`ALTER SEQUENCE ids_id_seq AS integer`,
	`ALTER SEQUENCE ids_id_seq SET LOGGED`,
	// ... its privileges, comment and name too, which change only its own pg_class and pg_description rows.
	`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO schemagate_reader`,
	`COMMENT ON SEQUENCE ids_id_seq IS 'ids'`,
	`ALTER SEQUENCE ids_id_seq RENAME TO ids_seq`,
	`REVOKE ALL ON SEQUENCE ids_seq FROM schemagate_reader; COMMENT ON SEQUENCE ids_seq IS NULL`,
	`ALTER TABLE ids RENAME TO idents`,
	// An aggregate's moving-aggregate final function's MFINALFUNC_MODIFY, replaced in place.
	`CREATE AGGREGATE inc_msum(int) (SFUNC = int4pl, STYPE = int, MSFUNC = int4pl, MINVFUNC = int4mi, MSTYPE = int, MFINALFUNC = int4abs)`,
	`CREATE OR REPLACE AGGREGATE inc_msum(int) (SFUNC = int4pl, STYPE = int, MSFUNC = int4pl, MINVFUNC = int4mi, MSTYPE = int,
	 MFINALFUNC = int4abs, MFINALFUNC_MODIFY = SHAREABLE)`,
	// A dropped domain constraint leaves only its lock.
	`CREATE DOMAIN pct AS int CONSTRAINT pct_min CHECK (VALUE >= 0) CONSTRAINT pct_max CHECK (VALUE <= 100)`,
	`ALTER DOMAIN pct DROP CONSTRAINT pct_max`,
	// Reads run under fixed settings, whatever time zone a migration leaves the session in.
	`SET TIME ZONE 'Asia/Tokyo'; CREATE TABLE stamps (at timestamptz DEFAULT '2020-01-01 00:00:00+00', i interval DEFAULT '1 day')`,
	`SET TIME ZONE 'America/New_York'; SET IntervalStyle = 'iso_8601'; ALTER TABLE notes ADD COLUMN z int`,
	`RESET TIME ZONE; RESET IntervalStyle`,
	// A typed table prints its type's name; a foreign table its server's and its options.
	`CREATE TYPE pair AS (a int, b text); CREATE TABLE pairs OF pair (a WITH OPTIONS NOT NULL)`,
	`ALTER TABLE pairs NOT OF`,
	`ALTER TABLE pairs OF pair`,
	`ALTER TYPE pair RENAME TO couple`,
	`ALTER TYPE couple ADD ATTRIBUTE c date CASCADE`,
	`CREATE FOREIGN DATA WRAPPER sg_fdw; CREATE SERVER sg_srv FOREIGN DATA WRAPPER sg_fdw;
	 CREATE FOREIGN TABLE remote (a int OPTIONS (column_name 'A'), b text) SERVER sg_srv OPTIONS (x 'y')`,
	`ALTER FOREIGN TABLE remote OPTIONS (SET x 'z', ADD q '1'); ALTER FOREIGN TABLE remote ALTER COLUMN a OPTIONS (DROP column_name)`,
	`ALTER SERVER sg_srv RENAME TO sg_server`,
	`ALTER FOREIGN TABLE remote ADD COLUMN c int OPTIONS (k 'v'); COMMENT ON FOREIGN TABLE remote IS 'far'`,
	`DROP SERVER sg_server CASCADE`,
	// Wrappers, servers, user mappings and casts are read by every read: a cast prints its types and
	// function, a wrapper its functions, whose renames leave their rows alone.
	`CREATE FUNCTION inc_fdw_validator(text[], oid) RETURNS void LANGUAGE plpgsql AS 'BEGIN END';
	 CREATE FOREIGN DATA WRAPPER inc_fdw VALIDATOR inc_fdw_validator OPTIONS (a '1');
	 CREATE SERVER inc_srv FOREIGN DATA WRAPPER inc_fdw OPTIONS (host 'h'); CREATE USER MAPPING FOR PUBLIC SERVER inc_srv OPTIONS (user 'u');
	 CREATE TYPE inc_color AS ENUM ('red'); CREATE FUNCTION inc_color_len(inc_color) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 1';
	 CREATE CAST (inc_color AS int) WITH FUNCTION inc_color_len(inc_color) AS ASSIGNMENT`,
	`ALTER FUNCTION inc_fdw_validator(text[], oid) RENAME TO inc_fdw_check`,
	`ALTER TYPE inc_color RENAME TO inc_colour`,
	`ALTER FUNCTION inc_color_len(inc_colour) RENAME TO inc_colour_len`,
	`ALTER SERVER inc_srv VERSION '2' OPTIONS (SET host 'i', ADD port '1'); COMMENT ON SERVER inc_srv IS 's'`,
	`COMMENT ON SERVER inc_srv IS NULL; COMMENT ON CAST (inc_colour AS int) IS 'c'`,
	`COMMENT ON CAST (inc_colour AS int) IS NULL; GRANT USAGE ON FOREIGN SERVER inc_srv TO schemagate_reader`,
	// A user mapping changes only its own row, which only superusers may read: the state fingerprints them.
	`ALTER USER MAPPING FOR PUBLIC SERVER inc_srv OPTIONS (SET user 'v')`,
	`CREATE USER MAPPING FOR CURRENT_USER SERVER inc_srv`,
	`DROP USER MAPPING FOR PUBLIC SERVER inc_srv`,
	`ALTER FOREIGN DATA WRAPPER inc_fdw NO VALIDATOR OPTIONS (DROP a)`,
	`ALTER SERVER inc_srv RENAME TO inc_server; ALTER FOREIGN DATA WRAPPER inc_fdw RENAME TO inc_wrapper`,
	`DROP USER MAPPING FOR CURRENT_USER SERVER inc_server; DROP CAST (inc_colour AS int)`,
	`DROP SERVER inc_server; DROP FOREIGN DATA WRAPPER inc_wrapper`,
	// Operators are read by every read: an operator prints its types and functions, whose renames leave
	// its row alone. A shell operator (the NEGATOR !=== names) is one too.
	`CREATE FUNCTION inc_op_eq(int, int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1 = $2';
	 CREATE TYPE inc_pair AS (a int, b int);
	 CREATE FUNCTION inc_pair_eq(inc_pair, inc_pair) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1 = $2';
	 CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = inc_op_eq, COMMUTATOR = ===, RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
	 CREATE OPERATOR ==== (LEFTARG = inc_pair, RIGHTARG = inc_pair, FUNCTION = inc_pair_eq, NEGATOR = !===)`,
	`ALTER OPERATOR === (int, int) SET (RESTRICT = scalarltsel, JOIN = NONE); COMMENT ON OPERATOR ==== (inc_pair, inc_pair) IS 'o'`,
	`ALTER FUNCTION inc_op_eq(int, int) RENAME TO inc_op_same`,
	`ALTER TYPE inc_pair RENAME TO inc_couple`,
	`COMMENT ON OPERATOR ==== (inc_couple, inc_couple) IS NULL`,
	`DROP OPERATOR ==== (inc_couple, inc_couple); DROP OPERATOR !=== (inc_couple, inc_couple)`,
	// Operator families and classes are read by every read too: their members quote operators,
	// functions and types. ALTER OPERATOR FAMILY ... ADD writes members, not the family's row; DROP takes
	// away member rows, leaving their locks.
	`CREATE FUNCTION inc_cmp(int, int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT CASE WHEN $1 < $2 THEN -1 WHEN $1 > $2 THEN 1 ELSE 0 END';
	 CREATE OPERATOR FAMILY inc_fam USING btree;
	 CREATE OPERATOR CLASS inc_ops FOR TYPE int USING btree FAMILY inc_fam AS OPERATOR 3 ===, FUNCTION 1 inc_cmp(int, int);
	 CREATE TABLE inc_t (a int); CREATE INDEX inc_t_a ON inc_t (a inc_ops)`,
	`CREATE FUNCTION inc_cmp48(int, bigint) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT btint48cmp($1, $2)';
	 ALTER OPERATOR FAMILY inc_fam USING btree ADD OPERATOR 1 < (int, bigint), FUNCTION 1 (int, bigint) inc_cmp48(int, bigint)`,
	`ALTER FUNCTION inc_cmp(int, int) RENAME TO inc_compare`,
	`ALTER FUNCTION inc_cmp48(int, bigint) RENAME TO inc_compare48`,
	`ALTER OPERATOR FAMILY inc_fam USING btree DROP OPERATOR 1 (int, bigint); COMMENT ON OPERATOR CLASS inc_ops USING btree IS 'c'`,
	`ALTER OPERATOR CLASS inc_ops USING btree RENAME TO inc_ops2; COMMENT ON OPERATOR FAMILY inc_fam USING btree IS 'f'`,
	`COMMENT ON OPERATOR CLASS inc_ops2 USING btree IS NULL; ALTER OPERATOR FAMILY inc_fam USING btree RENAME TO inc_family`,
	`DROP TABLE inc_t; DROP OPERATOR CLASS inc_ops2 USING btree`,
	`DROP OPERATOR FAMILY inc_family USING btree; DROP OPERATOR === (int, int); DROP FUNCTION inc_compare(int, int), inc_compare48(int, bigint)`,
	// A built-in family is read for the members users added to it: adding and dropping them writes and
	// locks member rows, not the family's; renames of what they quote write neither.
	`CREATE TYPE inc_box AS (v int);
	 CREATE FUNCTION inc_lt_box(int, inc_box) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1 < $2.v';
	 CREATE FUNCTION inc_cmp_box(int, inc_box) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT btint4cmp($1, $2.v)';
	 CREATE OPERATOR < (LEFTARG = int, RIGHTARG = inc_box, FUNCTION = inc_lt_box)`,
	`ALTER OPERATOR FAMILY integer_ops USING btree ADD OPERATOR 1 < (int, inc_box), FUNCTION 1 (int, inc_box) inc_cmp_box(int, inc_box)`,
	`ALTER FUNCTION inc_cmp_box(int, inc_box) RENAME TO inc_compare_box`,
	`ALTER TYPE inc_box RENAME TO inc_crate`,
	`ALTER OPERATOR FAMILY integer_ops USING btree DROP FUNCTION 1 (int, inc_crate)`,
	`DROP TYPE inc_crate CASCADE`,
	// Text search parsers and templates are read by every read: they quote their functions.
	`CREATE FUNCTION inc_prs_start(internal, int4) RETURNS internal LANGUAGE internal IMMUTABLE STRICT AS 'prsd_start';
	 CREATE TEXT SEARCH PARSER inc_prs (START = inc_prs_start, GETTOKEN = prsd_nexttoken, END = prsd_end, LEXTYPES = prsd_lextype, HEADLINE = prsd_headline);
	 CREATE TEXT SEARCH TEMPLATE inc_tmpl (INIT = dsimple_init, LEXIZE = dsimple_lexize);
	 CREATE TEXT SEARCH CONFIGURATION inc_pcfg (PARSER = inc_prs); CREATE TEXT SEARCH DICTIONARY inc_tdict (TEMPLATE = inc_tmpl)`,
	`COMMENT ON TEXT SEARCH PARSER inc_prs IS 'p'; COMMENT ON TEXT SEARCH TEMPLATE inc_tmpl IS 't'`,
	`ALTER TEXT SEARCH PARSER inc_prs RENAME TO inc_parser; ALTER TEXT SEARCH TEMPLATE inc_tmpl RENAME TO inc_template`,
	`COMMENT ON TEXT SEARCH PARSER inc_parser IS NULL`,
	`ALTER FUNCTION inc_prs_start(internal, int4) RENAME TO inc_parser_start`,
	`CREATE SCHEMA inc_ts; ALTER TEXT SEARCH TEMPLATE inc_template SET SCHEMA inc_ts`,
	`DROP TEXT SEARCH CONFIGURATION inc_pcfg; DROP TEXT SEARCH DICTIONARY inc_tdict; DROP TEXT SEARCH PARSER inc_parser;
	 DROP TEXT SEARCH TEMPLATE inc_ts.inc_template; DROP SCHEMA inc_ts;
	 DROP FUNCTION inc_parser_start(internal, int4)`,
	// Access methods, languages, conversions and transforms are read by every read: they quote their
	// functions, whose renames leave their rows alone (and a transform its type).
	`CREATE TABLE inc_am_t (a int); CREATE MATERIALIZED VIEW inc_am_mv AS SELECT 1 AS x;
	 CREATE FUNCTION inc_am_handler(internal) RETURNS table_am_handler LANGUAGE internal AS 'heap_tableam_handler';
	 CREATE ACCESS METHOD inc_heap TYPE TABLE HANDLER inc_am_handler;
	 CREATE FUNCTION inc_lang_handler() RETURNS language_handler LANGUAGE c AS '$libdir/plpgsql', 'plpgsql_call_handler';
	 CREATE FUNCTION inc_lang_inline(internal) RETURNS void LANGUAGE c AS '$libdir/plpgsql', 'plpgsql_inline_handler';
	 CREATE LANGUAGE inc_lang HANDLER inc_lang_handler INLINE inc_lang_inline;
	 CREATE FUNCTION inc_conv_fn(int4, int4, cstring, internal, int4, bool) RETURNS int4 LANGUAGE c STRICT
	   AS '$libdir/utf8_and_iso8859_1', 'iso8859_1_to_utf8';
	 CREATE CONVERSION inc_conv FOR 'LATIN1' TO 'UTF8' FROM inc_conv_fn;
	 CREATE TYPE inc_tr AS ENUM ('a');
	 CREATE FUNCTION inc_tr_from(internal) RETURNS internal LANGUAGE internal IMMUTABLE STRICT AS 'prsd_start';
	 CREATE FUNCTION inc_tr_to(internal) RETURNS inc_tr LANGUAGE internal IMMUTABLE STRICT AS 'enum_in';
	 CREATE TRANSFORM FOR inc_tr LANGUAGE inc_lang (FROM SQL WITH FUNCTION inc_tr_from(internal), TO SQL WITH FUNCTION inc_tr_to(internal))`,
	`ALTER TABLE inc_am_t SET ACCESS METHOD inc_heap; ALTER MATERIALIZED VIEW inc_am_mv SET ACCESS METHOD inc_heap`,
	`ALTER FUNCTION inc_am_handler(internal) RENAME TO inc_am_handler2`,
	`ALTER FUNCTION inc_lang_handler() RENAME TO inc_lang_handler2`,
	`COMMENT ON ACCESS METHOD inc_heap IS 'a'; COMMENT ON LANGUAGE inc_lang IS 'l'`,
	`CREATE FUNCTION inc_lang_valid(oid) RETURNS void LANGUAGE c AS '$libdir/plpgsql', 'plpgsql_validator';
	 CREATE OR REPLACE TRUSTED LANGUAGE inc_lang HANDLER inc_lang_handler2 VALIDATOR inc_lang_valid; GRANT USAGE ON LANGUAGE inc_lang TO PUBLIC`,
	`ALTER LANGUAGE inc_lang RENAME TO inc_language; COMMENT ON LANGUAGE inc_language IS NULL`,
	`ALTER FUNCTION inc_conv_fn(int4, int4, cstring, internal, int4, bool) RENAME TO inc_conv_fn2`,
	`COMMENT ON CONVERSION inc_conv IS 'c'`,
	`CREATE SCHEMA inc_cs; ALTER CONVERSION inc_conv SET SCHEMA inc_cs`,
	`ALTER CONVERSION inc_cs.inc_conv RENAME TO inc_conversion; COMMENT ON CONVERSION inc_cs.inc_conversion IS NULL`,
	`ALTER FUNCTION inc_tr_from(internal) RENAME TO inc_tr_from2`,
	`COMMENT ON TRANSFORM FOR inc_tr LANGUAGE inc_language IS 't'`,
	`ALTER TYPE inc_tr RENAME TO inc_tr2`,
	`CREATE OR REPLACE TRANSFORM FOR inc_tr2 LANGUAGE inc_language (TO SQL WITH FUNCTION inc_tr_to(internal))`,
	`DROP TRANSFORM FOR inc_tr2 LANGUAGE inc_language; DROP CONVERSION inc_cs.inc_conversion; DROP SCHEMA inc_cs`,
	`DROP TABLE inc_am_t; DROP MATERIALIZED VIEW inc_am_mv; DROP ACCESS METHOD inc_heap; DROP LANGUAGE inc_language`,
	`DROP FUNCTION inc_am_handler2(internal), inc_lang_handler2(), inc_lang_inline(internal), inc_lang_valid(oid),
	   inc_conv_fn2(int4, int4, cstring, internal, int4, bool), inc_tr_from2(internal), inc_tr_to(internal); DROP TYPE inc_tr2`,
	// Text search objects are read whole, mappings too: ALTER ... MAPPING writes neither the
	// configuration's row nor a lock, and a mapping dropped leaves no row behind.
	`CREATE TEXT SEARCH DICTIONARY inc_dict (TEMPLATE = simple, STOPWORDS = english);
	 CREATE TEXT SEARCH CONFIGURATION inc_cfg (COPY = english);
	 ALTER TABLE notes ADD COLUMN tsv tsvector DEFAULT to_tsvector('inc_cfg', ''); CREATE INDEX notes_fts ON notes USING gin (to_tsvector('inc_cfg', body))`,
	`ALTER TEXT SEARCH CONFIGURATION inc_cfg ALTER MAPPING FOR asciiword WITH inc_dict, english_stem`,
	`ALTER TEXT SEARCH CONFIGURATION inc_cfg DROP MAPPING FOR email`,
	`ALTER TEXT SEARCH DICTIONARY inc_dict (ACCEPT = false); COMMENT ON TEXT SEARCH CONFIGURATION inc_cfg IS 'fts'`,
	`COMMENT ON TEXT SEARCH CONFIGURATION inc_cfg IS NULL`,
	`ALTER TEXT SEARCH CONFIGURATION inc_cfg RENAME TO inc_cfg2`,
	`DROP INDEX notes_fts; ALTER TABLE notes DROP COLUMN tsv; DROP TEXT SEARCH CONFIGURATION inc_cfg2; DROP TEXT SEARCH DICTIONARY inc_dict`,
	// Event triggers are read whole, by partial reads too: a renamed function changes their text.
	`CREATE FUNCTION inc_evt() RETURNS event_trigger LANGUAGE plpgsql AS 'BEGIN END';
	 CREATE EVENT TRIGGER inc_et ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION inc_evt()`,
	`ALTER FUNCTION inc_evt() RENAME TO inc_evt2`,
	`ALTER EVENT TRIGGER inc_et DISABLE`, // no lock, no other row
	`COMMENT ON EVENT TRIGGER inc_et IS 'e'`,
	`COMMENT ON EVENT TRIGGER inc_et IS NULL; ALTER EVENT TRIGGER inc_et RENAME TO inc_et2`,
	`DROP EVENT TRIGGER inc_et2; DROP FUNCTION inc_evt2()`,
	// Publications are read whole, by partial reads too: they quote the names of their tables and
	// columns, which a rename changes without touching them. A change to one is a whole read.
	`CREATE PUBLICATION inc_pub FOR TABLE notes (id, body) WHERE (id > 0), orders WITH (publish = 'insert');
	 CREATE SCHEMA pubs; CREATE TABLE pubs.t (a int); CREATE PUBLICATION inc_spub FOR TABLES IN SCHEMA pubs`,
	`ALTER TABLE notes RENAME COLUMN body TO text_body`,
	`ALTER TABLE notes RENAME TO notes_p`,
	`ALTER PUBLICATION inc_pub DROP TABLE orders`, // deletes a row: only its lock is left
	`ALTER PUBLICATION inc_pub SET (publish = 'insert, delete', publish_via_partition_root = true)`,
	`COMMENT ON PUBLICATION inc_pub IS 'p'`,
	`COMMENT ON PUBLICATION inc_pub IS NULL; ALTER PUBLICATION inc_pub RENAME TO inc_pub2`,
	`CREATE TABLE pubbed (a int); ALTER PUBLICATION inc_pub2 ADD TABLE pubbed WHERE (a > 1)`,
	`DROP TABLE pubbed`,
	`ALTER PUBLICATION inc_spub DROP TABLES IN SCHEMA pubs`,
	`ALTER PUBLICATION inc_spub ADD TABLES IN SCHEMA pubs; ALTER PUBLICATION inc_spub OWNER TO CURRENT_USER`,
	`DROP PUBLICATION inc_pub2, inc_spub; DROP SCHEMA pubs CASCADE;
	 ALTER TABLE notes_p RENAME COLUMN text_body TO body; ALTER TABLE notes_p RENAME TO notes`,
	// A view's rules (not _RETURN) are read with the view: replaced, commented, quoting a renamed table, dropped.
	`CREATE TABLE inc_rt (a int); CREATE TABLE inc_rt2 (a int); CREATE VIEW inc_rv AS SELECT a FROM inc_rt;
	 CREATE RULE inc_rv_ins AS ON INSERT TO inc_rv DO INSTEAD INSERT INTO inc_rt VALUES (new.a)`,
	`CREATE OR REPLACE RULE inc_rv_ins AS ON INSERT TO inc_rv DO INSTEAD INSERT INTO inc_rt2 VALUES (new.a); COMMENT ON RULE inc_rv_ins ON inc_rv IS 'r'`,
	`COMMENT ON RULE inc_rv_ins ON inc_rv IS NULL`,
	`ALTER TABLE inc_rt2 RENAME TO inc_rt3`,
	`DROP RULE inc_rv_ins ON inc_rv`,
	// A materialized view's column storage, compression and options, and its extended statistics.
	`CREATE TABLE inc_mt (a text, b text); CREATE MATERIALIZED VIEW inc_mv AS SELECT a, b FROM inc_mt`,
	`ALTER MATERIALIZED VIEW inc_mv ALTER COLUMN a SET STORAGE EXTERNAL, ALTER COLUMN a SET (n_distinct = 100), ALTER COLUMN b SET COMPRESSION lz4`,
	`CREATE STATISTICS inc_mvs (dependencies) ON a, b FROM inc_mv; COMMENT ON STATISTICS inc_mvs IS 's'`,
	`ALTER STATISTICS inc_mvs SET STATISTICS 50; COMMENT ON STATISTICS inc_mvs IS NULL`,
	`ALTER MATERIALIZED VIEW inc_mv RENAME COLUMN b TO bb`,
	`DROP STATISTICS inc_mvs; ALTER MATERIALIZED VIEW inc_mv ALTER COLUMN a SET STORAGE EXTENDED, ALTER COLUMN a RESET (n_distinct)`,
	// ... and its TOAST table's storage parameters, which write only the TOAST table's pg_class row.
	`ALTER MATERIALIZED VIEW inc_mv SET (toast.autovacuum_enabled = false, fillfactor = 60)`,
	`ALTER MATERIALIZED VIEW inc_mv RESET (toast.autovacuum_enabled); ALTER MATERIALIZED VIEW inc_mv SET (toast.autovacuum_vacuum_threshold = 100)`,
	// Objects marked as depending on an extension (pg_depend deptype 'x'), which a DROP EXTENSION drops.
	`CREATE EXTENSION IF NOT EXISTS hstore; CREATE TABLE inc_xt (a int); CREATE INDEX inc_xi ON inc_xt (a);
	 CREATE FUNCTION inc_xf() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
	 CREATE TRIGGER inc_xtr BEFORE INSERT ON inc_xt FOR EACH ROW EXECUTE FUNCTION inc_xf(); CREATE MATERIALIZED VIEW inc_xmv AS SELECT a FROM inc_xt`,
	`ALTER INDEX inc_xi DEPENDS ON EXTENSION hstore`,
	`ALTER FUNCTION inc_xf() DEPENDS ON EXTENSION hstore; ALTER TRIGGER inc_xtr ON inc_xt DEPENDS ON EXTENSION hstore`,
	`ALTER MATERIALIZED VIEW inc_xmv DEPENDS ON EXTENSION hstore`,
	`ALTER INDEX inc_xi NO DEPENDS ON EXTENSION hstore; ALTER FUNCTION inc_xf() NO DEPENDS ON EXTENSION hstore`,
	`ALTER TRIGGER inc_xtr ON inc_xt NO DEPENDS ON EXTENSION hstore; ALTER MATERIALIZED VIEW inc_xmv NO DEPENDS ON EXTENSION hstore`,
	`ALTER INDEX inc_xi DEPENDS ON EXTENSION hstore`,
	// Objects given to an extension and taken from it (ALTER EXTENSION ... ADD, DROP): the extension's
	// members, which only whole reads have, change with no row of the extension's written or locked.
	`CREATE FUNCTION inc_em(int) RETURNS int LANGUAGE sql AS 'SELECT 1'; CREATE TABLE inc_emt (a int); CREATE TYPE inc_eme AS ENUM ('a')`,
	`ALTER EXTENSION hstore ADD FUNCTION inc_em(int)`,
	`ALTER EXTENSION hstore ADD TABLE inc_emt; ALTER EXTENSION hstore ADD TYPE inc_eme`,
	`ALTER EXTENSION hstore DROP FUNCTION inc_em(int)`,
	`ALTER EXTENSION hstore DROP TABLE inc_emt`,
	`ALTER EXTENSION hstore DROP TYPE inc_eme`,
	`ALTER EXTENSION hstore DROP FUNCTION hstore_version_diag(hstore)`,
	`ALTER EXTENSION hstore ADD FUNCTION hstore_version_diag(hstore)`,
	`DROP EXTENSION hstore`,
	// Shell types (CREATE TYPE name alone; no ALTER TYPE takes one): made, commented, defined as a base type, dropped.
	`CREATE TYPE inc_sh; CREATE TYPE inc_sh2; COMMENT ON TYPE inc_sh IS 'shell'`,
	`COMMENT ON TYPE inc_sh IS NULL`,
	`CREATE FUNCTION inc_sh2_in(cstring) RETURNS inc_sh2 LANGUAGE internal IMMUTABLE STRICT AS 'int4in';
	 CREATE FUNCTION inc_sh2_out(inc_sh2) RETURNS cstring LANGUAGE internal IMMUTABLE STRICT AS 'int4out';
	 CREATE TYPE inc_sh2 (INPUT = inc_sh2_in, OUTPUT = inc_sh2_out, LIKE = int4)`,
	`DROP TYPE inc_sh; DROP TYPE inc_sh2 CASCADE`,
	`CREATE TEMP TABLE people (x int)`,
	`DROP VIEW v_users; DROP TABLE people CASCADE`,
	`CREATE SCHEMA app; CREATE TABLE app.settings (k text PRIMARY KEY, v text)`,
	`ALTER TABLE app.settings SET SCHEMA public`,
	`SET search_path = public, app`,
	`CREATE TABLE app.orders (id int)`,
}

// TestIncrementalInspectMatchesFull applies each case three ways and checks every incremental read
// against a full one (verify mode): committed with its locks captured, read in the middle of its own
// transaction, and undone by a rolled-back transaction. Most reads must take the incremental path.
func TestIncrementalInspectMatchesFull(t *testing.T) {
	conn := pgtest.Conn(t)
	role := "sg_role_" + strings.ToLower(rand.Text()[:8])
	t.Cleanup(func() {
		// The role outlives the test database only if its policy is gone: drop what it owns first.
		c := pgtest.Conn(t)
		for _, r := range []string{role + "_app", role + "_app2", role, role + "_renamed"} {
			_, _ = conn.Exec(context.Background(), "DROP POLICY IF EXISTS orders_audit ON orders")
			_, _ = c.Exec(context.Background(), "DROP ROLE IF EXISTS "+r)
		}
	})
	// Role names show in policies: a rename changes one with no trace in the table's catalog rows.
	at := slices.Index(incrementalCases, "CREATE SCHEMA app; CREATE TABLE app.settings (k text PRIMARY KEY, v text)")
	if at < 0 {
		t.Fatal("case list changed: put the role cases before the search path changes")
	}
	cases := slices.Concat(incrementalCases[:at], []string{
		`CREATE ROLE ` + role + `; CREATE POLICY orders_audit ON orders TO ` + role + ` USING (true)`,
		`ALTER ROLE ` + role + ` RENAME TO ` + role + `_renamed`,
		`DROP POLICY orders_audit ON orders`,
		// Roles are read by whole reads only: their attributes, settings, comments and memberships live
		// in shared catalogs whose writes take no lock; the probe's roles fingerprint sees them change.
		`CREATE ROLE ` + role + `_app LOGIN CONNECTION LIMIT 2 PASSWORD 'x'; GRANT ` + role + `_renamed TO ` + role + `_app`,
		`ALTER ROLE ` + role + `_app CONNECTION LIMIT 5 NOINHERIT VALID UNTIL '2030-01-01'`,
		`ALTER ROLE ` + role + `_app SET search_path = a, b`,
		`DO $$ BEGIN EXECUTE format('ALTER ROLE ` + role + `_app IN DATABASE %I SET work_mem = ''8MB''', current_database()); END $$`,
		`COMMENT ON ROLE ` + role + `_app IS 'the app'`,
		`COMMENT ON ROLE ` + role + `_app IS NULL`,
		`ALTER ROLE ` + role + `_app PASSWORD NULL`, // only its pg_authid row, which superusers alone read
		`REVOKE ` + role + `_renamed FROM ` + role + `_app`,
		`GRANT ` + role + `_renamed TO ` + role + `_app WITH ADMIN OPTION`,
		`ALTER ROLE ` + role + `_app RESET ALL; ALTER ROLE ` + role + `_app RENAME TO ` + role + `_app2`,
		`DROP ROLE ` + role + `_app2`,
	}, incrementalCases[at:])
	in := runIncrementalCases(t, conn, cases, false)
	if in.Partial < 2*len(cases) {
		t.Errorf("%d incremental reads out of %d: the incremental path is not taken", in.Partial, in.Partial+in.Full)
	}
}

// TestIncrementalLeanReads: while the catalog has no event trigger, publication, foreign-data wrapper,
// server, user mapping, cast, operator, operator family or class, text search parser or template, access
// method, language, conversion or transform, partial reads leave those sections out (pg.leanSections).
// Each case here starts from a database that has none, makes one (which only a whole read may find), changes what its text quotes (which a partial read must
// read it whole for) and takes it away again; verify mode checks every read against a whole one.
func TestIncrementalLeanReads(t *testing.T) {
	cases := []string{
		`CREATE TABLE lean_t (a int)`,
		`CREATE FUNCTION lean_eq(int, int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1 = $2';
		 CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = lean_eq)`,
		`ALTER FUNCTION lean_eq(int, int) RENAME TO lean_same`,
		`DROP OPERATOR === (int, int); DROP FUNCTION lean_same(int, int)`,
		`ALTER TABLE lean_t ADD COLUMN b text`,
		`CREATE OPERATOR FAMILY lean_f USING btree`,
		`ALTER TABLE lean_t ADD COLUMN f int`, // a partial read while the family is there
		`DROP OPERATOR FAMILY lean_f USING btree`,
		`CREATE FUNCTION lean_evt() RETURNS event_trigger LANGUAGE plpgsql AS 'BEGIN END';
		 CREATE EVENT TRIGGER lean_et ON ddl_command_end WHEN TAG IN ('CREATE SEQUENCE') EXECUTE FUNCTION lean_evt()`,
		`ALTER FUNCTION lean_evt() RENAME TO lean_evt2`,
		`DROP EVENT TRIGGER lean_et; DROP FUNCTION lean_evt2()`,
		`CREATE PUBLICATION lean_pub FOR TABLE lean_t`,
		`ALTER TABLE lean_t RENAME TO lean_u`,
		`DROP PUBLICATION lean_pub`,
		`CREATE FOREIGN DATA WRAPPER lean_w`,
		`ALTER TABLE lean_u ADD COLUMN w int`,
		// postgres_fdw's wrapper is the extension's, left out: its server is the only one of these kinds.
		`CREATE EXTENSION postgres_fdw; CREATE SERVER lean_s FOREIGN DATA WRAPPER postgres_fdw; DROP FOREIGN DATA WRAPPER lean_w`,
		`ALTER TABLE lean_u ADD COLUMN v int`,
		`CREATE USER MAPPING FOR CURRENT_USER SERVER lean_s OPTIONS (user 'x')`,
		`DROP SERVER lean_s CASCADE; DROP EXTENSION postgres_fdw`,
		`CREATE TYPE lean_c AS ENUM ('a'); CREATE FUNCTION lean_ci(lean_c) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 1';
		 CREATE CAST (lean_c AS int) WITH FUNCTION lean_ci(lean_c)`,
		`ALTER FUNCTION lean_ci(lean_c) RENAME TO lean_cj`,
		`DROP CAST (lean_c AS int); DROP FUNCTION lean_cj(lean_c); DROP TYPE lean_c`,
		`CREATE TEXT SEARCH TEMPLATE lean_tmpl (INIT = dsimple_init, LEXIZE = dsimple_lexize)`,
		`ALTER TABLE lean_u ADD COLUMN x int`,
		`DROP TEXT SEARCH TEMPLATE lean_tmpl;
		 CREATE TEXT SEARCH PARSER lean_prs (START = prsd_start, GETTOKEN = prsd_nexttoken, END = prsd_end, LEXTYPES = prsd_lextype)`,
		`ALTER TABLE lean_u ADD COLUMN p int`,
		`DROP TEXT SEARCH PARSER lean_prs`,
		`CREATE FUNCTION lean_amh(internal) RETURNS index_am_handler LANGUAGE internal AS 'bthandler';
		 CREATE ACCESS METHOD lean_am TYPE INDEX HANDLER lean_amh`,
		`ALTER FUNCTION lean_amh(internal) RENAME TO lean_amh2`,
		`ALTER TABLE lean_u ADD COLUMN am int`,
		`DROP ACCESS METHOD lean_am; DROP FUNCTION lean_amh2(internal)`,
		`CREATE FUNCTION lean_lh() RETURNS language_handler LANGUAGE c AS '$libdir/plpgsql', 'plpgsql_call_handler';
		 CREATE LANGUAGE lean_lang HANDLER lean_lh`,
		`ALTER FUNCTION lean_lh() RENAME TO lean_lh2`,
		`ALTER TABLE lean_u ADD COLUMN l int`,
		`DROP LANGUAGE lean_lang; DROP FUNCTION lean_lh2()`,
		// plpgsql is built in: the transform is the only one of these kinds.
		`CREATE TYPE lean_tt AS ENUM ('a'); CREATE FUNCTION lean_to(internal) RETURNS lean_tt LANGUAGE internal IMMUTABLE STRICT AS 'enum_in';
		 CREATE TRANSFORM FOR lean_tt LANGUAGE plpgsql (TO SQL WITH FUNCTION lean_to(internal))`,
		`ALTER FUNCTION lean_to(internal) RENAME TO lean_to2`,
		`ALTER TABLE lean_u ADD COLUMN tt int`,
		`DROP TRANSFORM FOR lean_tt LANGUAGE plpgsql; DROP FUNCTION lean_to2(internal); DROP TYPE lean_tt`,
		`CREATE FUNCTION lean_cf(int4, int4, cstring, internal, int4, bool) RETURNS int4 LANGUAGE c STRICT
		   AS '$libdir/utf8_and_iso8859_1', 'iso8859_1_to_utf8';
		 CREATE CONVERSION lean_conv FOR 'LATIN1' TO 'UTF8' FROM lean_cf`,
		`ALTER FUNCTION lean_cf(int4, int4, cstring, internal, int4, bool) RENAME TO lean_cf2`,
		`DROP CONVERSION lean_conv; DROP FUNCTION lean_cf2(int4, int4, cstring, internal, int4, bool)`,
		`ALTER TABLE lean_u DROP COLUMN b, DROP COLUMN f, DROP COLUMN w, DROP COLUMN v, DROP COLUMN x, DROP COLUMN p,
		 DROP COLUMN am, DROP COLUMN l, DROP COLUMN tt`,
	}
	for _, track := range []bool{false, true} { // scanned, and from the change log (SCHEMAGATE_INSPECT=log)
		conn := pgtest.Conn(t)
		in := runIncrementalCases(t, conn, cases, track)
		if in.Lean == 0 || in.Lean == in.Partial {
			t.Errorf("change log %v: %d lean reads of %d partial ones: the cases do not take both paths", track, in.Lean, in.Partial)
		}
		if track && in.Logged == 0 {
			t.Errorf("no read took its changes from the change log")
		}
	}
}

// TestIncrementalInspectFromChangeLog is TestIncrementalInspectMatchesFull with the change log installed
// (Inspector.TrackChanges), as the rehearsal has it: every read is still checked against a full one, and
// most take their seeds from the log instead of scanning the catalogs.
func TestIncrementalInspectFromChangeLog(t *testing.T) {
	conn := pgtest.Conn(t)
	t.Cleanup(func() {
		_, _ = conn.Exec(context.Background(), "DROP OWNED BY schemagate_reader; DROP ROLE IF EXISTS schemagate_reader")
	})
	in := runIncrementalCases(t, conn, incrementalCases, true)
	if in.Logged < len(incrementalCases) {
		t.Errorf("%d of %d incremental reads from the change log: the log is not used", in.Logged, in.Partial)
	}
}

// TestChangeLogFallsBack: the log cannot vouch for a read, which then scans the catalogs, when it names
// no object (GRANT), when the event triggers were disabled, and in another session.
func TestChangeLogFallsBack(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Conn(t)
	exec(t, conn, "CREATE TABLE t (id int PRIMARY KEY, a text)")
	in := &pg.Inspector{Ignore: schema.DefaultIgnore, Mode: pg.InspectVerify}
	if err := in.TrackChanges(ctx, conn); err != nil {
		t.Fatal(err)
	}
	mark, err := in.Inspect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	read := func(sql string, want bool) {
		t.Helper()
		exec(t, conn, in.BeginSQL())
		exec(t, conn, sql)
		locks, err := in.Locks(ctx, conn)
		if err != nil {
			t.Fatal(err)
		}
		exec(t, conn, "COMMIT")
		logged := in.Logged
		next, err := in.Since(ctx, conn, mark, locks, in.Ran(sql, mark))
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		if got := in.Logged > logged; got != want {
			t.Errorf("%s: read from the change log %v, want %v", sql, got, want)
		}
		mark = next
	}
	read("ALTER TABLE t ADD COLUMN b int", true)
	read("GRANT SELECT ON t TO PUBLIC", false)
	// The reset that starts each migration keeps the log.
	exec(t, conn, in.ResetSQL())
	read("COMMENT ON COLUMN t.a IS 'a'", true)
	exec(t, conn, "ALTER EVENT TRIGGER schemagate_log_ddl DISABLE")
	read("ALTER TABLE t ADD COLUMN c int", false)
	exec(t, conn, "ALTER EVENT TRIGGER schemagate_log_ddl ENABLE ALWAYS")
	read("ALTER TABLE t ADD COLUMN d int", false) // the triggers changed since the mark
	read("ALTER TABLE t ADD COLUMN d2 int", true)
	// A plain RESET ALL clears the log: the next read cannot vouch for it.
	exec(t, conn, pg.ResetSession)
	read("ALTER TABLE t ADD COLUMN e int", false)
	read("ALTER TABLE t ADD COLUMN f int", true)
	// Catalog rows written beside the logged commands, where no text says so: the read is whole.
	exec(t, conn, `CREATE ROLE sg_cl_a; CREATE ROLE sg_cl_b; CREATE SCHEMA cl_app AUTHORIZATION sg_cl_a;
CREATE FUNCTION cl_app.f() RETURNS int LANGUAGE sql AS 'SELECT 1'; ALTER FUNCTION cl_app.f() OWNER TO sg_cl_a;
CREATE FUNCTION tweak(rel regclass) RETURNS void LANGUAGE sql AS $$ UPDATE pg_catalog.pg_attribute SET attnotnull = true WHERE attrelid = rel AND attname = 'a' $$;
CREATE FUNCTION share(rel regclass) RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE format('GRANT SELECT (a) ON %s TO sg_cl_b', rel); END $$`)
	t.Cleanup(func() {
		c := pgtest.Conn(t)
		_, _ = conn.Exec(context.Background(), "DROP SCHEMA cl_app CASCADE; REVOKE ALL ON t FROM sg_cl_b")
		_, _ = c.Exec(context.Background(), "DROP ROLE IF EXISTS sg_cl_a; DROP ROLE IF EXISTS sg_cl_b")
	})
	read("ALTER TABLE t ADD COLUMN g0 int", false) // the setup made a schema: a whole read
	read("ALTER TABLE t ADD COLUMN g1 int", true)
	read("ALTER TABLE t ADD COLUMN g2 int; DO $$ BEGIN EXECUTE 'REASSIGN ' || 'OWNED BY sg_cl_a TO sg_cl_b'; END $$", false)
	read("ALTER TABLE t ADD COLUMN g3 int", true)
	read("SELECT pg_import_system_collations('public')", false)
	read("SELECT tweak('t')", false)
	read("SELECT share('t')", false)
	read("ALTER TABLE t ADD COLUMN g4 int", true)
	// A migration of more DDL than the log keeps: it overflows, and the read scans.
	var many strings.Builder
	for i := range 1500 {
		fmt.Fprintf(&many, "CREATE TABLE ov_%d (id int);\n", i)
	}
	read(many.String(), false)
	read("ALTER TABLE t ADD COLUMN g5 int", true)
	// What a migration may drop (DROP OWNED BY the rehearsal's role drops the log's functions and
	// triggers) leaves reads that scan, and a reset that still works.
	exec(t, conn, "DROP FUNCTION pg_catalog.schemagate_log_ddl() CASCADE")
	exec(t, conn, in.ResetSQL())
	read("ALTER TABLE t ADD COLUMN g int", false)
	read("ALTER TABLE t ADD COLUMN h int", false)
	exec(t, conn, "DROP FUNCTION pg_catalog.schemagate_reset()")
	read("ALTER TABLE t ADD COLUMN i int", false)
	if got := in.ResetSQL(); got != pg.ResetSession {
		t.Errorf("after the reset function was dropped, ResetSQL = %q, want ResetSession", got)
	}
	exec(t, conn, in.ResetSQL())
}

// TestIncrementalInspectAsOrdinaryUser runs the cases that need no superuser as a role that owns nothing
// but what it creates, as on a server the url provider uses: every catalog the probe reads must be
// readable by it.
func TestIncrementalInspectAsOrdinaryUser(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	admin, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	role := "sg_user_" + strings.ToLower(rand.Text()[:8])
	exec(t, admin, "CREATE ROLE "+role+" LOGIN; GRANT ALL ON SCHEMA public TO "+role)
	t.Cleanup(func() {
		c := pgtest.Conn(t)
		_, _ = admin.Exec(context.Background(), "DROP OWNED BY "+role)
		_, _ = c.Exec(context.Background(), "DROP ROLE IF EXISTS "+role)
	})
	cfg, err := pgx.ParseConfig(pgtest.AsRole(t, u, role))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var super bool
	if err := conn.QueryRow(ctx, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&super); err != nil || super {
		t.Fatalf("connected as a superuser (%v)", err)
	}
	in := runIncrementalCases(t, conn, incrementalCases[:30], true) // no superuser: the log is not installed
	if in.Logged != 0 {
		t.Errorf("%d reads from the change log, which an ordinary user cannot install", in.Logged)
	}
	if in.Partial < 40 {
		t.Errorf("%d incremental reads out of %d: the incremental path is not taken", in.Partial, in.Partial+in.Full)
	}
}

// runIncrementalCases applies each case in verify mode, three ways (see TestIncrementalInspectMatchesFull),
// with the change log when track is set.
func runIncrementalCases(t *testing.T, conn *pgx.Conn, cases []string, track bool) *pg.Inspector {
	t.Helper()
	ctx := context.Background()
	exec(t, conn, `CREATE FUNCTION norm_total(numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 2'`)
	in := &pg.Inspector{Ignore: schema.DefaultIgnore, Mode: pg.InspectVerify}
	if track {
		if err := in.TrackChanges(ctx, conn); err != nil {
			t.Fatal(err)
		}
	}
	mark, err := in.Inspect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	for i, sql := range cases {
		// Undone: a transaction that applies the case and the next one, read midway, rolled back.
		exec(t, conn, in.BeginSQL())
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("case %d: %v\n%s", i, err, sql)
		}
		mid, err := in.Since(ctx, conn, mark, nil, in.Ran(sql, mark))
		if err != nil {
			t.Fatalf("case %d, read inside its transaction: %v\n%s", i, err, sql)
		}
		if i+1 < len(cases) && !strings.Contains(cases[i+1], "SAVEPOINT") {
			if _, err := conn.Exec(ctx, cases[i+1]); err == nil {
				if _, err := in.Since(ctx, conn, mid, nil, in.Ran(cases[i+1], mid)); err != nil {
					t.Fatalf("case %d, second read inside the transaction: %v\n%s", i, err, sql)
				}
			}
		}
		exec(t, conn, "ROLLBACK")
		// The catalog is as at mark again; the committed case starts from this read.
		if mark, err = in.Since(ctx, conn, mark, nil, pg.Ran{}); err != nil {
			t.Fatalf("case %d, read after rollback: %v\n%s", i, err, sql)
		}

		// Committed, with the locks it held.
		exec(t, conn, in.BeginSQL())
		exec(t, conn, sql)
		locks, err := in.Locks(ctx, conn)
		if err != nil {
			t.Fatal(err)
		}
		exec(t, conn, "COMMIT")
		next, err := in.Since(ctx, conn, mark, locks, in.Ran(sql, mark))
		if err != nil {
			t.Fatalf("case %d, read after commit: %v\n%s", i, err, sql)
		}
		mark = next
	}
	t.Logf("%d full reads, %d incremental (%d from the change log)", in.Full, in.Partial, in.Logged)
	return in
}

// TestIncrementalInspectWithoutLocksIsCaught shows why committed changes need their locks: a drop
// committed without them cannot be seen, and verify mode reports the difference.
func TestIncrementalInspectWithoutLocksIsCaught(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Conn(t)
	exec(t, conn, `CREATE TABLE a (id int); CREATE TABLE b (id int)`)
	in := &pg.Inspector{Ignore: schema.DefaultIgnore, Mode: pg.InspectVerify}
	mark, err := in.Inspect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, conn, `DROP TABLE b`)
	_, err = in.Since(ctx, conn, mark, nil, pg.Ran{})
	if err == nil || !strings.Contains(err.Error(), "public.b") {
		t.Fatalf("error %v, want a difference naming public.b", err)
	}
	mark, err = in.Inspect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := mark.Catalog().Tables["public.b"]; ok {
		t.Fatal("public.b still in a full read after the drop")
	}
}

// TestInspectModeFromEnv checks SCHEMAGATE_INSPECT.
func TestInspectModeFromEnv(t *testing.T) {
	for v, want := range map[string]pg.InspectMode{"": pg.InspectIncremental, "full": pg.InspectFull, "verify": pg.InspectVerify, "log": pg.InspectLog} {
		t.Setenv("SCHEMAGATE_INSPECT", v)
		got, err := pg.InspectModeFromEnv()
		if err != nil || got != want {
			t.Errorf("SCHEMAGATE_INSPECT=%q: %v, %v; want %v", v, got, err, want)
		}
	}
	t.Setenv("SCHEMAGATE_INSPECT", "fast")
	if _, err := pg.InspectModeFromEnv(); err == nil || !strings.Contains(err.Error(), "fast") {
		t.Errorf("SCHEMAGATE_INSPECT=fast: error %v, want one naming the value", err)
	}
}

// BenchmarkCatalogRead compares a full catalog read with an incremental one after a one-column change,
// on a schema of 200 tables, each with a foreign key, an index, a view, a function, an enum and comments.
func BenchmarkCatalogRead(b *testing.B) {
	b.Setenv("SCHEMAGATE_INSPECT", "incremental")
	ctx := context.Background()
	conn := pgtest.Conn(b)
	var ddl strings.Builder
	for i := range 200 {
		fmt.Fprintf(&ddl, `CREATE TYPE state_%[1]d AS ENUM ('new', 'done');
CREATE TABLE t_%[1]d (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name text NOT NULL,
    state state_%[1]d DEFAULT 'new', created_at timestamptz NOT NULL DEFAULT now(), parent bigint REFERENCES t_%[2]d (id));
CREATE INDEX t_%[1]d_name_idx ON t_%[1]d (lower(name));
CREATE VIEW v_%[1]d AS SELECT id, name FROM t_%[1]d WHERE state = 'new';
CREATE FUNCTION count_%[1]d() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT count(*) FROM t_%[1]d';
COMMENT ON TABLE t_%[1]d IS 'table %[1]d';
`, i, max(i-1, 0))
	}
	// A hub table: every other table refers to it and 20 views read it, as an accounts or users table.
	ddl.WriteString("CREATE TABLE hub (id bigint PRIMARY KEY, name text);\n")
	for i := range 200 {
		fmt.Fprintf(&ddl, "ALTER TABLE t_%d ADD COLUMN hub_id bigint REFERENCES hub (id);\n", i)
	}
	for i := range 20 {
		fmt.Fprintf(&ddl, "CREATE VIEW hub_%d AS SELECT id, name FROM hub WHERE id > %d;\n", i, i)
	}
	exec(b, conn, ddl.String())
	exec(b, conn, `CREATE TABLE public.bench (id int PRIMARY KEY)`)
	in := &pg.Inspector{Ignore: schema.DefaultIgnore}
	mark, err := in.Inspect(ctx, conn)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d tables, %d views, %d functions, %d indexes", len(mark.Catalog().Tables), len(mark.Catalog().Views),
		len(mark.Catalog().Functions), len(mark.Catalog().Indexes))
	b.Run("full", func(b *testing.B) {
		for b.Loop() {
			if _, err := in.Inspect(ctx, conn); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unchanged", func(b *testing.B) {
		for b.Loop() {
			if m, err := in.Since(ctx, conn, mark, nil, pg.Ran{}); err != nil || !m.Incremental {
				b.Fatalf("not an incremental read: %v", err)
			}
		}
	})
	b.Run("incremental", func(b *testing.B) {
		exec(b, conn, "BEGIN")
		defer exec(b, conn, "ROLLBACK")
		exec(b, conn, `ALTER TABLE public.bench ADD COLUMN note text`)
		for b.Loop() {
			m, err := in.Since(ctx, conn, mark, nil, pg.Ran{})
			if err != nil {
				b.Fatal(err)
			}
			if !m.Incremental || m.Catalog().Tables["public.bench"].Column("note") == nil {
				b.Fatal("not an incremental read that sees the new column")
			}
		}
	})
	// A column added to the hub: what refers to it quotes nothing that changed, so it is not read again.
	b.Run("hub", func(b *testing.B) {
		exec(b, conn, "BEGIN")
		defer exec(b, conn, "ROLLBACK")
		exec(b, conn, `ALTER TABLE hub ADD COLUMN note text`)
		owners := in.Owners
		for b.Loop() {
			m, err := in.Since(ctx, conn, mark, nil, pg.Ran{})
			if err != nil {
				b.Fatal(err)
			}
			if !m.Incremental || m.Catalog().Tables["public.hub"].Column("note") == nil {
				b.Fatal("not an incremental read that sees the new column")
			}
		}
		b.ReportMetric(float64(in.Owners-owners)/float64(b.N), "owners/op")
	})
}

// TestIncrementalReadSkipsDependentsOfUnmovedTables checks that a change which keeps a table's name and
// its columns' names re-reads that table and its views alone (a view that gives the table column
// aliases prints the table's whole column list), while a rename also re-reads what quotes it (verify
// mode checks every result against a full read).
func TestIncrementalReadSkipsDependentsOfUnmovedTables(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Conn(t)
	exec(t, conn, `CREATE TABLE parent (id int PRIMARY KEY, name text);
		CREATE VIEW parent_names AS SELECT id, name FROM parent;
		CREATE VIEW parent_aliased AS SELECT p FROM parent AS x(p);
		CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent (id))`)
	in := &pg.Inspector{Ignore: schema.DefaultIgnore, Mode: pg.InspectVerify}
	mark, err := in.Inspect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	owners := func(sql string) int {
		t.Helper()
		exec(t, conn, "BEGIN")
		defer exec(t, conn, "ROLLBACK")
		exec(t, conn, sql)
		before := in.Owners
		if _, err := in.Since(ctx, conn, mark, nil, pg.Ran{}); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return in.Owners - before
	}
	// parent_aliased reads "FROM parent x(p, name, note)" once note is there.
	if n := owners(`ALTER TABLE parent ADD COLUMN note text`); n != 3 {
		t.Errorf("ADD COLUMN re-read %d owners, want the table and its two views", n)
	}
	if n := owners(`ALTER TABLE parent ALTER COLUMN name SET NOT NULL`); n != 3 {
		t.Errorf("SET NOT NULL re-read %d owners, want the table and its two views", n)
	}
	// The view and the foreign key quote the renamed names.
	if n := owners(`ALTER TABLE parent RENAME COLUMN id TO parent_no`); n < 4 {
		t.Errorf("RENAME COLUMN re-read %d owners, want the table, the views and the child table", n)
	}
	if n := owners(`ALTER TABLE parent RENAME TO mother`); n < 4 {
		t.Errorf("RENAME re-read %d owners, want the table, the views and the child table", n)
	}
}

// pathStep is a migration of a search path test, and how the catalog read after it must go.
type pathStep struct {
	sql         string
	incremental bool // the read takes the incremental path; otherwise it reads the catalog whole
}

// TestIncrementalInspectWithSeveralSchemas runs migrations under search_path app, public, as Flyway
// runs them with flyway.schemas=app. Reads are incremental while no name is found in both schemas;
// one that a new, renamed or moved object hides in public (a table, an index, a function, a type, a
// domain) changes the text of what quotes it with no trace in the catalog rows of the latter, and
// so does one that a drop uncovers: those reads are whole. Verify mode checks every incremental read
// against a whole one.
func TestIncrementalInspectWithSeveralSchemas(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup string
		steps []pathStep
	}{{
		name: "everything in app",
		steps: []pathStep{
			{`CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL)`, true},
			{`ALTER TABLE accounts ADD COLUMN created_at timestamptz DEFAULT now()`, true},
			{`CREATE INDEX accounts_email_idx ON accounts (lower(email))`, true},
			{`CREATE TYPE status AS ENUM ('new', 'done');
			  CREATE TABLE orders (id bigint PRIMARY KEY, account_id bigint REFERENCES accounts (id), status status DEFAULT 'new')`, true},
			{`CREATE FUNCTION order_count(bigint) RETURNS bigint LANGUAGE sql STABLE AS 'SELECT count(*) FROM orders WHERE account_id = $1';
			  CREATE VIEW account_orders AS SELECT a.id, order_count(a.id) AS n FROM accounts a`, true},
			{`ALTER TABLE accounts RENAME COLUMN email TO mail`, true},
			// Moved to a schema further down the path that holds no other orders: it is still found.
			{`ALTER TABLE orders SET SCHEMA public`, true},
			{`CREATE VIEW open_orders AS SELECT id FROM orders WHERE status = 'new'`, true},
			{`ALTER TABLE public.orders SET SCHEMA app`, true},
			{`DROP VIEW open_orders; ALTER TABLE orders DROP COLUMN status`, true},
		},
	}, {
		name: "a table that hides one in public",
		setup: `CREATE TABLE public.foo (id int PRIMARY KEY, name text);
			CREATE VIEW public.foo_names AS SELECT name FROM public.foo;
			CREATE TABLE public.refs (foo_id int REFERENCES public.foo (id))`,
		steps: []pathStep{
			{`CREATE TABLE app.unrelated (id int)`, true},
			{`CREATE TABLE foo (id int)`, false}, // app.foo: the view and the foreign key now quote public.foo
			{`CREATE TABLE app.other (id int)`, false},
			{`DROP TABLE app.foo`, false}, // they quote foo again
			{`CREATE TABLE app.after (id int)`, true},
		},
	}, {
		// An index is a relation too: named foo, it hides the table.
		name:  "an index that hides a table in public",
		setup: `CREATE TABLE public.foo (id int); CREATE VIEW public.foo_ids AS SELECT id FROM public.foo; CREATE TABLE app.bar (id int)`,
		steps: []pathStep{
			{`CREATE INDEX foo ON app.bar (id)`, false},
			{`DROP INDEX app.foo`, false},
			{`ALTER TABLE app.bar ADD COLUMN note text`, true},
		},
	}, {
		// ALTER TABLE ... ADD CONSTRAINT ... UNIQUE makes an index that no command names on its own.
		name:  "a constraint's index that hides a table in public",
		setup: `CREATE TABLE public.foo (id int); CREATE VIEW public.foo_ids AS SELECT id FROM public.foo; CREATE TABLE app.bar (id int)`,
		steps: []pathStep{
			{`ALTER TABLE app.bar ADD CONSTRAINT foo UNIQUE (id)`, false},
			{`ALTER TABLE app.bar DROP CONSTRAINT foo`, false},
			{`ALTER TABLE app.bar ADD COLUMN note text`, true},
		},
	}, {
		name:  "a rename that hides a name",
		setup: `CREATE TABLE public.foo (id int); CREATE VIEW public.foo_ids AS SELECT id FROM public.foo; CREATE TABLE app.bar (id int)`,
		steps: []pathStep{
			{`ALTER TABLE app.bar RENAME TO foo`, false},
			{`ALTER TABLE app.foo RENAME TO bar`, false},
			{`ALTER TABLE app.bar ADD COLUMN note text`, true},
		},
	}, {
		name: "a move that hides a name",
		setup: `CREATE SCHEMA side; CREATE TABLE side.foo (id int);
			CREATE TABLE public.foo (id int); CREATE VIEW public.foo_ids AS SELECT id FROM public.foo; CREATE TABLE app.bar (id int)`,
		steps: []pathStep{
			{`ALTER TABLE side.foo SET SCHEMA app`, false},
			{`ALTER TABLE app.foo SET SCHEMA side`, false},
			{`ALTER TABLE app.bar ADD COLUMN note text`, true},
		},
	}, {
		name: "functions of the same name",
		setup: `CREATE FUNCTION public.calc(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 2';
			CREATE VIEW public.calc_view AS SELECT public.calc(1) AS x;
			CREATE TABLE public.calc_t (a int DEFAULT public.calc(1))`,
		steps: []pathStep{
			{`CREATE FUNCTION calc(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 3'`, false},
			{`DROP FUNCTION app.calc(int)`, false},
			// Not the same arguments: no call changes, but the check goes by name.
			{`CREATE FUNCTION app.calc(text) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 0'`, false},
			{`DROP FUNCTION app.calc(text)`, false},
			{`CREATE FUNCTION app.other(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1'`, true},
			{`CREATE FUNCTION app.other(bigint) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 1';
			  CREATE VIEW app.other_view AS SELECT other(1::bigint) AS x`, true},
			{`ALTER FUNCTION app.other(int) RENAME TO calc`, false},
			{`ALTER FUNCTION app.calc(int) RENAME TO other`, false},
			{`DROP VIEW app.other_view`, true},
		},
	}, {
		name: "a type or domain that hides one in public",
		setup: `CREATE DOMAIN public.amount AS numeric(10,2); CREATE TABLE public.ledger (id int, total amount);
			CREATE TYPE public.mood AS ENUM ('low', 'high');
			CREATE FUNCTION public.cheer(mood) RETURNS mood LANGUAGE sql AS 'SELECT $1'`,
		steps: []pathStep{
			{`CREATE DOMAIN amount AS int`, false}, // the column's type reads public.amount
			{`CREATE TABLE app.t (x int)`, false},
			{`DROP DOMAIN app.amount`, false},
			{`CREATE TYPE app.mood AS ENUM ('x')`, false}, // the function's signature reads public.mood
			{`ALTER TYPE app.mood RENAME TO feeling`, false},
			{`ALTER TABLE public.ledger ADD COLUMN note text`, true},
			// A table's row type is a type of its name.
			{`CREATE TABLE app.mood (id int)`, false},
			{`DROP TABLE app.mood`, false},
			{`ALTER TABLE app.t ADD COLUMN y amount`, true},
		},
	}} {
		// Each case with the catalogs scanned, and with the change log (Inspector.TrackChanges).
		for _, track := range []bool{false, true} {
			t.Run(tc.name+map[bool]string{false: "/scan", true: "/log"}[track], func(t *testing.T) {
				t.Parallel()
				conn := pathConn(t, "app, public")
				if tc.setup != "" {
					exec(t, conn, tc.setup)
				}
				runPathSteps(t, conn, tc.steps, track)
			})
		}
	}
}

// TestIncrementalInspectAfterARoleChange: a migration that sets the role leaves the session under it,
// and "$user" in the search path then finds the role's schema: a view that quoted a table there by
// schema quotes it by name alone, with no catalog row changed. The read after it is whole.
func TestIncrementalInspectAfterARoleChange(t *testing.T) {
	ctx := t.Context()
	role := "sg_path_" + strings.ToLower(rand.Text()[:8])
	admin, err := pgx.Connect(ctx, pgtest.Server(t).AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// After the test databases are dropped (cleanups run last first), with the role's privileges.
		_, _ = admin.Exec(context.Background(), "DROP ROLE IF EXISTS "+role)
		admin.Close(context.Background())
	})
	exec(t, admin, "CREATE ROLE "+role)
	for _, path := range []string{`"$user"`, `"$user", public`} {
		t.Run(path, func(t *testing.T) {
			conn := pathConn(t, path)
			exec(t, conn, `CREATE SCHEMA `+role+`; CREATE TABLE `+role+`.thing (id int);
				CREATE VIEW public.things AS SELECT id FROM `+role+`.thing;
				GRANT USAGE, CREATE ON SCHEMA `+role+`, public TO `+role)
			runPathSteps(t, conn, []pathStep{
				{`CREATE TABLE public.before (id int)`, true},
				{`SET ROLE ` + role, false},
				{`CREATE TABLE ` + role + `.after (id int)`, true},
				{`RESET ROLE`, false},
			}, true)
		})
	}
}

// pathConn connects to a fresh database whose sessions start with search_path path, and a schema app:
// the rehearsal of a Flyway folder with flyway.schemas=app makes app, "$user", public the database's
// default (the catalog reads run under a new session's search path).
func pathConn(t *testing.T, path string) *pgx.Conn {
	t.Helper()
	ctx := t.Context()
	u := pgtest.URL(t)
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, c, `CREATE SCHEMA app; DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = `+path+`', current_database()); END $$`)
	c.Close(ctx)
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// runPathSteps applies each step in verify mode, read in the middle of its transaction and after rolling
// it back, then committed with its locks, and checks that the reads after it go the way it says.
func runPathSteps(t *testing.T, conn *pgx.Conn, steps []pathStep, track bool) {
	t.Helper()
	ctx := t.Context()
	in := &pg.Inspector{Ignore: schema.DefaultIgnore, Mode: pg.InspectVerify}
	if track {
		if err := in.TrackChanges(ctx, conn); err != nil {
			t.Fatal(err)
		}
	}
	mark, err := in.Inspect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	how := map[bool]string{true: "incremental", false: "whole"}
	for _, s := range steps {
		exec(t, conn, in.BeginSQL())
		exec(t, conn, s.sql)
		mid, err := in.Since(ctx, conn, mark, nil, in.Ran(s.sql, mark))
		if err != nil {
			t.Fatalf("%s, read inside its transaction: %v", s.sql, err)
		}
		if mid.Incremental != s.incremental {
			t.Errorf("%s: read inside its transaction %s, want %s", s.sql, how[mid.Incremental], how[s.incremental])
		}
		exec(t, conn, "ROLLBACK")
		// The catalog is as at mark again; the committed step starts from this read.
		if mark, err = in.Since(ctx, conn, mark, nil, pg.Ran{}); err != nil {
			t.Fatalf("%s, read after rollback: %v", s.sql, err)
		}

		exec(t, conn, in.BeginSQL())
		exec(t, conn, s.sql)
		locks, err := in.Locks(ctx, conn)
		if err != nil {
			t.Fatal(err)
		}
		exec(t, conn, "COMMIT")
		if mark, err = in.Since(ctx, conn, mark, locks, in.Ran(s.sql, mark)); err != nil {
			t.Fatalf("%s, read after commit: %v", s.sql, err)
		}
		if mark.Incremental != s.incremental {
			t.Errorf("%s: read after commit %s, want %s", s.sql, how[mark.Incremental], how[s.incremental])
		}
	}
}

// TestInspectorWarm: Warm leaves the session as it was (settings, no transaction, lock_timeout) and its
// plans behind: the whole read, the lean partial read and the probe each have a generic plan once it
// returns, and the reads that follow use them. It plans them without running them: a table locked by
// another session, which the whole read's view text would wait for, fails none of its queries (the
// context's deadline is a safety net, not a measurement).
func TestInspectorWarm(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	cfg, err := pgx.ParseConfig(u)
	if err != nil {
		t.Fatal(err)
	}
	failures := &failedQueries{}
	cfg.Tracer = failures
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	holder, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE t (id bigint PRIMARY KEY, v text);
		CREATE VIEW tv AS SELECT id FROM t; CREATE INDEX t_v ON t (v);
		SET TimeZone = 'Asia/Tokyo'; SET search_path = public`); err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Exec(ctx, "BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	in, err := pg.NewInspector()
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	failures.errs = nil
	in.Warm(wctx, conn)
	if wctx.Err() != nil {
		t.Fatal("Warm waited for the lock another session holds")
	}
	if len(failures.errs) > 0 {
		t.Errorf("Warm ran a query that failed (it should plan them, not run them): %v", failures.errs)
	}
	if st := conn.PgConn().TxStatus(); st != 'I' {
		t.Errorf("after Warm the session's transaction status is %q, want idle (I)", st)
	}
	var tz, path, lockTimeout string
	if err := conn.QueryRow(ctx, `SELECT current_setting('TimeZone'), current_setting('search_path'), current_setting('lock_timeout')`).Scan(&tz, &path, &lockTimeout); err != nil {
		t.Fatal(err)
	}
	if tz != "Asia/Tokyo" || path != "public" || lockTimeout != "0" {
		t.Errorf("after Warm: TimeZone %s, search_path %s, lock_timeout %s; want Asia/Tokyo, public, 0", tz, path, lockTimeout)
	}
	var planned int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_prepared_statements WHERE generic_plans > 0
		AND (statement LIKE '%WITH ns AS (%' OR statement LIKE '%WITH input AS (%')`).Scan(&planned); err != nil {
		t.Fatal(err)
	}
	if planned != 3 {
		t.Errorf("%d of the inspection queries planned by Warm, want 3: the whole read, the lean partial read and the probe", planned)
	}
	// The lock tracer's two reads are planned too, and the partial read that is not lean and the
	// trace's smaller statements are prepared: the first migration after the replay parsed and planned
	// them, a few milliseconds of each.
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_prepared_statements WHERE generic_plans > 0
		AND statement LIKE '%WITH lks AS MATERIALIZED (%' AND statement NOT LIKE '%pg_prepared_statements%'`).Scan(&planned); err != nil {
		t.Fatal(err)
	}
	if planned != 2 {
		t.Errorf("%d of the trace queries planned by Warm, want 2: the whole trace and the locked one", planned)
	}
	var partial, spare, traceInput int
	if err := conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE statement LIKE '%''rels'', (SELECT%'),
		count(*) FILTER (WHERE statement LIKE 'SELECT pg_catalog.set_config(''schemagate.statement_timeout''%'),
		count(*) FILTER (WHERE statement LIKE '%set_config(''schemagate.trace_oid'', $1%')
		FROM pg_prepared_statements WHERE statement NOT LIKE '%pg_prepared_statements%'`).Scan(&partial, &spare, &traceInput); err != nil {
		t.Fatal(err)
	}
	if partial != 2 || spare != 1 || traceInput != 1 {
		t.Errorf("prepared by Warm: %d partial reads (want 2: lean and not), %d of the statement that spares the timeout (want 1), %d of the trace's input (want 1)",
			partial, spare, traceInput)
	}
	if _, err := holder.Exec(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	m, err := in.Inspect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Catalog().Tables) == 0 {
		t.Error("the read after Warm found no table")
	}
	// The whole read ran on the statement Warm prepared, with the plan it made.
	var statements, generic, custom int
	if err := conn.QueryRow(ctx, `SELECT count(*), coalesce(sum(generic_plans), 0), coalesce(sum(custom_plans), 0)
		FROM pg_prepared_statements WHERE ltrim(statement, E'\n') LIKE 'WITH ns AS (%'`).Scan(&statements, &generic, &custom); err != nil {
		t.Fatal(err)
	}
	if statements != 1 || generic != 2 || custom != 0 {
		t.Errorf("the whole read: %d prepared statements, %d generic and %d custom plans; want 1 statement, 2 generic plans (Warm's, the read's), no custom one", statements, generic, custom)
	}
}

// failedQueries records the errors of the queries, batches and prepares a connection runs.
type failedQueries struct{ errs []error }

func (f *failedQueries) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

func (f *failedQueries) TraceQueryEnd(_ context.Context, _ *pgx.Conn, d pgx.TraceQueryEndData) {
	if d.Err != nil {
		f.errs = append(f.errs, d.Err)
	}
}

func (f *failedQueries) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (f *failedQueries) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	if d.Err != nil {
		f.errs = append(f.errs, d.Err)
	}
}

func (f *failedQueries) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (f *failedQueries) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	return ctx
}

func (f *failedQueries) TracePrepareEnd(_ context.Context, _ *pgx.Conn, d pgx.TracePrepareEndData) {
	if d.Err != nil {
		f.errs = append(f.errs, d.Err)
	}
}

// TestLocksSparesTheStatementTimeout: Locks runs in the migration's transaction just before its COMMIT,
// where the migration's SET LOCAL statement_timeout is in force. With many locks held (a migration
// creating a few thousand partitions), reading them takes longer than a short timeout (some 15 ms for
// 3,000 locks against the migration's 10 ms), which cancelled the read and failed the rehearsal as a
// tool error. The migration's own timeout is in force again after.
func TestLocksSparesTheStatementTimeout(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Conn(t)
	exec(t, conn, `BEGIN`)
	exec(t, conn, `DO $$ BEGIN FOR i IN 1..3000 LOOP EXECUTE format('CREATE TABLE t%s (id int)', i); END LOOP; END $$`)
	exec(t, conn, `SET LOCAL statement_timeout = '10ms'`)
	in := &pg.Inspector{Ignore: schema.DefaultIgnore}
	locks, err := in.Locks(ctx, conn)
	if err != nil {
		t.Fatalf("Locks with the migration's 10 ms statement_timeout: %v", err)
	}
	if len(locks) < 3000 {
		t.Errorf("%d locks, want at least the 3,000 tables'", len(locks))
	}
	var timeout string
	if err := conn.QueryRow(ctx, "SHOW statement_timeout").Scan(&timeout); err != nil || timeout != "10ms" {
		t.Errorf("statement_timeout after Locks = %q (%v), want the migration's 10ms", timeout, err)
	}
	exec(t, conn, `ROLLBACK`)
}

// TestIncrementalTablespaces: the tablespaces of tables, partitioned tables, materialized views and
// indexes are read again when set (each writes the relation's pg_class row), and read whole when their
// tablespace is renamed, which writes only pg_tablespace's row and fires no event trigger. The tablespace is the shared server's:
// made with a name of its own, dropped after the test's database.
func TestIncrementalTablespaces(t *testing.T) {
	ts := pgtest.Tablespace(t)
	cases := []string{
		`CREATE TABLE ts_t (a int); CREATE INDEX ts_i ON ts_t (a); CREATE MATERIALIZED VIEW ts_mv AS SELECT a FROM ts_t;
		 CREATE TABLE ts_p (a int) PARTITION BY RANGE (a)`,
		`ALTER TABLE ts_t SET TABLESPACE ` + ts,
		`ALTER INDEX ts_i SET TABLESPACE ` + ts + `; ALTER MATERIALIZED VIEW ts_mv SET TABLESPACE ` + ts,
		`ALTER TABLE ts_p SET TABLESPACE ` + ts + `; CREATE TABLE ts_p1 PARTITION OF ts_p FOR VALUES FROM (0) TO (10)`,
		`ALTER TABLE ts_t ADD CONSTRAINT ts_u UNIQUE (a) USING INDEX TABLESPACE ` + ts,
		`ALTER TABLESPACE ` + ts + ` RENAME TO ` + ts + `_2`,
		`ALTER TABLESPACE ` + ts + `_2 RENAME TO ` + ts,
		`ALTER TABLE ts_t SET TABLESPACE pg_default; ALTER INDEX ts_i SET TABLESPACE pg_default; ALTER TABLE ts_p SET TABLESPACE pg_default`,
		`DROP MATERIALIZED VIEW ts_mv; DROP TABLE ts_t, ts_p`,
	}
	for _, track := range []bool{false, true} { // scanned, and from the change log, where no event trigger sees a rename
		runIncrementalCases(t, pgtest.Conn(t), cases, track)
	}
}

// TestIncrementalReadsDatabaseSettings: the database's own settings live in a shared catalog whose
// writes take no lock the probe sees, as a role's do: the probe's roles fingerprint covers them, and a
// read after ALTER DATABASE ... SET or RESET, committed or in its transaction, is whole. Verify mode
// checks each read against a whole one; before, the partial read kept the mark's settings.
func TestIncrementalReadsDatabaseSettings(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Conn(t)
	var db string
	if err := conn.QueryRow(ctx, "SELECT quote_ident(current_database())").Scan(&db); err != nil {
		t.Fatal(err)
	}
	in := &pg.Inspector{Ignore: schema.DefaultIgnore, Mode: pg.InspectVerify}
	mark, err := in.Inspect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{"ALTER DATABASE " + db + " SET work_mem = '64MB'", "CREATE TABLE t (a int)",
		"ALTER DATABASE " + db + " SET statement_timeout = '5s'", "ALTER DATABASE " + db + " RESET ALL"} {
		exec(t, conn, in.BeginSQL())
		exec(t, conn, sql)
		if _, err := in.Since(ctx, conn, mark, nil, in.Ran(sql, mark)); err != nil {
			t.Fatalf("%s, read inside its transaction: %v", sql, err)
		}
		locks, err := in.Locks(ctx, conn)
		if err != nil {
			t.Fatal(err)
		}
		exec(t, conn, "COMMIT")
		if mark, err = in.Since(ctx, conn, mark, locks, in.Ran(sql, mark)); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	if got := mark.Catalog().DatabaseSettings; len(got) != 0 {
		t.Errorf("settings after RESET ALL: %q", got)
	}
}

// TestIncrementalReadsDatabasePrivileges: the database's privileges, owner, comment and connection
// limit and the privileges on configuration parameters live in shared catalogs whose writes take no
// lock the probe sees, as the database's settings do: the probe's roles fingerprint covers them, and a
// read after GRANT ... ON DATABASE, COMMENT ON DATABASE, ALTER DATABASE ... CONNECTION LIMIT or OWNER
// TO, or GRANT SET ON PARAMETER, committed or in its transaction, is whole. Verify mode checks each
// read against a whole one; before, the partial read kept the mark's. Not parallel: the privileges on
// parameters are the server's, and are revoked at the end.
func TestIncrementalReadsDatabasePrivileges(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Conn(t)
	var db string
	var version int
	if err := conn.QueryRow(ctx, "SELECT quote_ident(current_database()), current_setting('server_version_num')::int").Scan(&db, &version); err != nil {
		t.Fatal(err)
	}
	exec(t, conn, `DO $$ BEGIN CREATE ROLE sg_incr_db; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`)
	in := &pg.Inspector{Ignore: schema.DefaultIgnore, Mode: pg.InspectVerify}
	mark, err := in.Inspect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	// The owner first: giving the database back to its owner would merge sg_incr_db's grant into it.
	stmts := []string{"ALTER DATABASE " + db + " OWNER TO sg_incr_db", "CREATE TABLE t (a int)",
		"ALTER DATABASE " + db + " OWNER TO CURRENT_USER", "GRANT CREATE ON DATABASE " + db + " TO sg_incr_db",
		"COMMENT ON DATABASE " + db + " IS 'orders db'", "ALTER DATABASE " + db + " CONNECTION LIMIT 50",
		"REVOKE TEMPORARY ON DATABASE " + db + " FROM PUBLIC", "COMMENT ON DATABASE " + db + " IS NULL"}
	if version >= 150000 {
		t.Cleanup(func() { _, _ = conn.Exec(context.Background(), "REVOKE SET ON PARAMETER work_mem FROM sg_incr_db") })
		stmts = append(stmts, "GRANT SET ON PARAMETER work_mem TO sg_incr_db", "REVOKE SET ON PARAMETER work_mem FROM sg_incr_db")
	}
	for _, sql := range stmts {
		exec(t, conn, in.BeginSQL())
		exec(t, conn, sql)
		if _, err := in.Since(ctx, conn, mark, nil, in.Ran(sql, mark)); err != nil {
			t.Fatalf("%s, read inside its transaction: %v", sql, err)
		}
		locks, err := in.Locks(ctx, conn)
		if err != nil {
			t.Fatal(err)
		}
		exec(t, conn, "COMMIT")
		if mark, err = in.Since(ctx, conn, mark, locks, in.Ran(sql, mark)); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	c := mark.Catalog()
	if c.DatabaseConnectionLimit != "50" || c.DatabaseComment != "" || c.DatabaseOwner != "postgres" ||
		c.BuiltInPrivileges["CREATE on the database to sg_incr_db"] == nil || c.BuiltInPrivileges["TEMPORARY on the database to PUBLIC"] == nil {
		t.Errorf("at the end: limit %q, comment %q, owner %q, privileges %v", c.DatabaseConnectionLimit, c.DatabaseComment, c.DatabaseOwner, c.BuiltInPrivileges)
	}
}
