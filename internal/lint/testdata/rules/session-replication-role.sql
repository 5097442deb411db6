-- Rule session-replication-role: cases that must and must not trigger it.

-- case
-- want: session-replication-role
SET session_replication_role = replica;
-- want: session-replication-role
SET LOCAL session_replication_role TO 'replica';
-- want: session-replication-role
SELECT set_config('session_replication_role', 'replica', false);
-- want: session-replication-role
SELECT pg_catalog.set_config('session_replication_role', 'replica', true);
-- want: session-replication-role
DO $$ BEGIN SET session_replication_role = replica; END $$;
-- want: session-replication-role
DO $$ BEGIN PERFORM set_config('session_replication_role', 'replica', true); END $$;
-- want: session-replication-role
ALTER ROLE loader SET session_replication_role = replica;
-- want: session-replication-role
ALTER DATABASE app SET session_replication_role = 'replica';

-- case
-- want-none
RESET session_replication_role;
-- want-none
SET session_replication_role = DEFAULT;
-- want-none
SET session_replication_role = origin;
-- want-none
SELECT set_config('session_replication_role', 'origin', false);
-- want-none
SELECT set_config('lock_timeout', '2s', false);
