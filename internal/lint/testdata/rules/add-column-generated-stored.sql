-- Rule add-column-generated-stored: cases that must and must not trigger it.

-- case
-- want: add-column-generated-stored
ALTER TABLE users ADD COLUMN email_lc text GENERATED ALWAYS AS (lower(email)) STORED;

-- case
-- want-none
ALTER TABLE users ADD COLUMN email_lc text;
