-- Rule move-or-rename-schema: cases that must and must not trigger it.

-- case
-- want: move-or-rename-schema
ALTER TABLE users SET SCHEMA app;

-- case
-- want-none
CREATE SCHEMA app;

-- case
-- want: move-or-rename-schema
ALTER VIEW active_users SET SCHEMA app;

-- case
-- want: move-or-rename-schema
ALTER MATERIALIZED VIEW user_stats SET SCHEMA app;

-- case
-- want-none
CREATE VIEW fresh_users AS SELECT id FROM users;
-- want-none
ALTER VIEW fresh_users SET SCHEMA app;

-- case
-- A sequence moves under ACCESS EXCLUSIVE: nextval('invoice_no') in running code fails.
-- want: move-or-rename-schema
ALTER SEQUENCE invoice_no SET SCHEMA app;

-- case
-- want: move-or-rename-schema
ALTER FOREIGN TABLE remote_orders SET SCHEMA app;

-- case
-- want-none
CREATE SEQUENCE fresh_no;
-- want-none
ALTER SEQUENCE fresh_no SET SCHEMA app;

-- case
-- A serial column owns its sequence: PostgreSQL refuses to move it (the deploy fails), new or not.
CREATE TABLE tickets (id serial);
-- want: move-or-rename-schema
ALTER SEQUENCE tickets_id_seq SET SCHEMA app;

-- case
-- Moving the table takes its owned sequence along.
CREATE TABLE tickets (id serial);
-- want-none
ALTER TABLE tickets SET SCHEMA app;
