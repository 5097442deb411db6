-- Rule multiple-alter-same-table: cases that must and must not trigger it.

-- case
ALTER TABLE users ADD COLUMN a int;
-- want: multiple-alter-same-table
ALTER TABLE users ADD COLUMN b int;

-- case
-- want-none
ALTER TABLE users ADD COLUMN a int, ADD COLUMN b int;
