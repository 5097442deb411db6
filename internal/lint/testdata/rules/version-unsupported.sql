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

-- case
-- PostgreSQL 15 refuses a NOT VALID foreign key on a partitioned table ("cannot add NOT VALID foreign
-- key on partitioned table"), also one the migration creates; on a partition it is fine.
-- want: version-unsupported
ALTER TABLE events ADD CONSTRAINT events_org_fk FOREIGN KEY (id) REFERENCES orgs (id) NOT VALID;
CREATE TABLE visits (id bigint, org_id bigint) PARTITION BY HASH (id);
-- want: version-unsupported
ALTER TABLE visits ADD CONSTRAINT visits_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id) NOT VALID;
-- want-none
ALTER TABLE events_2024 ADD CONSTRAINT events_2024_org_fk FOREIGN KEY (id) REFERENCES orgs (id) NOT VALID;

-- case pg=18
-- want-none
ALTER TABLE events ADD CONSTRAINT events_org_fk FOREIGN KEY (id) REFERENCES orgs (id) NOT VALID;
