-- Rule drop-schema-or-database: cases that must and must not trigger it.

-- case
-- want: drop-schema-or-database
DROP SCHEMA legacy;

-- case
-- want-none
CREATE SCHEMA legacy;
