-- Rule add-column-volatile-default: cases that must and must not trigger it.

-- case
-- want: add-column-volatile-default
ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();

-- case
-- want-none
ALTER TABLE users ADD COLUMN token uuid;
-- want-none
ALTER TABLE users ALTER COLUMN token SET DEFAULT gen_random_uuid();

-- case
-- want: add-column-volatile-default
ALTER TABLE users ADD COLUMN seen_at timestamptz DEFAULT clock_timestamp();
-- want-none
ALTER TABLE users ADD COLUMN seen_at2 timestamptz DEFAULT now();

-- case
-- A column without a DEFAULT of its own takes its domain's (also a base domain's): PostgreSQL 15
-- rewrites users for a volatile one.
CREATE DOMAIN token AS uuid DEFAULT gen_random_uuid();
CREATE DOMAIN api_token AS token;
-- want: add-column-volatile-default
ALTER TABLE users ADD COLUMN token token;
-- want: add-column-volatile-default
ALTER TABLE users ADD COLUMN api_token api_token;
-- want-none
ALTER TABLE users ADD COLUMN fixed_token token DEFAULT '00000000-0000-0000-0000-000000000000';
-- want-none
ALTER TABLE users ADD COLUMN tokens token[];

-- case
CREATE DOMAIN token AS uuid;
ALTER DOMAIN token SET DEFAULT gen_random_uuid();
-- want: add-column-volatile-default
ALTER TABLE users ADD COLUMN token token;
ALTER DOMAIN token DROP DEFAULT;
-- want-none
ALTER TABLE users ADD COLUMN token2 token;

-- case
-- txid_current() and pg_current_xact_id() are stable (pg_proc.provolatile 's'): a fast default, no rewrite.
-- want-none
ALTER TABLE users ADD COLUMN created_xid bigint DEFAULT txid_current();
-- want-none
ALTER TABLE users ADD COLUMN created_xid8 xid8 DEFAULT pg_current_xact_id();

-- case
-- A function the linter has seen created is judged by its CREATE FUNCTION: VOLATILE unless it says
-- otherwise; a LANGUAGE sql function PostgreSQL inlines is as volatile as its body.
CREATE FUNCTION gen_code() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'x'; END $$;
CREATE FUNCTION stable_code() RETURNS text LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN 'x'; END $$;
CREATE FUNCTION sql_code() RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$;
-- want: add-column-volatile-default
ALTER TABLE users ADD COLUMN code text DEFAULT gen_code();
-- want-none
ALTER TABLE users ADD COLUMN code2 text DEFAULT stable_code();
-- want-none
ALTER TABLE users ADD COLUMN code3 text DEFAULT sql_code();
