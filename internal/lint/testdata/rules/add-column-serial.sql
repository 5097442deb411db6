-- Rule add-column-serial: cases that must and must not trigger it.

-- case
-- want: add-column-serial
ALTER TABLE users ADD COLUMN seq bigserial;

-- case
-- want-none
CREATE TABLE t2 (id bigserial PRIMARY KEY);
