-- Deploy shop:orders to pg
-- requires: customers

BEGIN;

CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    status text NOT NULL DEFAULT 'new'
);

CREATE INDEX orders_customer_id_idx ON orders (customer_id);

COMMIT;
