-- Rule prepared-transaction: cases that must and must not trigger it.

-- case notx
-- The prepared transaction keeps ACCESS EXCLUSIVE on users until a COMMIT PREPARED that never comes.
BEGIN;
ALTER TABLE users ADD COLUMN bio text;
-- want: prepared-transaction
PREPARE TRANSACTION 'add_bio';

-- case
-- In the tool's transaction as well.
CREATE TABLE t11 (id int);
-- want: prepared-transaction
PREPARE TRANSACTION 't11';

-- case notx
-- Committed later in the migration: still held until then, and refused by a default server.
BEGIN;
ALTER TABLE users ADD COLUMN bio text;
-- want: prepared-transaction
PREPARE TRANSACTION 'add_bio';
-- want-none
COMMIT PREPARED 'add_bio';

-- case notx
-- Outside a transaction block it prepares nothing.
-- want: prepared-transaction
PREPARE TRANSACTION 'nothing';

-- case notx
-- want-none
BEGIN;
ALTER TABLE users ADD COLUMN bio text;
-- want-none
COMMIT;
