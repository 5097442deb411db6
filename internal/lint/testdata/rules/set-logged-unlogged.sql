-- Rule set-logged-unlogged: cases that must and must not trigger it.

-- case
-- want: set-logged-unlogged
ALTER TABLE users SET UNLOGGED;

-- case
-- want-none
CREATE UNLOGGED TABLE staging (id int);
