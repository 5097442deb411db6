-- Rule alter-database: cases that must and must not trigger it.

-- case
-- want: alter-database
ALTER DATABASE app OWNER TO intruder;
-- want: alter-database
ALTER DATABASE app SET timezone = 'UTC';
-- want: alter-database
ALTER DATABASE app SET session_preload_libraries = 'evil';
-- want: alter-database
ALTER DATABASE app RENAME TO app_old;
-- want: alter-database
ALTER DATABASE app CONNECTION LIMIT 0;
-- want: alter-database
ALTER DATABASE app SET TABLESPACE slow;

-- case
-- want-none
SET LOCAL work_mem = '256MB';
-- want-none
ALTER TABLE users OWNER TO app_owner;
