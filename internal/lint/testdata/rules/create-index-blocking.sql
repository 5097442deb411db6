-- Rule create-index-blocking: cases that must and must not trigger it.

-- case
-- want: create-index-blocking
CREATE INDEX users_age_idx ON users (age);

-- case
-- want-none
CREATE INDEX CONCURRENTLY users_age_idx ON users (age);

-- case
CREATE TABLE fresh (age int);
-- want-none
CREATE INDEX fresh_age_idx ON fresh (age);
