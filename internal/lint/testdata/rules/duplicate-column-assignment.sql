-- Rule duplicate-column-assignment: cases that must and must not trigger it.

-- case
-- want: duplicate-column-assignment
UPDATE users SET age = 1, age = 2 WHERE id = 1;

-- case
-- want-none
UPDATE users SET age = 2 WHERE id = 1;
