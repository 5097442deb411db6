-- Rule change-column-type-coercible: cases that must and must not trigger it.

-- case
-- want: change-column-type-coercible
ALTER TABLE users ALTER COLUMN name TYPE text;

-- case
-- want-none
ALTER TABLE users ALTER COLUMN name TYPE varchar(10);
-- want: change-column-type-coercible
ALTER TABLE users ALTER COLUMN name TYPE varchar(100);

-- case
-- A USING clause always rewrites.
-- want-none
ALTER TABLE users ALTER COLUMN name TYPE text USING name::text;
