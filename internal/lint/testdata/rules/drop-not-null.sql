-- Rule drop-not-null: cases that must and must not trigger it.

-- case
-- want: drop-not-null
ALTER TABLE users ALTER COLUMN email DROP NOT NULL;

-- case
-- want-none
ALTER TABLE users ALTER COLUMN email SET DEFAULT '';
