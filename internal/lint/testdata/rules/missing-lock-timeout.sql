-- Rule missing-lock-timeout: cases that must and must not trigger it.

-- case
-- want: missing-lock-timeout
ALTER TABLE users ADD COLUMN bio text;

-- case
-- want-none
SET lock_timeout = '2s';
-- want-none
ALTER TABLE users ADD COLUMN bio text;
