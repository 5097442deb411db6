package pg

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// OwnSession is cfg for a session of schemagate's own, one that runs none of the migrations' SQL (the
// rehearsal's observer and watchdog, the deploy lock's session, the snapshot's reads): it starts with
// search_path set to pg_catalog, then pg_temp. Such a session names the system catalogs and calls their
// functions and operators unqualified, and a migration's ALTER DATABASE or ALTER ROLE ... SET
// search_path = public, pg_catalog would otherwise give it a path where a public.pg_locks view or a
// public.pg_try_advisory_lock(bigint) stands in for pg_catalog's. What such a session reads must name
// the application's relations qualified (format('%I.%I', ...)), not resolve them under the path.
func OwnSession(cfg *pgx.ConnConfig) *pgx.ConnConfig {
	cfg = cfg.Copy()
	cfg.RuntimeParams["search_path"] = "pg_catalog, pg_temp"
	return cfg
}

// ConnectOwn connects to url for a session of schemagate's own (the rehearsal's observer, watchdog and
// guard, the deploy's write watch and its checks), under pg_catalog's search path (see OwnSession).
// Nothing such a session reads is deparsed: names are quoted from the catalog.
func ConnectOwn(ctx context.Context, url string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	return pgx.ConnectConfig(ctx, OwnSession(cfg))
}

// PinCatalogPathSQL puts pg_catalog first in the session's search path, and its temporary schema last,
// keeping the schemas it lists in between, for the statements of schemagate's own on a session that runs
// migrations (the deploy's work session between them): there the search path the database or the role
// gives new sessions (an earlier migration's ALTER DATABASE ... SET search_path = public, pg_catalog)
// has a public.pg_constraint stand in for pg_catalog's, and a CREATE TEMP TABLE pg_index does as well
// when the path does not list pg_temp (the session searches it first). The application's relations
// named unqualified (to_regclass('t')) resolve as they did, and what the server deparses reads as it
// did, but for an object named like a pg_catalog one. It is set at the session's level, every call of
// its own qualified (it runs under the path it replaces), and keeps the path it replaced for
// UnpinCatalogPathSQL; RESET ALL puts the session's back.
const PinCatalogPathSQL = `SELECT pg_catalog.set_config('schemagate.own_path', pg_catalog.current_setting('search_path'), false),
  pg_catalog.set_config('search_path', pg_catalog.regexp_replace(pg_catalog.concat('pg_catalog, ',
    pg_catalog.btrim(pg_catalog.regexp_replace(pg_catalog.current_setting('search_path'), '(^|,)\s*"?pg_temp(_[0-9]+)?"?\s*(?=,|$)', '', 'g'), ', '),
    ', pg_temp'), ',\s*,', ',', 'g'), false)`

// UnpinCatalogPathSQL puts back, for the transaction it runs in, the search path PinCatalogPathSQL
// replaced: the application's SQL that schemagate runs on a pinned session, in a transaction it then
// rolls back (the deploy's checks, a sqitch verify script), runs under the session's own path, and the
// pinned one comes back with the rollback. On a session PinCatalogPathSQL did not pin it changes nothing.
const UnpinCatalogPathSQL = `SELECT pg_catalog.set_config('search_path', coalesce(nullif(pg_catalog.current_setting('schemagate.own_path', true), ''),
  pg_catalog.current_setting('search_path')), true)`
