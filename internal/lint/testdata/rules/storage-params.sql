-- Rule storage-params: cases that must and must not trigger it.

-- case
-- want: storage-params
ALTER TABLE users SET (user_catalog_table = true);

-- case
-- want-none
ALTER TABLE users SET (fillfactor = 70);
-- want-none
ALTER TABLE users RESET (autovacuum_vacuum_scale_factor, toast.autovacuum_enabled);
