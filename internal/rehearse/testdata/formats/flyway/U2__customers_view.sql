DROP VIEW customer_emails;
