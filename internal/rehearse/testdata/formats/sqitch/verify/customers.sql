-- Verify shop:customers on pg

BEGIN;

SELECT id, email FROM customers WHERE false;

ROLLBACK;
