-- Rule add-column-inline-unique-pk: cases that must and must not trigger it.

-- case
-- want: add-column-inline-unique-pk
ALTER TABLE users ADD COLUMN handle text UNIQUE;

-- case
-- want-none
ALTER TABLE users ADD COLUMN handle text;
-- want-none
CREATE UNIQUE INDEX CONCURRENTLY users_handle_key ON users (handle);
