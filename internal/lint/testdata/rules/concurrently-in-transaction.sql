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

-- case notx
-- COMMIT AND CHAIN ends the transaction and starts another: still a transaction block.
BEGIN;
ALTER TABLE users ADD COLUMN bio text;
COMMIT AND CHAIN;
-- want: concurrently-in-transaction
CREATE INDEX CONCURRENTLY users_bio_idx ON users (bio);
COMMIT;

-- case notx
BEGIN;
ROLLBACK AND CHAIN;
-- want: concurrently-in-transaction
CREATE INDEX CONCURRENTLY users_age_idx ON users (age);
COMMIT;

-- case notx
-- After a plain COMMIT it runs in autocommit.
BEGIN;
ALTER TABLE users ADD COLUMN bio text;
COMMIT;
-- want-none
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_bio_idx ON users (bio);

-- case notx
-- COMMIT PREPARED runs only outside a transaction block.
BEGIN;
-- want: concurrently-in-transaction
COMMIT PREPARED 'add_bio';
COMMIT;

-- case notx
-- want-none
COMMIT PREPARED 'add_bio';

-- case
-- REINDEX (CONCURRENTLY false) is a plain REINDEX, which runs in a transaction.
-- want: reindex-blocking
REINDEX (CONCURRENTLY false) TABLE users;
