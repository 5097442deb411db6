-- Rule drop-cascade: cases that must and must not trigger it.

-- case
-- want: drop-cascade
ALTER TABLE users DROP COLUMN age CASCADE;

-- case
-- want-none
ALTER TABLE users DROP COLUMN age;
