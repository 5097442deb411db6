-- Rule index-too-many-columns: cases that must and must not trigger it.

-- case
-- want: index-too-many-columns
CREATE INDEX CONCURRENTLY i ON users (a, b, c, d);

-- case
-- want-none
CREATE UNIQUE INDEX CONCURRENTLY i ON users (a, b, c, d);
