-- Rule ignore-unknown-rule: cases that must and must not trigger it.

-- case
-- want: ignore-unknown-rule
-- schemagate:ignore set-not-nul users has 200 rows
ALTER TABLE users ALTER COLUMN email SET NOT NULL;

-- case
-- schemagate:ignore set-not-null users has 200 rows
-- want-none
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
