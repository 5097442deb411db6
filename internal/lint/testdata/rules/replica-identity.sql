-- Rule replica-identity: cases that must and must not trigger it.

-- case
-- want: replica-identity
ALTER TABLE users REPLICA IDENTITY FULL;

-- case
CREATE TABLE new_tbl (id bigint);
-- want-none
ALTER TABLE new_tbl REPLICA IDENTITY DEFAULT;
