-- Rule drop-column: cases that must and must not trigger it.

-- case
-- want: drop-column
ALTER TABLE users DROP COLUMN age;

-- case
CREATE TABLE new_tbl (id bigint, tmp int);
-- want-none
ALTER TABLE new_tbl DROP COLUMN tmp;
