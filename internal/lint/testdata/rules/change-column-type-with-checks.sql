-- Rule change-column-type-with-checks: cases that must and must not trigger it.

-- case
ALTER TABLE users ADD CONSTRAINT age_pos CHECK (age > 0) NOT VALID;
-- want: change-column-type-with-checks
ALTER TABLE users ALTER COLUMN age TYPE numeric;

-- case
-- want-none
ALTER TABLE users ALTER COLUMN created_at TYPE timestamptz;
-- want-none
SET timezone='UTC';

-- case
-- A CHECK written on the column is re-validated as well.
ALTER TABLE users ADD COLUMN score int CHECK (score >= 0);
-- want: change-column-type-with-checks
ALTER TABLE users ALTER COLUMN score TYPE numeric;

-- case
-- A dropped column takes its CHECKs with it: the column added again has none.
ALTER TABLE users ADD CONSTRAINT age_pos CHECK (age > 0) NOT VALID;
ALTER TABLE users DROP COLUMN age;
ALTER TABLE users ADD COLUMN age int;
-- want-none
ALTER TABLE users ALTER COLUMN age TYPE numeric;
