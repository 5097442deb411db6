-- Rule add-column-constrained-domain: cases that must and must not trigger it.

-- case
-- want: add-column-constrained-domain
ALTER TABLE users ADD COLUMN score positive_int;

-- case
-- want-none
ALTER TABLE users ADD COLUMN score int;
-- want-none
ALTER TABLE users ADD CONSTRAINT score_pos CHECK (score > 0) NOT VALID;
