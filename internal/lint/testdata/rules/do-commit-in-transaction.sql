-- Rule do-commit-in-transaction: cases that must and must not trigger it.

-- case
-- The tool wraps the file in a transaction: the COMMIT fails there.
-- want: do-commit-in-transaction
DO $$
BEGIN
  UPDATE users SET age = 0 WHERE age IS NULL;
  COMMIT;
END $$;

-- case
-- A ROLLBACK deep in a loop and a condition counts as well.
-- want: do-commit-in-transaction
DO $$
DECLARE i int;
BEGIN
  FOR i IN 1..10 LOOP
    BEGIN
      IF i > 5 THEN
        ROLLBACK;
      END IF;
    END;
  END LOOP;
END $$;

-- case notx
-- The file's own BEGIN opens the transaction block.
BEGIN;
-- want: do-commit-in-transaction
DO $$ BEGIN UPDATE users SET age = 0 WHERE age IS NULL; COMMIT; END $$;
COMMIT;

-- case notx
-- Outside a transaction block (goose NO TRANSACTION, a golang-migrate file of one statement, psql).
-- want-none
DO $$ BEGIN UPDATE users SET age = 0 WHERE age IS NULL; COMMIT; END $$;

-- case notx
-- After the file's own COMMIT, the DO block runs in autocommit again.
BEGIN;
UPDATE users SET age = 0 WHERE age IS NULL;
COMMIT;
-- want-none
DO $$ BEGIN UPDATE users SET age = 1 WHERE age = 0; COMMIT; END $$;

-- case
-- COMMIT only in a string or a comment: the body does not commit.
-- want-none
DO $$
BEGIN
  -- COMMIT;
  RAISE NOTICE 'COMMIT; ROLLBACK;';
END $$;

-- case
-- A procedure may commit, but the file does not tell: CALL stays opaque-statement.
-- want-none
CALL backfill_ages();
-- want-none
DO $$ BEGIN CALL backfill_ages(); END $$;

-- case
-- A body in another language is not read.
-- want-none
DO LANGUAGE plperl $$ spi_commit(); $$;
