-- Rule add-column-default-nonvolatile: cases that must and must not trigger it.

-- case
-- want: add-column-default-nonvolatile
ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true;

-- case
-- want-none
ALTER TABLE users ADD COLUMN active boolean;
