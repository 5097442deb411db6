-- Rule create-rule: cases that must and must not trigger it.

-- case
-- want: create-rule, missing-lock-timeout
CREATE RULE r AS ON DELETE TO users DO INSTEAD NOTHING;

-- case
-- want-none
CREATE TABLE t7 (id int);
-- want-none
CREATE RULE t7_no_delete AS ON DELETE TO t7 DO INSTEAD NOTHING;
