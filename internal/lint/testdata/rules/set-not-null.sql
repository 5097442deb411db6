-- Rule set-not-null: cases that must and must not trigger it.

-- case
-- want: set-not-null
ALTER TABLE users ALTER COLUMN email SET NOT NULL;

-- case
-- want-none
ALTER TABLE users ADD CONSTRAINT email_nn CHECK (email IS NOT NULL) NOT VALID;

-- case
CREATE TABLE fresh (email text);
-- want-none
ALTER TABLE fresh ALTER COLUMN email SET NOT NULL;

-- case pg=11
-- PostgreSQL 11 scans even with a validated CHECK: set-not-null, not proven.
ALTER TABLE users ADD CONSTRAINT email_nn CHECK (email IS NOT NULL) NOT VALID;
COMMIT;
ALTER TABLE users VALIDATE CONSTRAINT email_nn;
-- want: set-not-null
ALTER TABLE users ALTER COLUMN email SET NOT NULL;

-- case
-- A column added earlier in the migration: NOT NULL belongs in its ADD COLUMN (the finding says how).
ALTER TABLE users ADD COLUMN flag int DEFAULT 0;
-- want: set-not-null
ALTER TABLE users ALTER COLUMN flag SET NOT NULL;

-- case
-- want: set-not-null
ALTER TABLE users ADD COLUMN flag int DEFAULT 0, ALTER COLUMN flag SET NOT NULL;
