-- Rule server-file-access: cases that must and must not trigger it.

-- case
-- want: server-file-access
COPY users FROM '/etc/passwd';
-- want: server-file-access
COPY users TO '/tmp/users.csv';
-- want: server-file-access
SELECT pg_read_file('/etc/passwd');
-- want: server-file-access
INSERT INTO orgs (id) SELECT length(pg_read_binary_file('global/pg_control'));
-- want: server-file-access
SELECT pg_ls_dir('.'), pg_stat_file('postgresql.auto.conf');
-- want: server-file-access
SELECT lo_import('/etc/shadow');
-- want: server-file-access
SELECT lo_export(42, '/tmp/x');
-- want: server-file-access
SELECT pg_catalog.pg_file_write('postgresql.auto.conf', 'x', false);
-- want: server-file-access
CREATE EXTENSION IF NOT EXISTS adminpack;
-- want: server-file-access
CREATE EXTENSION file_fdw;
-- want: server-file-access
CREATE FOREIGN TABLE passwd (line text) SERVER files OPTIONS (filename '/etc/passwd');
-- want: server-file-access
CREATE VIEW leak AS SELECT pg_read_file('pg_hba.conf') AS f;
-- want: server-file-access
GRANT EXECUTE ON FUNCTION pg_read_file(text) TO app;
-- want: server-file-access
DO $$ BEGIN PERFORM pg_read_file('/etc/passwd'); END $$;
-- want: server-file-access
CREATE FUNCTION leak() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN pg_read_file('/etc/passwd'); END $$;
-- want: server-file-access
CREATE FUNCTION leak2() RETURNS text LANGUAGE sql BEGIN ATOMIC SELECT pg_read_file('/etc/passwd'); END;

-- case
-- want-none
COPY users (id, email) FROM STDIN;
1	a@example.com
\.
-- want-none
COPY users TO STDOUT;
-- want-none
CREATE EXTENSION IF NOT EXISTS pgcrypto;
-- want-none
SELECT lower(email), now(), my_pg_read_file('x') FROM users;
-- want-none
CREATE FUNCTION read_setting() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN current_setting('app.mode'); END $$;
