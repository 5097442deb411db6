-- Rule foreign-connection: cases that must and must not trigger it.

-- case
-- want: foreign-connection
CREATE EXTENSION IF NOT EXISTS dblink;
-- want: foreign-connection
CREATE EXTENSION postgres_fdw;
-- want: foreign-connection
SELECT dblink_exec('host=10.0.0.5 user=postgres', 'DROP TABLE users');
-- want: foreign-connection
SELECT * FROM dblink('host=10.0.0.5', 'SELECT 1') AS t(x int);
-- want: foreign-connection
CREATE SERVER legacy FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'legacy.internal', dbname 'app');
-- want: foreign-connection
CREATE USER MAPPING FOR app SERVER legacy OPTIONS (user 'app', password 'secret');
-- want: foreign-connection
IMPORT FOREIGN SCHEMA public FROM SERVER legacy INTO legacy;
-- want: foreign-connection
CREATE SUBSCRIPTION sub CONNECTION 'host=10.0.0.5 dbname=app' PUBLICATION pub;
-- want: foreign-connection
DO $$ BEGIN PERFORM dblink_exec('host=evil', 'SELECT 1'); END $$;

-- case
-- want-none
CREATE EXTENSION IF NOT EXISTS pgcrypto;
-- want-none
SELECT lower(email) FROM users;

-- case
-- want: foreign-connection
ALTER SUBSCRIPTION sub CONNECTION 'host=evil.example.com dbname=app';
-- want-none
ALTER SUBSCRIPTION sub DISABLE;
