-- Rule drop-table: cases that must and must not trigger it.

-- case
-- want: drop-table
DROP TABLE users;

-- case
-- want-none
CREATE TABLE scratch (id int);
-- want-none
DROP TABLE scratch;
