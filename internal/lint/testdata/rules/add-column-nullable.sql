-- Rule add-column-nullable: cases that must and must not trigger it.

-- case
-- want: add-column-nullable
ALTER TABLE users ADD COLUMN bio text;

-- case
-- want-none
ALTER TABLE users ADD COLUMN bio text DEFAULT clock_timestamp()::text;

-- case
-- want: add-column-nullable
ALTER TABLE users ADD COLUMN bio text DEFAULT NULL;

-- case
-- want: add-column-nullable
ALTER TABLE users ADD COLUMN bio text DEFAULT CAST(NULL AS text);
