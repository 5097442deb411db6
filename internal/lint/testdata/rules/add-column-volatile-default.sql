-- Rule add-column-volatile-default: cases that must and must not trigger it.

-- case
-- want: add-column-volatile-default
ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();

-- case
-- want-none
ALTER TABLE users ADD COLUMN token uuid;
-- want-none
ALTER TABLE users ALTER COLUMN token SET DEFAULT gen_random_uuid();

-- case
-- want: add-column-volatile-default
ALTER TABLE users ADD COLUMN seen_at timestamptz DEFAULT clock_timestamp();
-- want-none
ALTER TABLE users ADD COLUMN seen_at2 timestamptz DEFAULT now();
