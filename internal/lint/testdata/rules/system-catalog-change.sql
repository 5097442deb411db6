-- Rule system-catalog-change: cases that must and must not trigger it.

-- case
-- want: system-catalog-change
CREATE OR REPLACE FUNCTION pg_catalog.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT '2000-01-01'::timestamptz $$;
-- want: system-catalog-change
DROP FUNCTION pg_catalog.now();
-- want: system-catalog-change
ALTER FUNCTION pg_catalog.lower(text) OWNER TO intruder;
-- want: system-catalog-change
CREATE OPERATOR pg_catalog.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil_eq);
-- want: system-catalog-change
CREATE VIEW information_schema.tables2 AS SELECT 1;
-- want: system-catalog-change
ALTER TABLE pg_catalog.pg_authid ADD COLUMN x int;
-- want: system-catalog-change
ALTER FUNCTION app.helper() SET SCHEMA pg_catalog;
-- want: system-catalog-change
DROP SCHEMA information_schema CASCADE;
-- want-none
SET search_path = pg_catalog;
-- want: system-catalog-change
CREATE FUNCTION lower(text) RETURNS text LANGUAGE sql AS 'SELECT $1';

-- case
-- want-none
CREATE FUNCTION app.now_utc() RETURNS timestamp LANGUAGE sql AS $$ SELECT pg_catalog.now() AT TIME ZONE 'UTC' $$;
-- want-none
CREATE VIEW table_sizes AS SELECT relname, pg_catalog.pg_relation_size(oid) FROM pg_catalog.pg_class;
-- want-none
CREATE TABLE t1 (id pg_catalog.int8, note text DEFAULT pg_catalog.now()::text);
-- want-none
DROP FUNCTION IF EXISTS app.now_utc();
-- want-none
SET search_path = app, pg_catalog;
-- want-none
CREATE FUNCTION lower2(text) RETURNS text LANGUAGE sql AS 'SELECT lower($1)';
