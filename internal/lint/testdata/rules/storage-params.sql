-- Rule storage-params: cases that must and must not trigger it.

-- case
-- want: storage-params
ALTER TABLE users SET (user_catalog_table = true);

-- case
-- want-none
ALTER TABLE users SET (fillfactor = 70);
-- want-none
ALTER TABLE users RESET (autovacuum_vacuum_scale_factor, toast.autovacuum_enabled);

-- case
-- A partitioned table takes no storage parameters: PostgreSQL 15 fails the SET ("unrecognized
-- parameter"), also for fillfactor; a RESET passes, and so does a SET on a partition.
-- want: storage-params
ALTER TABLE events SET (fillfactor = 70);
-- want-none
ALTER TABLE events RESET (fillfactor);
-- want-none
ALTER TABLE events_2024 SET (fillfactor = 70);
CREATE TABLE visits (id bigint) PARTITION BY RANGE (id);
-- want: storage-params
ALTER TABLE visits SET (autovacuum_enabled = false);
