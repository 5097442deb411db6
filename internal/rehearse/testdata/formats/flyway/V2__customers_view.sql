CREATE VIEW customer_emails AS SELECT id, email FROM customers;
