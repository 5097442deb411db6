-- Rule set-drop-default: cases that must and must not trigger it.

-- case
-- want: set-drop-default
ALTER TABLE users ALTER COLUMN age SET DEFAULT 0;

-- case
-- want-none
ALTER TABLE users ADD COLUMN age2 int DEFAULT random()::int;
