-- Rule missing-statement-timeout: cases that must and must not trigger it.

-- case
-- want: missing-statement-timeout
ALTER TABLE users ADD COLUMN bio text;

-- case
-- want-none
SET statement_timeout = '30s';
-- want-none
ALTER TABLE users ADD COLUMN bio text;
