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

-- case
-- A WHERE clause that no key range bounds touches an unknown share of the table.
-- want: backfill-in-migration
UPDATE users SET name = 'y' WHERE name IS NULL;
-- want: backfill-in-migration
DELETE FROM users WHERE created_at < now() - interval '1 year';
-- want: backfill-in-migration
UPDATE users u SET org_id = o.id FROM orgs o WHERE u.org_id = o.id;
-- want: backfill-in-migration
DELETE FROM users WHERE id > 100;
-- want: backfill-in-migration
MERGE INTO users u USING orgs o ON u.org_id = o.id WHEN MATCHED THEN UPDATE SET name = 'x';

-- case
-- The batched recipes: a key range, a unique key, a LIMIT-ed subquery.
-- want-none
UPDATE users SET name = 'y' WHERE id >= 1 AND id < 10000 AND name IS NULL;
-- want-none
UPDATE users SET name = 'y' WHERE id IN (1, 2, 3);
-- want-none
UPDATE users SET name = 'y' WHERE email = 'a@example.com';
-- want-none
DELETE FROM users WHERE id IN (SELECT id FROM users WHERE created_at < '2000-01-01' LIMIT 1000);
-- want-none
DELETE FROM users WHERE ctid = ANY(ARRAY(SELECT ctid FROM users WHERE created_at < '2000-01-01' LIMIT 1000));
-- want-none
UPDATE users SET name = 'y' WHERE id > $1 AND id <= $2;
-- want-none
MERGE INTO orgs o USING (VALUES (1)) v(id) ON o.id = v.id WHEN NOT MATCHED THEN INSERT (id) VALUES (v.id);
-- want-none
MERGE INTO users u USING orgs o ON u.org_id = o.id AND u.id BETWEEN 1 AND 1000 WHEN MATCHED THEN UPDATE SET name = 'x';

-- case
CREATE TABLE fresh (id bigint, v text);
-- want-none
UPDATE fresh SET v = 'x' WHERE v IS NULL;

-- case pg=17
-- A data-modifying WITH runs whatever the statement around it does with its rows: also under
-- CREATE TABLE … AS, SELECT … INTO, COPY (query) TO and EXPLAIN ANALYZE (each run on 15, MERGE's on 17).
-- want: backfill-in-migration
CREATE TABLE tier_log AS WITH u AS (UPDATE users SET tier = 0 RETURNING id) SELECT * FROM u;
-- want: backfill-in-migration
CREATE TABLE merge_log AS WITH m AS (MERGE INTO orgs o USING orgs_tmp t ON o.id = t.id WHEN MATCHED THEN DELETE RETURNING o.id) SELECT * FROM m;
-- want: backfill-in-migration
WITH d AS (DELETE FROM users RETURNING id) SELECT id INTO deleted_users FROM d;
-- want: backfill-in-migration
COPY (WITH u AS (UPDATE users SET tier = 0 RETURNING id) SELECT * FROM u) TO STDOUT;
-- want: backfill-in-migration
COPY (DELETE FROM users RETURNING id) TO STDOUT;
-- want: backfill-in-migration
EXPLAIN ANALYZE WITH u AS (UPDATE users SET tier = 0 RETURNING id) SELECT * FROM u;
-- want: backfill-in-migration
EXPLAIN ANALYZE CREATE TABLE tier_log2 AS WITH u AS (UPDATE users SET tier = 0 RETURNING id) SELECT * FROM u;
-- want-none
CREATE TABLE tier_log3 AS WITH u AS (UPDATE users SET tier = 0 WHERE id = 7 RETURNING id) SELECT * FROM u;
-- want-none
EXPLAIN CREATE TABLE tier_log4 AS WITH u AS (UPDATE users SET tier = 0 RETURNING id) SELECT * FROM u;
-- want-none
COPY (SELECT id FROM users) TO STDOUT;
