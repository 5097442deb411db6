-- Rule move-or-rename-schema: cases that must and must not trigger it.

-- case
-- want: move-or-rename-schema
ALTER TABLE users SET SCHEMA app;

-- case
-- want-none
CREATE SCHEMA app;
