-- Rule replace-or-drop-view: cases that must and must not trigger it.

-- case
-- want: replace-or-drop-view
CREATE OR REPLACE VIEW active_users AS SELECT id FROM users;

-- case
-- want-none
CREATE VIEW active_users_v2 AS SELECT id, email FROM users;

-- case
CREATE VIEW recent_users AS SELECT id, email FROM users;
-- want: replace-or-drop-view
CREATE OR REPLACE VIEW recent_users AS SELECT id FROM users;
