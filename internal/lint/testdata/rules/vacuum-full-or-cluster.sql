-- Rule vacuum-full-or-cluster: cases that must and must not trigger it.

-- case
-- want: vacuum-full-or-cluster
VACUUM FULL users;

-- case
-- want-none
VACUUM (ANALYZE) users;

-- case
-- want-none
CREATE TABLE scratch (id bigint PRIMARY KEY);
-- want-none
CLUSTER scratch USING scratch_pkey;

-- case notx
-- want-none
CREATE TABLE IF NOT EXISTS scratch (id bigint);
-- want-none
VACUUM FULL scratch;

-- case notx
-- FULL false is a plain VACUUM: no rewrite, the table keeps its relfilenode.
-- want-none
VACUUM (FULL false) users;
-- want-none
VACUUM (FULL off, ANALYZE) users;
-- want: vacuum-full-or-cluster
VACUUM (FULL true) users;
