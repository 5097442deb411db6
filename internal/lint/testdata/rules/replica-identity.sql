-- Rule replica-identity: cases that must and must not trigger it.

-- case
-- want: replica-identity
ALTER TABLE users REPLICA IDENTITY FULL;

-- case
CREATE TABLE new_tbl (id bigint);
-- want-none
ALTER TABLE new_tbl REPLICA IDENTITY DEFAULT;

-- case
-- PostgreSQL 15 refuses an index with a nullable column as replica identity ("cannot be used as
-- replica identity because column "email" is nullable"), also on a table of the migration.
-- want: replica-identity
ALTER TABLE users REPLICA IDENTITY USING INDEX users_email_uidx;
CREATE TABLE new_tbl (id bigint NOT NULL, code text);
CREATE UNIQUE INDEX new_tbl_id ON new_tbl (id);
CREATE UNIQUE INDEX new_tbl_code ON new_tbl (code);
-- want-none
ALTER TABLE new_tbl REPLICA IDENTITY USING INDEX new_tbl_id;
-- want: replica-identity
ALTER TABLE new_tbl REPLICA IDENTITY USING INDEX new_tbl_code;
