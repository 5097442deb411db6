-- Verify flipr:lists on pg

BEGIN;

SELECT id, nickname, name, timestamp
  FROM flipr.lists
 WHERE FALSE;

ROLLBACK;
