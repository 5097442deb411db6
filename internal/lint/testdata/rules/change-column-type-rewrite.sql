-- Rule change-column-type-rewrite: cases that must and must not trigger it.

-- case
-- want: change-column-type-rewrite
ALTER TABLE users ALTER COLUMN age TYPE bigint;

-- case
-- want-none
ALTER TABLE users ALTER COLUMN name TYPE varchar(100);
-- want: change-column-type-rewrite
ALTER TABLE users ALTER COLUMN name TYPE varchar(10);
-- want: change-column-type-rewrite
ALTER TABLE users ALTER COLUMN email TYPE text USING trim(email);

-- case
CREATE TABLE fresh (n int);
-- want-none
ALTER TABLE fresh ALTER COLUMN n TYPE bigint;

-- case
-- want: change-column-type-rewrite
ALTER TABLE users ALTER COLUMN age TYPE positive_int;

-- case
-- want-none
ALTER TABLE users ALTER COLUMN name TYPE text USING name::text;
-- want: change-column-type-rewrite
ALTER TABLE users ALTER COLUMN name TYPE varchar(10) USING name;
-- want: change-column-type-rewrite
ALTER TABLE users ALTER COLUMN age TYPE bigint USING age::bigint;
