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
