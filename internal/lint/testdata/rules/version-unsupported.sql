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

-- case pg=15
-- PostgreSQL 16 and 17 syntax the PG17 grammar parses but a 15 server refuses (each run on 15: a
-- syntax error, an unknown function, privilege, role, option, setting or event); 15 has the rest.
-- want: version-unsupported
GRANT app_ro TO app_rw WITH INHERIT FALSE, SET FALSE;
-- want: version-unsupported
GRANT app_ro TO app_rw WITH ADMIN TRUE;
-- want: version-unsupported
REVOKE INHERIT OPTION FOR app_ro FROM app_rw;
-- want-none
GRANT app_ro TO app_rw WITH ADMIN OPTION;
-- want-none
REVOKE ADMIN OPTION FOR app_ro FROM app_rw;
-- want: version-unsupported
CREATE TABLE audit (who text DEFAULT SYSTEM_USER);
-- want: version-unsupported
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_json ON users ((email IS JSON OBJECT));
-- want: version-unsupported
SELECT JSON_OBJECT('a' VALUE 1), JSON_ARRAY(1, 2), JSON_ARRAY(SELECT 1);
-- want: version-unsupported
SELECT JSON_OBJECTAGG(email VALUE id), JSON_ARRAYAGG(id) FROM users;
-- want-none
SELECT json_object('{a,1}'), json_build_object('a', 1), JSON('{}');
-- want: version-unsupported
MERGE INTO orgs o USING orgs_tmp t ON o.id = t.id WHEN NOT MATCHED THEN INSERT VALUES (t.id) RETURNING merge_action();
-- want: version-unsupported
WITH m AS (MERGE INTO orgs o USING orgs_tmp t ON o.id = t.id WHEN NOT MATCHED THEN INSERT VALUES (t.id)) SELECT 1;
-- want-none
MERGE INTO orgs o USING orgs_tmp t ON o.id = t.id WHEN NOT MATCHED THEN INSERT VALUES (t.id);
-- want: version-unsupported
CREATE VIEW user_tags AS SELECT u.id, jt.tag FROM users u, JSON_TABLE(u.email::jsonb, '$.tags[*]' COLUMNS (tag text PATH '$')) AS jt;
-- want: version-unsupported
SELECT JSON_QUERY(email::jsonb, '$.a'), JSON_VALUE(email::jsonb, '$.a'), JSON_EXISTS(email::jsonb, '$.a'), JSON_SCALAR(1) FROM users;
-- want: version-unsupported
GRANT MAINTAIN ON users TO app_ro;
-- want: version-unsupported
GRANT pg_maintain TO app_ro;
-- want: version-unsupported
GRANT SELECT ON users TO pg_maintain;
-- want: version-unsupported
COPY users FROM STDIN (FORMAT csv, ON_ERROR ignore);
\.
-- want: version-unsupported
CREATE COLLATION builtin_c (provider = builtin, locale = 'C.UTF-8');
-- want-none
CREATE COLLATION icu_und (provider = icu, locale = 'und');
-- want: version-unsupported
SET transaction_timeout = '5s';
-- want: version-unsupported
ALTER ROLE app_rw SET transaction_timeout = '5s';
-- want: version-unsupported
SELECT set_config('transaction_timeout', '5s', false);
-- want: version-unsupported
ALTER TABLE users ALTER COLUMN email_lc SET EXPRESSION AS (lower(email));
-- want: version-unsupported
ALTER TABLE users SET ACCESS METHOD DEFAULT;
-- want-none
ALTER TABLE users SET ACCESS METHOD heap;
-- want: version-unsupported
ALTER TABLE users ALTER COLUMN age SET STATISTICS DEFAULT;
-- want-none
ALTER TABLE users ALTER COLUMN age SET STATISTICS -1;
-- want: version-unsupported
CREATE EVENT TRIGGER on_login ON login EXECUTE FUNCTION note_login();
-- want-none
CREATE EVENT TRIGGER on_ddl ON ddl_command_end EXECUTE FUNCTION note_ddl();
-- want: version-unsupported
ALTER TABLE events ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
CREATE TABLE visits (id bigint, ts date) PARTITION BY RANGE (ts);
-- want-none
ALTER TABLE visits ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
-- want-none
CREATE TABLE hits (id bigint GENERATED ALWAYS AS IDENTITY, ts date) PARTITION BY RANGE (ts);

-- case pg=16
-- 16 has the SQL/JSON constructors, SYSTEM_USER and the new role options; 17's syntax still fails.
-- want-none
GRANT app_ro TO app_rw WITH INHERIT FALSE, SET FALSE;
-- want-none
SELECT JSON_OBJECT('a' VALUE 1), SYSTEM_USER, '{}' IS JSON;
-- want: version-unsupported
MERGE INTO orgs o USING orgs_tmp t ON o.id = t.id WHEN NOT MATCHED THEN INSERT VALUES (t.id) RETURNING merge_action();
-- want: version-unsupported
ALTER TABLE users ALTER COLUMN email_lc SET EXPRESSION AS (lower(email));
-- want: version-unsupported
ALTER TABLE events ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;

-- case pg=17
-- want-none
MERGE INTO orgs o USING orgs_tmp t ON o.id = t.id WHEN NOT MATCHED THEN INSERT VALUES (t.id) RETURNING merge_action();
-- want-none
ALTER TABLE users ALTER COLUMN email_lc SET EXPRESSION AS (lower(email));
-- want-none
ALTER TABLE events ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
-- want-none
SELECT JSON_QUERY(email::jsonb, '$.a') FROM users;

-- case pg=14
-- MERGE arrived in 15, ALTER TABLE … SET ACCESS METHOD too.
-- want: version-unsupported
MERGE INTO orgs o USING orgs_tmp t ON o.id = t.id WHEN NOT MATCHED THEN INSERT VALUES (t.id);
-- want: version-unsupported
ALTER TABLE users SET ACCESS METHOD heap;
