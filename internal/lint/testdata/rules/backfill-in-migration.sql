-- Rule backfill-in-migration: cases that must and must not trigger it.

-- case
-- want: backfill-in-migration
UPDATE users SET tier = 0;

-- case
-- want-none
UPDATE users SET tier = 0 WHERE id BETWEEN 1 AND 10000 AND tier IS NULL;
-- want: backfill-in-migration
DELETE FROM users;
-- want: backfill-in-migration
INSERT INTO orgs (id) SELECT DISTINCT org_id FROM users;
-- want-none
INSERT INTO orgs (id) VALUES (1);
