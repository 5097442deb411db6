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
-- A USING clause that computes something rewrites.
-- want-none
ALTER TABLE users ALTER COLUMN name TYPE text USING trim(name);

-- case
-- One that only reads the column, bare or cast to the new type, is the same conversion as none: on
-- PostgreSQL 15 users keeps its relfilenode.
-- want: change-column-type-coercible
ALTER TABLE users ALTER COLUMN name TYPE text USING name::text;

-- case
-- want: change-column-type-coercible
ALTER TABLE users ALTER COLUMN name TYPE varchar(100) USING name;

-- case
-- want-none
ALTER TABLE users ALTER COLUMN name TYPE varchar(100) USING name::varchar(10);

-- case
-- Every binary-coercible cast of pg_cast relabels the value: no rewrite (measured on 15).
-- want: change-column-type-coercible
ALTER TABLE users ALTER COLUMN age TYPE oid;

-- case
ALTER TABLE users ADD COLUMN flags bit(8);
COMMIT;
-- want: change-column-type-coercible
ALTER TABLE users ALTER COLUMN flags TYPE varbit;

-- case
-- A length on the new type checks every relabelled value again: a rewrite, even a longer one.
ALTER TABLE users ADD COLUMN flags bit(8);
COMMIT;
-- want-none
ALTER TABLE users ALTER COLUMN flags TYPE varbit(16);

-- case
-- An index on the column changes operator class (text to bpchar): it is rebuilt.
-- want: change-column-collation-index-rebuild
ALTER TABLE users ALTER COLUMN email TYPE bpchar;
