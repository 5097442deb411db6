-- Rule concurrent-index-hygiene: cases that must and must not trigger it.

-- case
-- want: concurrent-index-hygiene
CREATE INDEX CONCURRENTLY ON users (age);

-- case
-- want-none
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_age_idx ON users (age);
