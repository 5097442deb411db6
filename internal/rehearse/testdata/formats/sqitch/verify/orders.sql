-- Verify shop:orders on pg

BEGIN;

SELECT id, customer_id, status FROM orders WHERE false;

ROLLBACK;
