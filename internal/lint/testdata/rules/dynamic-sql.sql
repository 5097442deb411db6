-- Rule dynamic-sql: cases that must and must not trigger it.

-- case
-- want: dynamic-sql
CREATE FUNCTION purge(tbl text) RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'DELETE FROM ' || tbl; END $$;
-- want: dynamic-sql
CREATE OR REPLACE PROCEDURE grow(t text) LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %I ADD COLUMN x int', t);
END $$;
-- want: dynamic-sql
CREATE FUNCTION rows_of(t text) RETURNS SETOF record LANGUAGE plpgsql AS $$ BEGIN RETURN QUERY EXECUTE 'SELECT * FROM ' || quote_ident(t); END $$;
-- want: dynamic-sql
CREATE FUNCTION loop_it(q text) RETURNS void LANGUAGE plpgsql AS $$ DECLARE r record; BEGIN FOR r IN EXECUTE q LOOP END LOOP; END $$;
-- want: dynamic-sql
CREATE FUNCTION f() RETURNS event_trigger LANGUAGE plpgsql AS $body$ DECLARE cmd text := 'SELECT 1'; BEGIN EXECUTE cmd; END $body$;

-- case
-- A constant statement, its doubled quotes, USING parameters and a trigger's EXECUTE FUNCTION are not dynamic.
-- want-none
CREATE FUNCTION purge_sessions() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'DELETE FROM sessions WHERE expires_at < now()'; END $$;
-- want-none
CREATE FUNCTION count_since(d date) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  -- EXECUTE 'x' || y in a comment is not code
  EXECUTE 'SELECT count(*) FROM users WHERE created_at > $1' INTO n USING d;
  EXECUTE 'SET LOCAL work_mem = ''64MB''';
  RETURN n;
END $$;
-- want-none
CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a + b';
-- want-none
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;

-- case
-- A DO block's dynamic SQL is opaque-statement, not this rule.
-- want-none
DO $$ BEGIN EXECUTE 'ALTER TABLE users ADD COLUMN ' || 'y int'; END $$;
