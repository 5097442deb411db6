-- Rule concurrently-in-transaction: cases that must and must not trigger it.

-- case notx
BEGIN;
-- want: concurrently-in-transaction
CREATE INDEX CONCURRENTLY users_age_idx ON users (age);
COMMIT;

-- case
-- The tool wraps the file in a transaction.
-- want: concurrently-in-transaction
DROP INDEX CONCURRENTLY IF EXISTS users_age_idx;
-- want: concurrently-in-transaction
REINDEX INDEX CONCURRENTLY users_email_idx;
-- want: concurrently-in-transaction
ALTER TABLE events DETACH PARTITION events_2024 CONCURRENTLY;
-- want: concurrently-in-transaction
VACUUM users;

-- case notx
-- want-none
CREATE INDEX CONCURRENTLY users_age_idx ON users (age);

-- case
-- want: concurrently-in-transaction, reindex-blocking
REINDEX SCHEMA public;

-- case notx
-- want: reindex-blocking
REINDEX DATABASE app;

-- case
-- want: reindex-blocking
REINDEX TABLE users;
