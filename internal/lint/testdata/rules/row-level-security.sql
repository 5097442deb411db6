-- Rule row-level-security: cases that must and must not trigger it.

-- case
-- want: row-level-security
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
-- want: row-level-security
CREATE POLICY users_own ON users USING (id = current_setting('app.user_id')::bigint);

-- case
CREATE TABLE new_tbl (id bigint);
-- want-none
CREATE POLICY p ON new_tbl USING (true);
-- want-none
ALTER TABLE new_tbl ENABLE ROW LEVEL SECURITY;
