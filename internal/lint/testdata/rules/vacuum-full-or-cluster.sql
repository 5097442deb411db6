-- Rule vacuum-full-or-cluster: cases that must and must not trigger it.

-- case
-- want: vacuum-full-or-cluster
VACUUM FULL users;

-- case
-- want-none
VACUUM (ANALYZE) users;
