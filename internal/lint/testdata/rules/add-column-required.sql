-- Rule add-column-required: cases that must and must not trigger it.

-- case
-- want: add-column-required
ALTER TABLE users ADD COLUMN tier int NOT NULL;

-- case
-- want-none
ALTER TABLE users ADD COLUMN tier int NOT NULL DEFAULT 0;

-- case
-- want: add-column-required
ALTER TABLE users ADD COLUMN tier int NOT NULL DEFAULT NULL;

-- case
-- want: add-column-required
ALTER TABLE users ADD COLUMN tier text NOT NULL DEFAULT NULL::text;

-- case
-- want-none
CREATE DOMAIN tier_d AS int DEFAULT 0;
-- want: add-column-required
ALTER TABLE users ADD COLUMN tier tier_d NOT NULL DEFAULT NULL;

-- case
-- want-none
CREATE DOMAIN tier_n AS int DEFAULT NULL;
-- want: add-column-required
ALTER TABLE users ADD COLUMN tier tier_n NOT NULL;

-- case
-- want-none
CREATE DOMAIN tier_s AS int DEFAULT 0;
-- want-none
ALTER DOMAIN tier_s SET DEFAULT NULL;
-- want: add-column-required
ALTER TABLE users ADD COLUMN tier tier_s NOT NULL;

-- case
-- want-none
CREATE DOMAIN tier_k AS int DEFAULT 0;
-- want-none
ALTER TABLE users ADD COLUMN tier tier_k NOT NULL;
