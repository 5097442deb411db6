-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY customers_email_lower_idx ON customers (lower(email));

-- migrate:down transaction:false
DROP INDEX CONCURRENTLY customers_email_lower_idx;
