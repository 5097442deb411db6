-- Rule change-column-collation-index-rebuild: cases that must and must not trigger it.

-- case
-- want: change-column-collation-index-rebuild
ALTER TABLE users ALTER COLUMN email TYPE text COLLATE "C";

-- case
-- want-none
ALTER TABLE users ALTER COLUMN email TYPE varchar;
