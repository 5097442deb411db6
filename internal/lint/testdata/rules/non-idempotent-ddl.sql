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

-- case notx
-- Each statement commits by itself: a later one that fails leaves the earlier done, and a retry stops
-- at them.
-- want: non-idempotent-ddl
CREATE TABLE t8 (id bigint);
-- want: non-idempotent-ddl
ALTER TABLE t8 ADD COLUMN note text;
-- want-none
ALTER TABLE t8 ADD COLUMN IF NOT EXISTS code text;
-- want: non-idempotent-ddl
CREATE INDEX t8_note_idx ON t8 (note);
-- The last statement either does all it does or nothing: a retry runs it again.
-- want-none
DROP TABLE t8;

-- case notx
-- A script of one statement (psql running a plain file) leaves no partial run.
-- want-none
CREATE TABLE t9 (id bigint);
