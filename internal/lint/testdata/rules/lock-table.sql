-- Rule lock-table: cases that must and must not trigger it.

-- case
-- want: lock-table
LOCK TABLE users;
-- want: lock-table
LOCK TABLE users IN SHARE MODE;

-- case
-- want-none
LOCK TABLE users IN ACCESS SHARE MODE;

-- case
-- want-none
CREATE TABLE scratch (id bigint);
-- want-none
LOCK TABLE scratch;
