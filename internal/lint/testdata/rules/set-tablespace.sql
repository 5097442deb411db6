-- Rule set-tablespace: cases that must and must not trigger it.

-- case
-- want: set-tablespace
ALTER TABLE users SET TABLESPACE fast_ssd;

-- case
-- want-none
CREATE TABLE t4 (id int) TABLESPACE fast_ssd;

-- case
-- want: set-tablespace
ALTER INDEX users_email_idx SET TABLESPACE pg_default;

-- case
-- want-none
ALTER INDEX users_email_idx RENAME TO users_email_idx2;

-- case
-- want: set-tablespace
ALTER TABLE ALL IN TABLESPACE pg_default SET TABLESPACE fast_ssd;
-- want: set-tablespace
ALTER INDEX ALL IN TABLESPACE pg_default SET TABLESPACE fast_ssd;
-- want: set-tablespace
ALTER MATERIALIZED VIEW ALL IN TABLESPACE pg_default SET TABLESPACE fast_ssd;
