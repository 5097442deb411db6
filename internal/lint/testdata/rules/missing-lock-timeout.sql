-- Rule missing-lock-timeout: cases that must and must not trigger it.

-- case
-- want: missing-lock-timeout
ALTER TABLE users ADD COLUMN bio text;

-- case
-- want-none
SET lock_timeout = '2s';
-- want-none
ALTER TABLE users ADD COLUMN bio text;

-- case
-- CREATE OR REPLACE VIEW of a view the history has rewrites it under ACCESS EXCLUSIVE.
-- want: missing-lock-timeout
CREATE OR REPLACE VIEW active_users AS SELECT id, email, name FROM users;

-- case
-- Of a view the (complete) history lacks, it only creates one.
-- want-none
CREATE OR REPLACE VIEW active_users_v2 AS SELECT id FROM users;

-- case
-- want-none
CREATE VIEW fresh_users AS SELECT id FROM users;
-- want-none
CREATE OR REPLACE VIEW fresh_users AS SELECT id, email FROM users;

-- case
-- want: missing-lock-timeout
ALTER VIEW active_users SET SCHEMA app;

-- case notx
-- DROP INDEX CONCURRENTLY: SHARE UPDATE EXCLUSIVE on the table, ACCESS EXCLUSIVE on the index at the end.
-- want: missing-lock-timeout
DROP INDEX CONCURRENTLY IF EXISTS users_email_idx;

-- case notx
-- want-none
SET lock_timeout = '2s';
-- want-none
DROP INDEX CONCURRENTLY IF EXISTS users_email_idx;

-- case notx
-- DETACH PARTITION … CONCURRENTLY: ACCESS EXCLUSIVE on the partition in its second transaction, which
-- a query naming the partition queues behind.
-- want: missing-lock-timeout
ALTER TABLE events DETACH PARTITION events_2024 CONCURRENTLY;

-- case notx
-- want-none
SET lock_timeout = '2s';
-- want-none
ALTER TABLE events DETACH PARTITION events_2024 CONCURRENTLY;

-- case
-- want: missing-lock-timeout
ALTER SEQUENCE invoice_no SET SCHEMA app;

-- case
-- want: missing-lock-timeout
ALTER FOREIGN TABLE remote_orders RENAME TO remote_orders_v1;


-- case
-- ALTER SEQUENCE takes SHARE ROW EXCLUSIVE on the sequence: it waits for open transactions that called
-- nextval(), and every nextval() (every INSERT drawing a default from it) queues behind it.
-- want: missing-lock-timeout
ALTER SEQUENCE invoice_no RESTART WITH 1000;

-- case
-- want: missing-lock-timeout
ALTER SEQUENCE public.invoice_no OWNED BY users.id;

-- case
-- A sequence the migration creates, or one that does not exist, holds up no one.
CREATE SEQUENCE order_no;
-- want-none
ALTER SEQUENCE order_no INCREMENT BY 10;
-- want-none
ALTER SEQUENCE IF EXISTS no_such_seq RESTART;
