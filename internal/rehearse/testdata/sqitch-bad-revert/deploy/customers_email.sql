BEGIN;
CREATE TABLE customer_audit (id bigint);
CREATE INDEX customers_email_idx ON customers (email);
COMMIT;
