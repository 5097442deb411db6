-- Rule concurrent-index-buggy-version: cases that must and must not trigger it.

-- case notx pg=14.2
-- want: concurrent-index-buggy-version
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_age_idx ON users (age);
-- want: concurrent-index-buggy-version
REINDEX INDEX CONCURRENTLY users_email_idx;

-- case notx pg=14.4
-- want-none
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_age_idx ON users (age);

-- case notx pg=14
-- A bare major version means the latest minor release.
-- want-none
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_age_idx ON users (age);
