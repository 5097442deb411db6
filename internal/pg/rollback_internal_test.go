package pg

import (
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestRollbackEndsABlockWhoseLimitCanceledIt: a transaction block that set a short statement_timeout
// for itself (a migration's SET LOCAL statement_timeout = '1ms') has its ROLLBACK run under it, and a
// busy machine that holds the server past the limit cancels the ROLLBACK, leaving the block open and
// aborted: the rehearsal's next session reset failed there with 25P02 (once in hundreds of runs of
// TestMigrationsStatementTimeoutSparesTheCatalogReads under load; a bare COMMIT under the limit, 1 in
// 9,000 under a load of 11 on two cores). A ROLLBACK behind a comment of 16 MB, which takes the server
// longer than 1 ms to read, is canceled that way every time, on any machine: the first block shows it,
// and Rollback, given that statement, must still end the second.
func TestRollbackEndsABlockWhoseLimitCanceledIt(t *testing.T) {
	ctx := t.Context()
	conn := pgtest.Conn(t)
	slow := "/* " + strings.Repeat("x", 16<<20) + " */ ROLLBACK"
	limited := func() {
		t.Helper()
		for _, sql := range []string{"BEGIN", "CREATE TEMP TABLE t (id int)", "SET LOCAL statement_timeout = '1ms'"} {
			if err := execSimple(ctx, conn, sql); err != nil {
				t.Fatalf("%s: %v", sql, err)
			}
		}
	}
	limited()
	var pe *pgconn.PgError
	if err := execSimple(ctx, conn, slow); !errors.As(err, &pe) || pe.Code != "57014" || conn.PgConn().TxStatus() != 'E' {
		t.Fatalf("the slow ROLLBACK alone under the block's limit: %v, status %c; want it canceled (57014), the block open and aborted", err, conn.PgConn().TxStatus())
	}
	if err := execSimple(ctx, conn, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	limited()
	if err := rollbackWith(ctx, conn, slow); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if s := conn.PgConn().TxStatus(); s != 'I' {
		t.Fatalf("status %c after Rollback; want no block open", s)
	}
	// What the block did is undone, and the session takes statements again (its reset failed with 25P02).
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_class WHERE relname = 't' AND relpersistence = 't'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("temporary table t: %d (%v); want it rolled back", n, err)
	}
	if err := Reset(ctx, conn); err != nil {
		t.Fatal(err)
	}
}
