package rehearse_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/sandbox"
)

// TestSentinelKeepsOneConnection: while the watchdog does not watch (here the copy of the database for
// a non-transactional migration's round trip, which the test keeps waiting on a lock for 6 s), the
// sentinel asks the server every second on one connection of its own, where it used to open a new one
// each time: on a shared server (url provider) a connection a second fills the server's log and counts
// against its max_connections. The server's count of sessions started on the sentinel's database
// (template1: the local provider rehearses in postgres) says how many it opened.
func TestSentinelKeepsOneConnection(t *testing.T) {
	p := provider(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	set := folderOf(t, migrate.FormatGoose, map[string]string{
		"00001_a.sql": "-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n",
		"00002_b.sql": "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE TABLE b (id int);\n-- +goose Down\nDROP TABLE b;\n",
	})
	type counted struct {
		opened int64 // sessions started on template1 while the copy waited
		err    error
	}
	countedc := make(chan counted, 1)
	hook := startHook{Provider: p, started: func(inst *sandbox.Instance) {
		u := withDatabase(t, inst.URL, "template1")
		go func() {
			var got counted
			defer func() { countedc <- got }()
			// The copy (CREATE DATABASE ... TEMPLATE postgres) waits for the lock COMMENT ON
			// DATABASE holds until the transaction ends.
			locker, err := pgx.Connect(ctx, u)
			if err != nil {
				got.err = err
				return
			}
			defer locker.Close(context.WithoutCancel(ctx))
			watch, err := pgx.Connect(ctx, u)
			if err != nil {
				got.err = err
				return
			}
			defer watch.Close(context.WithoutCancel(ctx))
			if _, err := locker.Exec(ctx, "BEGIN; COMMENT ON DATABASE postgres IS 'held by the test'"); err != nil {
				got.err = err
				return
			}
			defer func() {
				if _, err := locker.Exec(ctx, "ROLLBACK"); err != nil && got.err == nil {
					got.err = err
				}
			}()
			sessions := func() (n int64, err error) {
				err = watch.QueryRow(ctx, "SELECT sessions FROM pg_stat_database WHERE datname = 'template1'").Scan(&n)
				return n, err
			}
			before, err := sessions()
			if err != nil {
				got.err = err
				return
			}
			for {
				var waiting bool
				err := watch.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_stat_activity WHERE state = 'active'
					AND query LIKE 'CREATE DATABASE%' AND wait_event_type = 'Lock')`).Scan(&waiting)
				if err != nil {
					got.err = err
					return
				}
				if waiting {
					break
				}
				select {
				case <-ctx.Done():
					got.err = errors.New("the copy never waited for the test's lock")
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
			select {
			case <-ctx.Done():
				got.err = ctx.Err()
				return
			case <-time.After(6 * time.Second):
			}
			after, err := sessions()
			got.opened, got.err = after-before, err
		}()
	}}
	rep, err := rehearse.Run(ctx, rehearse.Options{Set: set, Provider: hook, NoTrace: true})
	got := <-countedc
	if got.err != nil {
		t.Fatalf("hold the copy: %v (run: %v)", got.err, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if m := migration(t, rep, "2"); m.Status != report.StatusApplied || m.Roundtrip == nil || m.Roundtrip.Status != report.RoundtripOK {
		t.Fatalf("2: %s %+v, want applied with its round trip", m.Status, m.Roundtrip)
	}
	// The copy's own connection, the sentinel's as the run started, and its one during the copy.
	t.Logf("%d sessions started on template1 while the copy waited 6 s", got.opened)
	if got.opened > 3 {
		t.Errorf("%d sessions started on template1 while the copy waited 6 s, want at most 3: the sentinel connects every second", got.opened)
	}
}
