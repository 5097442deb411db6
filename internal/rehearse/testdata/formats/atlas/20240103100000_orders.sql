-- Create "orders" table
CREATE TABLE "orders" ("id" bigint NOT NULL GENERATED ALWAYS AS IDENTITY, "customer_id" bigint NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "orders_customer_fk" FOREIGN KEY ("customer_id") REFERENCES "customers" ("id"));
-- Create index "orders_customer_idx" to table: "orders"
CREATE INDEX "orders_customer_idx" ON "orders" ("customer_id");
