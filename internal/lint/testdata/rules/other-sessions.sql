-- Rule other-sessions: cases that must and must not trigger it.

-- case
-- want: other-sessions
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid();
-- want: other-sessions
SELECT pg_cancel_backend(4242);
-- want: other-sessions
DO $$ BEGIN PERFORM pg_terminate_backend(pid) FROM pg_stat_activity; END $$;

-- case
-- want-none
SET lock_timeout = '2s';
-- want-none
SELECT pg_terminate_backend(pg_backend_pid());
-- want-none
SELECT count(*) FROM pg_stat_activity;
