-- Rule validate-constraint: cases that must and must not trigger it.

-- case
-- want: validate-constraint
ALTER TABLE users VALIDATE CONSTRAINT users_org_fk;

-- case
-- want-none
BEGIN;
-- want-none
ALTER TABLE users ADD COLUMN x int;
-- want-none
ALTER TABLE users VALIDATE CONSTRAINT users_org_fk;
-- want-none
COMMIT;
