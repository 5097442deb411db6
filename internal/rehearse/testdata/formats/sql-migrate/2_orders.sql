-- +migrate Up
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id)
);
-- +migrate StatementBegin
CREATE FUNCTION orders_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.customer_id := NEW.customer_id;
    RETURN NEW;
END;
$$;
-- +migrate StatementEnd
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION orders_touch();

-- +migrate Down
DROP TABLE orders;
DROP FUNCTION orders_touch();
