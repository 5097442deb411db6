-- forgets customer_audit
BEGIN;
DROP INDEX customers_email_idx;
COMMIT;
