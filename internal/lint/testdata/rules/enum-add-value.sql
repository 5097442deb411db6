-- Rule enum-add-value: cases that must and must not trigger it.

-- case
BEGIN;
-- want: enum-add-value
ALTER TYPE status ADD VALUE 'c';
UPDATE users SET tier = 'c' WHERE id = 1;
COMMIT;

-- case notx
-- want-none
ALTER TYPE status ADD VALUE 'c' AFTER 'b';

-- case
-- Alone in its transaction the value is usable after COMMIT.
-- want-none
ALTER TYPE status ADD VALUE 'c' AFTER 'b';

-- case pg=11
-- Before PostgreSQL 12 ADD VALUE cannot run in a transaction block at all.
-- want: enum-add-value
ALTER TYPE status ADD VALUE 'c' AFTER 'b';

-- case
-- The new value used before COMMIT: PostgreSQL 15 fails the statement (unsafe use of new value).
-- want: enum-add-value
ALTER TYPE status ADD VALUE 'c';
ALTER TABLE users ADD COLUMN st status DEFAULT 'c';
