-- Rule untrusted-code: cases that must and must not trigger it.

-- case
-- want: untrusted-code
CREATE EXTENSION plpython3u;
-- want: untrusted-code
CREATE LANGUAGE plperlu;
-- want: untrusted-code
CREATE TRUSTED LANGUAGE mylang HANDLER mylang_handler;
-- want: untrusted-code
CREATE FUNCTION sh(cmd text) RETURNS text LANGUAGE plpython3u AS $$ import subprocess; return subprocess.getoutput(cmd) $$;
-- want: untrusted-code
CREATE FUNCTION evil() RETURNS int LANGUAGE c AS '/tmp/evil.so', 'evil';
-- want: untrusted-code
CREATE OR REPLACE FUNCTION reader(text) RETURNS text LANGUAGE internal AS 'pg_read_file_off_len';
-- want: untrusted-code
DO LANGUAGE plperlu $$ system('id') $$;
-- want: untrusted-code
LOAD 'evil';
-- want: untrusted-code
DO $$ BEGIN EXECUTE 'CREATE FUNCTION x() RETURNS int LANGUAGE c AS ''/tmp/x.so'', ''x'''; END $$;

-- case
-- want-none
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
-- want-none
CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a + b';
-- want-none
CREATE EXTENSION IF NOT EXISTS pgcrypto;
-- want-none
CREATE EXTENSION plperl;
-- want-none
DO $$ BEGIN RAISE NOTICE 'load complete'; END $$;
