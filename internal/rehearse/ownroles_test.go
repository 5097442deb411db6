package rehearse

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/sandbox"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// sgRoles lists the server's roles whose names start with sg_.
func sgRoles(t *testing.T, admin *pgx.Conn) []string {
	t.Helper()
	rows, _ := admin.Query(t.Context(), `SELECT rolname FROM pg_roles WHERE rolname LIKE 'sg\_%' ORDER BY 1`)
	roles, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return roles
}

// TestSharedServerDropsOnlyItsOwnRoles: on a shared server (url provider), a role someone else makes
// under a name the migrations create, while the run goes on and before the migration's own CREATE
// ROLE (which then fails), is not the run's: it survives the run. The roles the run made itself (a
// setup script, a history migration, a new migration in a transaction and one without, whose round
// trip on a copy drops and makes it again) are all dropped as it ends.
func TestSharedServerDropsOnlyItsOwnRoles(t *testing.T) {
	inst, admin := sharedServer(t, "SELECT 1")
	const setupSQL = "CREATE ROLE sg_setup;\n"
	setup := []*migrate.Script{{File: "setup.sql", SQL: setupSQL, Statements: sqlparse.Parse(setupSQL)}}
	set, err := migrate.Read(fstest.MapFS{
		"00001_hist.sql":  {Data: []byte("-- +goose Up\nCREATE ROLE sg_hist;\n-- +goose Down\nDROP ROLE sg_hist;\n")},
		"00002_tx.sql":    {Data: []byte("-- +goose Up\nCREATE ROLE sg_tx;\nCREATE TABLE a (id int);\nALTER TABLE a OWNER TO sg_tx;\n-- +goose Down\nDROP TABLE a;\nDROP ROLE sg_tx;\n")},
		"00003_notx.sql":  {Data: []byte("-- +goose NO TRANSACTION\n-- +goose Up\nCREATE ROLE sg_notx;\n-- +goose Down\nDROP ROLE sg_notx;\n")},
		"00004_taken.sql": {Data: []byte("-- +goose Up\nCREATE TABLE b (id int);\nCREATE ROLE sg_taken;\n-- +goose Down\nDROP ROLE sg_taken;\nDROP TABLE b;\n")},
	}, migrate.FormatGoose)
	if err != nil {
		t.Fatal(err)
	}
	base := &migrate.Set{Format: set.Format, Migrations: set.Migrations[:1]}
	var progress []string
	rep, err := Run(t.Context(), Options{Set: set, Base: base, Setup: setup, Provider: sandbox.NewURL(sandbox.Options{DatabaseURL: inst.AdminURL}),
		NoTrace: true, Progress: func(f string, a ...any) {
			msg := fmt.Sprintf(f, a...)
			progress = append(progress, msg)
			// Someone else makes sg_taken on the server as the run reaches the migration that creates it.
			if strings.HasPrefix(msg, "[") && strings.HasSuffix(msg, " 4_taken") {
				if _, err := admin.Exec(t.Context(), "CREATE ROLE sg_taken"); err != nil {
					t.Error(err)
				}
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, m := range rep.Migrations {
		rt := ""
		if m.Roundtrip != nil {
			rt = string(m.Roundtrip.Status)
		}
		statuses = append(statuses, m.Version+" "+string(m.Status)+" "+rt)
	}
	if want := []string{"1 " + string(report.StatusBase) + " ", "2 " + string(report.StatusApplied) + " " + string(report.RoundtripOK),
		"3 " + string(report.StatusApplied) + " " + string(report.RoundtripOK), "4 " + string(report.StatusFailed) + " " + string(report.RoundtripSkipped)}; !slices.Equal(statuses, want) {
		t.Fatalf("migrations %q, want %q\n%s", statuses, want, strings.Join(progress, "\n"))
	}
	if e := rep.Migrations[3].Error; e == nil || !strings.Contains(e.Message, "already exists") {
		t.Errorf("migration 4 fails with %+v, want its CREATE ROLE sg_taken to find the role there", e)
	}
	if left, want := sgRoles(t, admin), []string{"sg_taken"}; !slices.Equal(left, want) {
		t.Errorf("roles left %v, want %v (someone else's)\n%s", left, want, strings.Join(progress, "\n"))
	}
}

// TestMadeRoles: the roles scripts leave created, in order, and up to where one failed in autocommit.
func TestMadeRoles(t *testing.T) {
	script := func(file, sql string) *migrate.Script {
		return &migrate.Script{File: file, SQL: sql, Statements: sqlparse.Parse(sql)}
	}
	a := script("a.sql", "CREATE ROLE r1;\nCREATE USER r2;\nCREATE ROLE r3;\nALTER ROLE r3 RENAME TO r4;\nDROP ROLE r1;")
	b := script("b.sql", "CREATE GROUP r5;\nCREATE ROLE r6;")
	tests := []struct {
		name    string
		scripts []*migrate.Script
		stop    *stopAt
		want    []string
	}{
		{name: "all", scripts: []*migrate.Script{a, b}, want: []string{"r2", "r4", "r5", "r6"}},
		{name: "renamed before it was made", scripts: []*migrate.Script{script("c.sql", "ALTER ROLE r0 RENAME TO r9;")}, want: nil},
		{name: "failed at the rename", scripts: []*migrate.Script{a, b}, stop: &stopAt{"a.sql", 4, 1}, want: []string{"r1", "r2", "r3"}},
		{name: "failed inside the second statement", scripts: []*migrate.Script{a, b}, stop: &stopAt{"a.sql", 2, 8}, want: []string{"r1"}},
		{name: "failed in the second script", scripts: []*migrate.Script{a, b}, stop: &stopAt{"b.sql", 2, 1}, want: []string{"r2", "r4", "r5"}},
		{name: "failed nobody knows where", scripts: []*migrate.Script{a, b}, stop: &stopAt{}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := madeRoles(tt.scripts, tt.stop); !slices.Equal(got, tt.want) {
				t.Errorf("madeRoles = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSharedServerRecordsRolesAsTheyAreMade: on a shared server (url provider), a role that a statement
// run in autocommit made is recorded right after that statement, not once its script is over: a
// non-transactional migration that makes one and then fails, the run canceled (or killed) during it
// (a new migration, traced or not, one of the history, a setup script, a down in the round trip on a
// copy of a non-transactional migration), or its session ended by the
// watchdog (so that the run could no longer read the role on it), leaves none behind: Close drops it.
func TestSharedServerRecordsRolesAsTheyAreMade(t *testing.T) {
	const stubborn = "DO $$ BEGIN FOR i IN 1..200 LOOP BEGIN PERFORM pg_sleep(100); EXCEPTION WHEN query_canceled THEN NULL; END; END LOOP; END $$;"
	for _, tt := range []struct {
		name, up string
		limit    time.Duration // the statement timeout (default 10 minutes)
		cancel   bool          // the run, once pg_sleep(60) runs
		trace    bool
		tx       bool   // the first migration runs in a transaction
		second   string // the second migration's up, run outside a transaction
		history  bool   // the migrations are history
		setup    bool   // the up is a setup script
		down     string // the first migration's down, run in its round trip (on a copy)
	}{
		{name: "fails", up: "CREATE ROLE sg_made;\nCREATE TABLE a (id int);\nSELECT 1/0;"},
		{name: "session ended", up: "CREATE ROLE sg_made;\n" + stubborn, limit: time.Second},
		{name: "canceled", up: "CREATE ROLE sg_made;\nSELECT pg_sleep(60);", cancel: true},
		{name: "canceled, traced", up: "CREATE ROLE sg_made;\nSELECT pg_sleep(60);", cancel: true, trace: true},
		// A batch of the history commits the first, the second is alone.
		{name: "canceled in the history", up: "CREATE ROLE sg_made;", tx: true, second: "SELECT pg_sleep(60);", cancel: true, history: true},
		{name: "canceled in a setup script", up: "CREATE ROLE sg_made;\nSELECT pg_sleep(60);", cancel: true, setup: true},
		{name: "canceled in a round trip", up: "CREATE TABLE a (id int);", down: "CREATE ROLE sg_made;\nSELECT pg_sleep(60);", cancel: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			inst, admin := sharedServer(t, "SELECT 1")
			up := tt.up
			var setup []*migrate.Script
			if tt.setup {
				setup = []*migrate.Script{{File: "setup.sql", SQL: up, Statements: sqlparse.Parse(up)}}
				up = "SELECT 1;"
			}
			first := "-- +goose NO TRANSACTION\n"
			if tt.tx {
				first = ""
			}
			if tt.second == "" {
				tt.second = "CREATE TABLE b (id int);"
			}
			down := tt.down
			if down == "" {
				down = "SELECT 1;"
			}
			set, err := migrate.Read(fstest.MapFS{
				"00001_a.sql": {Data: []byte(first + "-- +goose Up\n" + up + "\n-- +goose Down\n" + down + "\n")},
				"00002_b.sql": {Data: []byte("-- +goose NO TRANSACTION\n-- +goose Up\n" + tt.second + "\n-- +goose Down\nSELECT 1;\n")},
			}, migrate.FormatGoose)
			if err != nil {
				t.Fatal(err)
			}
			var base *migrate.Set
			if tt.history {
				base = set
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			runCtx, cancelRun := context.WithCancel(ctx)
			defer cancelRun()
			canceled := make(chan error, 1)
			if tt.cancel {
				go func() {
					// The CREATE ROLE before it is done.
					err := waitForStatement(ctx, admin, "pg_sleep(60)")
					cancelRun()
					canceled <- err
				}()
			}
			rep, err := Run(runCtx, Options{Set: set, Base: base, Setup: setup, Provider: sandbox.NewURL(sandbox.Options{DatabaseURL: inst.AdminURL}),
				StatementTimeout: tt.limit, NoTrace: !tt.trace, NoRoundtrip: tt.down == ""})
			switch {
			case tt.cancel:
				if werr := <-canceled; werr != nil {
					t.Fatalf("wait for the statement: %v (run: %v)", werr, err)
				}
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("run: %v, want it canceled", err)
				}
			case err != nil:
				t.Fatal(err)
			case rep.Migrations[0].Status != report.StatusFailed:
				t.Fatalf("1: %s, want failed", rep.Migrations[0].Status)
			}
			if left := sgRoles(t, admin); len(left) > 0 {
				t.Errorf("roles left %v, want none", left)
			}
		})
	}
}

// waitForStatement waits until a backend of conn's server runs a statement that contains text.
func waitForStatement(ctx context.Context, conn *pgx.Conn, text string) error {
	for {
		var running bool
		err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_stat_activity WHERE state = 'active'
			AND pid <> pg_backend_pid() AND strpos(query, $1) > 0)`, text).Scan(&running)
		if err != nil || running {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
