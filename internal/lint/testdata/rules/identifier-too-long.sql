-- Rule identifier-too-long: cases that must and must not trigger it.

-- case
-- want: identifier-too-long
CREATE TABLE a_table_name_that_is_far_too_long_for_postgres_to_keep_without_truncation (id int);
-- want: identifier-too-long
ALTER TABLE users ADD COLUMN "a column name that is far too long for postgres to keep without truncating" int;

-- case
-- want-none
CREATE TABLE short_name (id int);
-- want-none
INSERT INTO short_name (id) VALUES (1) ON CONFLICT DO NOTHING; -- 'a string literal that is far longer than sixty-three bytes is not an identifier'
