-- Rule truncate-cascade: cases that must and must not trigger it.

-- case
-- want: truncate-cascade
TRUNCATE orgs CASCADE;

-- case
-- want-none
TRUNCATE orgs, users;
