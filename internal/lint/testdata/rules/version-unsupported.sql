-- Rule version-unsupported: cases that must and must not trigger it.

-- case notx pg=11
-- want: version-unsupported
REINDEX INDEX CONCURRENTLY users_email_idx;

-- case notx pg=12
-- want-none
REINDEX INDEX CONCURRENTLY users_email_idx;

-- case notx pg=13
-- want: version-unsupported
ALTER TABLE events DETACH PARTITION events_2024 CONCURRENTLY;

-- case notx pg=14
-- want-none
ALTER TABLE events DETACH PARTITION events_2024 CONCURRENTLY;

-- case notx pg=14
-- want: version-unsupported
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_uidx2 ON users (email) NULLS NOT DISTINCT;
-- want: version-unsupported
ALTER TABLE orgs ADD CONSTRAINT orgs_id_key UNIQUE NULLS NOT DISTINCT (id);

-- case notx pg=15
-- want-none
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_uidx2 ON users (email) NULLS NOT DISTINCT;

-- case notx pg=11
BEGIN;
-- want: version-unsupported
COMMIT AND CHAIN;
COMMIT;

-- case notx pg=12
BEGIN;
-- want-none
COMMIT AND CHAIN;
COMMIT;
