-- Rule publish-all-tables: cases that must and must not trigger it.

-- case
-- want: publish-all-tables
CREATE PUBLICATION everything FOR ALL TABLES;
-- want: publish-all-tables
CREATE PUBLICATION app_pub FOR TABLES IN SCHEMA app;
-- want: publish-all-tables
ALTER PUBLICATION orders_pub ADD TABLES IN SCHEMA public;
-- want: publish-all-tables
DO $$ BEGIN EXECUTE 'CREATE PUBLICATION p FOR ALL TABLES'; END $$;

-- case
-- want-none
CREATE PUBLICATION orders_pub FOR TABLE orders;
-- want-none
ALTER PUBLICATION orders_pub ADD TABLE users;
-- want-none
ALTER PUBLICATION orders_pub DROP TABLES IN SCHEMA public;
