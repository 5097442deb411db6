CREATE INDEX CONCURRENTLY customers_email_lower_idx ON customers (lower(email));
