-- Rule drop-constraint: cases that must and must not trigger it.

-- case
-- want: drop-constraint
ALTER TABLE users DROP CONSTRAINT users_org_fk;

-- case
CREATE TABLE t7 (age int, CONSTRAINT age_pos CHECK (age > 0));
-- want-none
ALTER TABLE t7 DROP CONSTRAINT age_pos;
