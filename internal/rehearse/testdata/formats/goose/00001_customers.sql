-- +goose Up
CREATE TYPE customer_tier AS ENUM ('free', 'pro');
CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tier customer_tier NOT NULL DEFAULT 'free'
);

-- +goose Down
DROP TABLE customers;
DROP TYPE customer_tier;
