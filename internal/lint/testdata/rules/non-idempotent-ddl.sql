-- Rule non-idempotent-ddl: cases that must and must not trigger it.

-- case notx
-- want: non-idempotent-ddl
CREATE INDEX CONCURRENTLY users_age_idx ON users (age);

-- case notx
-- want-none
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_age_idx ON users (age);
-- want: non-idempotent-ddl
DROP INDEX CONCURRENTLY users_name_idx;
-- want-none
DROP INDEX CONCURRENTLY IF EXISTS users_name_idx;

-- case
-- In a transaction a failed run leaves nothing behind.
-- want-none
CREATE TABLE t7 (id bigint);
