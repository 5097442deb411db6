-- Rule column-storage-options: cases that must and must not trigger it.

-- case
-- want: column-storage-options
ALTER TABLE users ALTER COLUMN email SET STORAGE EXTERNAL;

-- case
-- want-none
ALTER TABLE users ALTER COLUMN email TYPE varchar(20);
