-- Rule grant-to-public: cases that must and must not trigger it.

-- case
-- want: grant-to-public
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO PUBLIC;
-- want: grant-to-public
ALTER DEFAULT PRIVILEGES FOR ROLE app_owner GRANT ALL ON SEQUENCES TO PUBLIC;
-- want: grant-to-public
GRANT SELECT ON ALL TABLES IN SCHEMA public TO PUBLIC;
-- want: grant-to-public
GRANT ALL PRIVILEGES ON ALL SEQUENCES IN SCHEMA app TO app_ro, PUBLIC;
-- want: grant-to-public
GRANT SELECT, UPDATE ON users TO PUBLIC;
-- want: grant-to-public
GRANT CREATE ON SCHEMA public TO PUBLIC;
-- want: grant-to-public
DO $$ BEGIN GRANT SELECT ON ALL TABLES IN SCHEMA public TO PUBLIC; END $$;

-- case
-- want-none
GRANT SELECT ON ALL TABLES IN SCHEMA public TO app_ro;
-- want-none
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO app_ro;
-- want-none
GRANT SELECT, INSERT ON users TO app_rw;
-- want-none
GRANT USAGE ON SCHEMA app TO PUBLIC;
-- want-none
GRANT EXECUTE ON FUNCTION touch() TO PUBLIC;
-- want-none
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
-- want-none
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
