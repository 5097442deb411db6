DROP INDEX customers_phone_idx;
ALTER TABLE customers DROP COLUMN phone;
