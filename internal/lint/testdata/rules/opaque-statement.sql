-- Rule opaque-statement: cases that must and must not trigger it.

-- case
-- want: opaque-statement
DO $$ BEGIN EXECUTE 'ALTER TABLE users ADD COLUMN x int'; END $$;

-- case
-- want-none
ALTER TABLE users ADD COLUMN x int;

-- case
-- want: opaque-statement
CALL migrate_users();
