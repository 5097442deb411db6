-- Rule role-privilege-change: cases that must and must not trigger it.

-- case
-- want: role-privilege-change
ALTER ROLE postgres PASSWORD 'pwned';
-- want: role-privilege-change
CREATE ROLE backdoor SUPERUSER LOGIN PASSWORD 'pw';
-- want: role-privilege-change
ALTER USER app CREATEROLE BYPASSRLS REPLICATION;
-- want: role-privilege-change
CREATE USER reporting;
-- want: role-privilege-change
GRANT pg_execute_server_program TO app;
-- want: role-privilege-change
GRANT pg_read_server_files, pg_write_server_files, pg_signal_backend TO app;
-- want: role-privilege-change
GRANT app_rw TO bob;
-- want: role-privilege-change
REVOKE app_rw FROM bob;
-- want: role-privilege-change
ALTER ROLE other SET search_path = evil, public;
-- want: role-privilege-change
DROP ROLE IF EXISTS old_app;
-- want: role-privilege-change
ALTER ROLE app RENAME TO app2;
-- want: role-privilege-change
ALTER DEFAULT PRIVILEGES FOR ROLE other IN SCHEMA public GRANT ALL ON TABLES TO me;
-- want: role-privilege-change
REASSIGN OWNED BY app TO intruder;
-- want: role-privilege-change
DROP OWNED BY app;
-- want: role-privilege-change
ALTER GROUP pg_read_server_files ADD USER evil;

-- case
-- want-none
GRANT SELECT ON users TO app_ro;
-- want-none
REVOKE INSERT ON users FROM app_ro;
-- want-none
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO app_ro;
-- want-none
ALTER TABLE users OWNER TO app_owner;

-- case
-- Hidden in a DO block or a function body: the text is parsed statement by statement.
-- want: role-privilege-change
DO $$ BEGIN EXECUTE 'ALTER ROLE postgres PASSWORD ''pwned'''; END $$;
-- want: role-privilege-change
DO $$ BEGIN GRANT pg_read_server_files TO evil; END $$;
-- want: role-privilege-change
CREATE FUNCTION mk() RETURNS void LANGUAGE plpgsql AS $$ BEGIN CREATE ROLE backdoor SUPERUSER; END $$;
-- want-none
DO $$ BEGIN GRANT SELECT ON users TO app_ro; CREATE USER MAPPING FOR app_ro SERVER s; END $$;
