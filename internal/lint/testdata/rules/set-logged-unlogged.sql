-- Rule set-logged-unlogged: cases that must and must not trigger it.

-- case
-- want: set-logged-unlogged
ALTER TABLE users SET UNLOGGED;

-- case
-- want-none
CREATE UNLOGGED TABLE staging (id int);

-- case
-- On a partitioned table it changes nothing (caution, not a rewrite); the finding still names it.
-- want: set-logged-unlogged
ALTER TABLE events SET UNLOGGED;
