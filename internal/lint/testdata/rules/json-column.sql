-- Rule json-column: cases that must and must not trigger it.

-- case
-- want: json-column
ALTER TABLE users ADD COLUMN prefs json;

-- case
-- want-none
ALTER TABLE users ADD COLUMN prefs jsonb;
