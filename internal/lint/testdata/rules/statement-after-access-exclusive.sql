-- Rule statement-after-access-exclusive: cases that must and must not trigger it.

-- case
BEGIN;
ALTER TABLE users ADD COLUMN bio text;
-- want: statement-after-access-exclusive
UPDATE users SET bio = '';
COMMIT;

-- case notx
-- want-none
ALTER TABLE users ADD COLUMN bio text;

-- case
-- The same statements on a table created in this migration hold no lock anyone waits for.
CREATE TABLE drafts (id bigint);
ALTER TABLE drafts ADD COLUMN bio text;
-- want-none
UPDATE drafts SET bio = '';

-- case
-- A sequence renamed holds ACCESS EXCLUSIVE on it until COMMIT: INSERTs that draw from it wait.
BEGIN;
ALTER SEQUENCE invoice_no RENAME TO invoice_number;
-- want: statement-after-access-exclusive
UPDATE users SET bio = '';
COMMIT;

-- case
BEGIN;
ALTER FOREIGN TABLE remote_orders SET SCHEMA app;
-- want: statement-after-access-exclusive
UPDATE users SET bio = '';
COMMIT;
