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

-- case
-- A CHECK written on the column proves it as one written on the table (PostgreSQL validates it as the
-- column is added).
ALTER TABLE users ADD COLUMN score int CHECK (score IS NOT NULL AND score >= 0);
-- want: set-not-null-proven
ALTER TABLE users ALTER COLUMN score SET NOT NULL;

-- case
-- IS DISTINCT FROM NULL is a NULL test to PostgreSQL.
ALTER TABLE users ADD CONSTRAINT age_nn CHECK (age IS DISTINCT FROM NULL) NOT VALID;
COMMIT;
ALTER TABLE users VALIDATE CONSTRAINT age_nn;
-- want: set-not-null-proven
ALTER TABLE users ALTER COLUMN age SET NOT NULL;

-- case
-- Against a typed NULL it is not: the table is scanned.
ALTER TABLE users ADD COLUMN score int CHECK (score IS DISTINCT FROM NULL::int);
-- want-none
ALTER TABLE users ALTER COLUMN score SET NOT NULL;

-- case
-- The column's CHECK, dropped by the name PostgreSQL gave it, proves nothing.
ALTER TABLE users ADD COLUMN score int CHECK (score IS NOT NULL);
ALTER TABLE users DROP CONSTRAINT users_score_check;
-- want-none
ALTER TABLE users ALTER COLUMN score SET NOT NULL;

-- case
-- The rewrite of an ADD COLUMN in the same ALTER TABLE checks NOT NULL in every row it writes.
-- want: set-not-null-proven
ALTER TABLE users ADD COLUMN seen timestamptz DEFAULT clock_timestamp(), ALTER COLUMN seen SET NOT NULL;

-- case
-- A fast default is no rewrite: the SET NOT NULL scans (set-not-null.sql has the finding).
-- want-none
ALTER TABLE users ADD COLUMN flag int DEFAULT 0, ALTER COLUMN flag SET NOT NULL;
