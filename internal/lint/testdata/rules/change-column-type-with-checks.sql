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
