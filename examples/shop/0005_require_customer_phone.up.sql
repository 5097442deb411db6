ALTER TABLE customers ADD COLUMN phone text;
ALTER TABLE customers ALTER COLUMN phone SET NOT NULL;
CREATE INDEX customers_phone_idx ON customers (phone);
