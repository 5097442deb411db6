-- Rule transaction-boundaries: cases that must and must not trigger it.

-- case notx
-- want: transaction-boundaries
BEGIN;
CREATE TABLE t6 (id int);

-- case notx
-- want-none
BEGIN;
-- want-none
CREATE TABLE t6 (id int);
-- want-none
COMMIT;

-- case
-- want: transaction-boundaries
COMMIT;

-- case notx
BEGIN;
-- want: transaction-boundaries
BEGIN;
COMMIT;

-- case notx
-- An ignored finding counts as absent.
-- schemagate:ignore transaction-boundaries the deploy script commits
-- want-none
BEGIN;
CREATE TABLE t8 (id int);
