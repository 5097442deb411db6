-- Rule validate-in-same-transaction: cases that must and must not trigger it.

-- case
ALTER TABLE users ADD CONSTRAINT age_pos CHECK (age > 0) NOT VALID;
-- want: validate-in-same-transaction
ALTER TABLE users VALIDATE CONSTRAINT age_pos;

-- case notx
ALTER TABLE users ADD CONSTRAINT age_pos CHECK (age > 0) NOT VALID;
-- want-none
ALTER TABLE users VALIDATE CONSTRAINT age_pos;

-- case notx
BEGIN;
ALTER TABLE users ADD COLUMN x int;
-- want: validate-in-same-transaction
ALTER TABLE users VALIDATE CONSTRAINT users_org_fk;
COMMIT;
