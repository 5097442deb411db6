package deploy

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// minServerVersion is the oldest PostgreSQL the deploy runs against (server_version_num): the write check
// that guards a snapshot restore reads transaction ids and snapshots with pg_current_xact_id_if_assigned,
// pg_current_snapshot, pg_snapshot_xmax, pg_snapshot_xip and pg_xact_status(xid8), all PostgreSQL 13.
const (
	minServerVersion     = 130000
	minServerVersionName = "13"
)

// ServerVersionError is a deploy refused because its database server is older than minServerVersion:
// bad input (exit 2), found before the deploy took a lock or changed anything.
type ServerVersionError struct {
	Version string // server_version, as the server reports it ("12.18")
	Num     int    // server_version_num (120018)
}

func (e *ServerVersionError) Error() string {
	return fmt.Sprintf("the database server runs PostgreSQL %s, and schemagate deploy needs PostgreSQL %s or later", e.Version, minServerVersionName)
}

// serverSupported judges a server by its server_version_num (num) and server_version (version): nil for
// PostgreSQL 13 or later, a *ServerVersionError for an older one.
func serverSupported(num int, version string) error {
	if num >= minServerVersion {
		return nil
	}
	return &ServerVersionError{Version: version, Num: num}
}

// checkServer reads the version of conn's server and refuses one the deploy cannot run against: a
// *Blocked (nothing was changed) around a *ServerVersionError, or around the error that kept it from
// reading the version.
func checkServer(ctx context.Context, conn *pgx.Conn) error {
	var num int
	var version string
	if err := conn.QueryRow(ctx, "SELECT pg_catalog.current_setting('server_version_num')::pg_catalog.int4, pg_catalog.current_setting('server_version')").Scan(&num, &version); err != nil {
		return &Blocked{Reason: "read the database server's version: " + err.Error() + "; nothing was changed",
			Hint: "check the database URL and that the server is up and reachable, then deploy again", Err: err}
	}
	if err := serverSupported(num, version); err != nil {
		return &Blocked{Reason: err.Error() + "; nothing was changed",
			Hint: "deploy to a server running PostgreSQL " + minServerVersionName + " or later (upgrade this one first)", Err: err}
	}
	return nil
}
