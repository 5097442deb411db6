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

-- case
-- want: backfill-in-migration
UPDATE users SET tier = 0 WHERE true;
-- want: backfill-in-migration
DELETE FROM users WHERE 1=1;
-- want: backfill-in-migration
UPDATE users SET tier = 0 WHERE 'x' = 'x' AND true;
-- want: backfill-in-migration
WITH u AS (UPDATE users SET tier = 1 RETURNING 1) SELECT count(*) FROM u;
-- want: backfill-in-migration
EXPLAIN ANALYZE UPDATE users SET age = 1;
-- want: backfill-in-migration
EXPLAIN (ANALYZE, BUFFERS) DELETE FROM users;

-- case
-- want-none
UPDATE users SET tier = 0 WHERE 1 = 2;
-- want-none
UPDATE users SET tier = 0 WHERE id = 1 OR false;
-- want-none
EXPLAIN UPDATE users SET age = 1;
-- want-none
EXPLAIN (ANALYZE false) UPDATE users SET age = 1;
-- want-none
WITH u AS (UPDATE users SET tier = 1 WHERE id = 7 RETURNING 1) SELECT count(*) FROM u;
