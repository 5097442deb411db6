-- Rule set-not-null-proven: cases that must and must not trigger it.

-- case
ALTER TABLE users ADD CONSTRAINT email_nn CHECK (email IS NOT NULL) NOT VALID;
COMMIT;
ALTER TABLE users VALIDATE CONSTRAINT email_nn;
-- want: set-not-null-proven
ALTER TABLE users ALTER COLUMN email SET NOT NULL;

-- case
-- want-none
ALTER TABLE users ALTER COLUMN email SET NOT NULL;

-- case
-- A NOT VALID check proves nothing yet.
ALTER TABLE users ADD CONSTRAINT email_nn CHECK (email IS NOT NULL) NOT VALID;
-- want-none
ALTER TABLE users ALTER COLUMN email SET NOT NULL;

-- case pg=11
-- PostgreSQL 11 scans even with a validated CHECK (set-not-null.sql has the finding).
ALTER TABLE users ADD CONSTRAINT email_nn CHECK (email IS NOT NULL) NOT VALID;
COMMIT;
ALTER TABLE users VALIDATE CONSTRAINT email_nn;
-- want-none
ALTER TABLE users ALTER COLUMN email SET NOT NULL;

-- case
-- The primary key column is NOT NULL already: nothing to prove, nothing to scan.
-- want: set-not-null-proven
ALTER TABLE users ALTER COLUMN id SET NOT NULL;

-- case
-- A conjunct IS NOT NULL of a validated CHECK proves it as well (PostgreSQL 12+).
ALTER TABLE users ADD CONSTRAINT age_ok CHECK (age IS NOT NULL AND age > 0) NOT VALID;
COMMIT;
ALTER TABLE users VALIDATE CONSTRAINT age_ok;
-- want: set-not-null-proven
ALTER TABLE users ALTER COLUMN age SET NOT NULL;

-- case
-- An OR proves nothing unless every arm does.
ALTER TABLE users ADD CONSTRAINT age_ok CHECK (age IS NOT NULL OR org_id > 0) NOT VALID;
COMMIT;
ALTER TABLE users VALIDATE CONSTRAINT age_ok;
-- want-none
ALTER TABLE users ALTER COLUMN age SET NOT NULL;
