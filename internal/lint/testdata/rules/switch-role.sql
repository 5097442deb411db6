-- Rule switch-role: cases that must and must not trigger it.

-- case
-- want: switch-role
SET SESSION AUTHORIZATION postgres;
-- want: switch-role
SET ROLE app_owner;
-- want: switch-role
SET LOCAL ROLE rds_superuser;
-- want: switch-role
SELECT set_config('session_authorization', 'postgres', false);
-- want: switch-role
SELECT set_config('role', 'app_owner', true);
-- want: switch-role
CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN SET ROLE postgres; END $$;

-- case
-- want-none
RESET ROLE;
-- want-none
SET ROLE NONE;
-- want-none
SET SESSION AUTHORIZATION DEFAULT;
-- want-none
SELECT set_config('lock_timeout', '2s', false);
-- want-none
SET search_path = app, public;
