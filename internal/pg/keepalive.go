package pg

// KeepalivesToSet is a query of the server's TCP keepalive settings that a session holding locks should
// set (name, want): tcp_keepalives_idle 60s, then 6 probes 10s apart, and tcp_user_timeout 2m for what
// the server sent and the client did not acknowledge, so that the server notices within about two
// minutes that the host at the other end is gone (its power or network failed) and ends the session,
// releasing its locks, instead of keeping it for the kernel's defaults (2h11m on Linux). Without them,
// client_connection_check_interval would not notice either: the kernel does not know the socket is dead.
//
// It returns those the session has at 0 (unset) or above what is wanted: a setting the server, the
// database, the role or the client already has lower stays. So does one the client gave the session
// (the connection string's options, PGOPTIONS), higher or lower: it is the user's choice for that very
// connection. They are session settings any role may set;
// a Unix socket has none (they read 0, and setting them does nothing), so on one it returns no row. A
// server without one of them (tcp_user_timeout is PostgreSQL 12+) skips it.
//
// It runs on sessions that also run the application's SQL (the deploy's work session, after the reset
// before each migration; a maintenance action's), under the search path the database or the role gives
// them: what it names is pg_catalog's by name, its operators too.
const KeepalivesToSet = `SELECT s.name, v.want
	FROM pg_catalog.pg_settings s JOIN (VALUES ('tcp_keepalives_idle', 60), ('tcp_keepalives_interval', 10), ('tcp_keepalives_count', 6),
	  ('tcp_user_timeout', 120000)) v(name, want) ON v.name OPERATOR(pg_catalog.=) s.name
	WHERE pg_catalog.inet_client_addr() IS NOT NULL AND s.source OPERATOR(pg_catalog.<>) 'client'
	  AND (pg_catalog.current_setting(s.name)::pg_catalog.int4 OPERATOR(pg_catalog.=) 0
	    OR pg_catalog.current_setting(s.name)::pg_catalog.int4 OPERATOR(pg_catalog.>) v.want)`

// KeepaliveOptions is a query of KeepalivesToSet as the -c options of a client (libpq's options or
// PGOPTIONS) that connects as the session does, such as pg_dump, pg_restore or a hook's psql: "-c
// tcp_keepalives_count=6 -c tcp_keepalives_idle=60 ...", "" when there are none (a Unix socket).
const KeepaliveOptions = `SELECT coalesce(pg_catalog.string_agg(pg_catalog.format('-c %s=%s', k.name, k.want), ' ' ORDER BY k.name), '') FROM (` + KeepalivesToSet + `) k`
