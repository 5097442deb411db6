-- Rule add-exclusion-constraint: cases that must and must not trigger it.

-- case
-- want: add-exclusion-constraint
ALTER TABLE bookings ADD CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&);

-- case
-- want-none
CREATE TABLE bookings2 (room int, during tstzrange, EXCLUDE USING gist (room WITH =, during WITH &&));
