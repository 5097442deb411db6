-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY IF NOT EXISTS customers_tier_idx ON customers (tier);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS customers_tier_idx;
