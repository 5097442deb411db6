-- Rule rename-column: cases that must and must not trigger it.

-- case
-- want: rename-column
ALTER TABLE users RENAME COLUMN name TO full_name;

-- case
-- want-none
ALTER TABLE users ADD COLUMN full_name varchar(50);

-- case
-- want: rename-column
ALTER VIEW active_users RENAME COLUMN email TO mail;
