-- Rule enum-rename-value: cases that must and must not trigger it.

-- case
-- want: enum-rename-value
ALTER TYPE status RENAME VALUE 'a' TO 'active';

-- case
-- want-none
ALTER TYPE status ADD VALUE 'active' AFTER 'a';
