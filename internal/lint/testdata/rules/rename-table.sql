-- Rule rename-table: cases that must and must not trigger it.

-- case
-- want: rename-table
ALTER TABLE users RENAME TO accounts;

-- case
-- want-none
CREATE VIEW accounts AS SELECT * FROM users;

-- case
-- want: rename-table
ALTER VIEW active_users RENAME TO active_users_v1;

-- case
-- want: rename-table
ALTER MATERIALIZED VIEW user_stats RENAME TO org_stats;

-- case
-- want: rename-table
ALTER TABLE active_users RENAME TO active_users_v1;

-- case
CREATE VIEW fresh_v AS SELECT 1 AS n;
-- want-none
ALTER VIEW fresh_v RENAME TO fresh_v2;

-- case
-- want: rename-table
ALTER SEQUENCE invoice_no RENAME TO invoice_number;

-- case
-- want: rename-table
ALTER FOREIGN TABLE remote_orders RENAME TO remote_orders_v1;

-- case
CREATE SEQUENCE fresh_no;
-- want-none
ALTER SEQUENCE fresh_no RENAME TO fresh_number;
