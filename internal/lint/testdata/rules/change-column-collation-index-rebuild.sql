-- Rule change-column-collation-index-rebuild: cases that must and must not trigger it.

-- case
-- want: change-column-collation-index-rebuild
ALTER TABLE users ALTER COLUMN email TYPE text COLLATE "C";

-- case
-- want-none
ALTER TABLE users ALTER COLUMN email TYPE varchar;

-- case
-- A binary-coercible change keeps an index on the plain column, but PostgreSQL 15 rebuilds one that
-- uses the column in an expression or its predicate (a scan of users under ACCESS EXCLUSIVE).
CREATE INDEX CONCURRENTLY users_name_lower ON users (lower(name));
CREATE INDEX CONCURRENTLY ON users (age) WHERE name <> '';
-- want: change-column-collation-index-rebuild
ALTER TABLE users ALTER COLUMN name TYPE text;

-- case
CREATE INDEX CONCURRENTLY users_name_idx ON users (name);
CREATE INDEX CONCURRENTLY users_name_lower ON users (lower(name));
DROP INDEX CONCURRENTLY users_name_lower;
-- want-none
ALTER TABLE users ALTER COLUMN name TYPE varchar(100);

-- case
CREATE INDEX CONCURRENTLY users_name_lower ON users (lower(name));
ALTER INDEX users_name_lower RENAME TO users_name_ci;
-- want: change-column-collation-index-rebuild
ALTER TABLE users ALTER COLUMN name TYPE varchar(100);
