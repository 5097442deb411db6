-- Rule event-trigger: cases that must and must not trigger it.

-- case
-- want: event-trigger
CREATE EVENT TRIGGER log_ddl ON ddl_command_end EXECUTE FUNCTION log_ddl();
-- want: event-trigger
CREATE EVENT TRIGGER guard ON sql_drop WHEN TAG IN ('DROP TABLE') EXECUTE PROCEDURE guard();
-- want: event-trigger
ALTER EVENT TRIGGER log_ddl ENABLE;
-- want: event-trigger
ALTER EVENT TRIGGER log_ddl ENABLE ALWAYS;
-- want: event-trigger
ALTER EVENT TRIGGER log_ddl ENABLE REPLICA;
-- want: event-trigger
ALTER EVENT TRIGGER log_ddl DISABLE;
-- want: event-trigger
DROP EVENT TRIGGER IF EXISTS log_ddl;
-- want: event-trigger
ALTER EVENT TRIGGER log_ddl OWNER TO intruder;
-- want: event-trigger
DO $$ BEGIN EXECUTE 'CREATE EVENT TRIGGER t ON ddl_command_end EXECUTE FUNCTION f()'; END $$;

-- case
-- want-none
CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();
-- want-none
DROP TRIGGER IF EXISTS users_touch ON users;
-- want-none
ALTER TABLE users DISABLE TRIGGER users_touch;
