-- Rule add-column-required: cases that must and must not trigger it.

-- case
-- want: add-column-required
ALTER TABLE users ADD COLUMN tier int NOT NULL;

-- case
-- want-none
ALTER TABLE users ADD COLUMN tier int NOT NULL DEFAULT 0;
