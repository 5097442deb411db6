-- Rule alter-rename-constraint: cases that must and must not trigger it.

-- case
-- want: alter-rename-constraint
ALTER TABLE users ALTER CONSTRAINT users_org_fk DEFERRABLE;

-- case
-- want-none
COMMENT ON CONSTRAINT users_org_fk ON users IS 'x';
