-- atlas:txmode none

-- Create index "customers_email_idx" to table: "customers"
CREATE UNIQUE INDEX CONCURRENTLY "customers_email_idx" ON "customers" ("email");
