-- Rule inherit-change: cases that must and must not trigger it.

-- case
-- want: inherit-change
ALTER TABLE users_archive INHERIT users;
-- want: inherit-change
ALTER TABLE users_archive NO INHERIT users;

-- case
-- want-none
CREATE TABLE users_archive2 () INHERITS (users);
