-- Rule add-column-inline-check: cases that must and must not trigger it.

-- case
-- want: add-column-inline-check
ALTER TABLE users ADD COLUMN karma int CHECK (karma >= 0);

-- case
-- want-none
ALTER TABLE users ADD COLUMN karma int;
-- want-none
ALTER TABLE users ADD CONSTRAINT karma_pos CHECK (karma >= 0) NOT VALID;
