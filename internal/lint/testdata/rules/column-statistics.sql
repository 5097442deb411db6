-- Rule column-statistics: cases that must and must not trigger it.

-- case
-- want: column-statistics
ALTER TABLE users ALTER COLUMN email SET STATISTICS 1000;

-- case
-- want-none
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
