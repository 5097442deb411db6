-- Rule add-check-constraint: cases that must and must not trigger it.

-- case
-- want: add-check-constraint
ALTER TABLE users ADD CONSTRAINT age_pos CHECK (age > 0);

-- case
-- want-none
ALTER TABLE users ADD CONSTRAINT age_pos CHECK (age > 0) NOT VALID;
