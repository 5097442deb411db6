-- Rule rename-table: cases that must and must not trigger it.

-- case
-- want: rename-table
ALTER TABLE users RENAME TO accounts;

-- case
-- want-none
CREATE VIEW accounts AS SELECT * FROM users;
