-- Rule alter-owner: cases that must and must not trigger it.

-- case
-- want: alter-owner
ALTER TABLE users OWNER TO app_owner;

-- case
-- want-none
GRANT SELECT ON users TO app_ro;
