-- A blocking index build on a table that already exists: schemagate flags it.
CREATE INDEX orders_status_idx ON orders (status);
