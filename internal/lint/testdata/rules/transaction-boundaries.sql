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

-- case notx
-- COMMIT AND CHAIN starts another transaction at once: the last COMMIT ends it.
-- want-none
BEGIN;
CREATE TABLE t9 (id int);
-- want-none
COMMIT AND CHAIN;
CREATE TABLE t10 (id int);
-- want-none
COMMIT;

-- case notx
-- The transaction COMMIT AND CHAIN starts is never committed.
BEGIN;
CREATE TABLE t9 (id int);
-- want: transaction-boundaries
COMMIT AND CHAIN;
CREATE TABLE t10 (id int);

-- case notx
-- ROLLBACK AND CHAIN as well.
BEGIN;
-- want: transaction-boundaries
ROLLBACK AND CHAIN;
CREATE TABLE t10 (id int);

-- case notx
-- Outside a transaction block there is nothing to chain to: PostgreSQL refuses it.
-- want: transaction-boundaries
COMMIT AND CHAIN;
-- want: transaction-boundaries
ROLLBACK AND CHAIN;
