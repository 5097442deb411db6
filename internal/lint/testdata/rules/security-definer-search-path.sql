-- Rule security-definer-search-path: cases that must and must not trigger it.

-- case
-- want: security-definer-search-path
CREATE FUNCTION user_count() RETURNS bigint LANGUAGE sql SECURITY DEFINER AS 'SELECT count(*) FROM users';
-- want: security-definer-search-path
CREATE OR REPLACE PROCEDURE reset_pw(u text) LANGUAGE plpgsql SECURITY DEFINER SET work_mem = '64MB' AS $$ BEGIN UPDATE accounts SET pw = NULL WHERE name = u; END $$;
-- want: security-definer-search-path
ALTER FUNCTION user_count() SECURITY DEFINER;

-- case
-- want-none
CREATE FUNCTION user_count2() RETURNS bigint LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS 'SELECT count(*) FROM public.users';
-- want-none
CREATE FUNCTION user_count3() RETURNS bigint LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS 'SELECT count(*) FROM public.users';
-- want-none
CREATE FUNCTION user_count4() RETURNS bigint LANGUAGE sql SECURITY INVOKER AS 'SELECT count(*) FROM users';
-- want-none
ALTER FUNCTION user_count() SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
-- want-none
ALTER FUNCTION user_count() SECURITY INVOKER;
