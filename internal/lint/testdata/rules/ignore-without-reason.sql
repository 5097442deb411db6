-- Rule ignore-without-reason: cases that must and must not trigger it.

-- case
-- want: ignore-without-reason
-- schemagate:ignore set-not-null
ALTER TABLE users ALTER COLUMN email SET NOT NULL;

-- case
-- schemagate:ignore set-not-null users has 200 rows
-- want-none
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
