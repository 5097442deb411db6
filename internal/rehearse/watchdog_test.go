package rehearse_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/pgtest"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/sandbox"
)

// TestWatchdogOutlivesTerminate: a migration that ends every other session (the watchdog's among them)
// and then sleeps is still canceled at the limit: the watchdog connects again. When the migration keeps
// ending sessions so that it cannot, the statement is canceled anyway and the migration failed saying
// why. Without the watchdog either would run until the context's deadline.
func TestWatchdogOutlivesTerminate(t *testing.T) {
	const kill = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'"
	for _, tt := range []struct {
		name, up string
		format   migrate.Format
		line     int
		want     []string // the error message has one of these
	}{
		{name: "once, then a sleep", up: kill + ";\nSELECT pg_sleep(60);", line: 2, want: []string{"longer than 1s"}},
		{name: "in a loop", up: "CREATE TABLE a (id int);\nDO $$BEGIN LOOP PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'; PERFORM pg_sleep(0.002); END LOOP; END$$;",
			line: 2, want: []string{"watchdog's session was ended", "longer than 1s"}},
		{name: "no way back in", format: migrate.FormatGoose, up: "-- +goose NO TRANSACTION\n-- +goose Up\n" +
			"DO $$BEGIN EXECUTE format('ALTER ROLE %I NOLOGIN', current_user); END$$;\n" + kill + ";\nSELECT pg_sleep(60);\n-- +goose Down\nSELECT 1;\n",
			line: 5, want: []string{"watchdog's session was ended and it could not connect again"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"1_kill.up.sql": tt.up, "1_kill.down.sql": "SELECT 1;"}
			if tt.format == migrate.FormatGoose {
				files = map[string]string{"00001_kill.sql": tt.up}
			} else {
				tt.format = migrate.FormatGolangMigrate
			}
			set := folderOf(t, tt.format, files)
			ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
			defer cancel()
			start := time.Now()
			rep, err := rehearse.Run(ctx, rehearse.Options{Set: set, Provider: provider(t), StatementTimeout: time.Second, NoTrace: true, NoRoundtrip: true})
			if err != nil {
				t.Fatalf("after %s: %v", time.Since(start).Round(time.Second), err)
			}
			if took := time.Since(start); took > 20*time.Second {
				t.Errorf("the run took %s with a 1s limit", took.Round(time.Second))
			}
			m := migration(t, rep, "1")
			if m.Status != report.StatusFailed || m.Error == nil || m.Error.SQLState != "57014" || m.Error.Line != tt.line {
				t.Fatalf("1: %s %+v; want failed at line %d with SQLSTATE 57014", m.Status, m.Error, tt.line)
			}
			t.Logf("1 failed: %s (hint: %s)", m.Error.Message, m.Error.Hint)
			found := false
			for _, w := range tt.want {
				found = found || strings.Contains(m.Error.Message, w)
			}
			if !found {
				t.Errorf("message %q, want one of %q", m.Error.Message, tt.want)
			}
		})
	}
}

// TestWatchdogEndsASessionThatIgnoresCancel: a statement that catches its cancellation and goes on (a
// loop around pg_sleep with EXCEPTION WHEN query_canceled) has its session ended once the limit and a
// grace period have passed; the run stops saying why instead of holding the job.
func TestWatchdogEndsASessionThatIgnoresCancel(t *testing.T) {
	set := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_stubborn.up.sql":   "DO $$ BEGIN FOR i IN 1..200 LOOP BEGIN PERFORM pg_sleep(100); EXCEPTION WHEN query_canceled THEN NULL; END; END LOOP; END $$;",
		"1_stubborn.down.sql": "SELECT 1;",
	})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var progress strings.Builder
	var mu sync.Mutex
	rep, err := rehearse.Run(ctx, rehearse.Options{Set: set, Provider: provider(t), StatementTimeout: time.Second, NoTrace: true, NoRoundtrip: true,
		Progress: func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(&progress, format+"\n", args...)
		}})
	if err != nil || ctx.Err() != nil {
		t.Fatalf("error %v (context: %v)", err, ctx.Err())
	}
	if m := migration(t, rep, "1"); m.Status != report.StatusFailed || m.Error == nil || !strings.Contains(m.Error.Message, "went on after its cancellation") {
		t.Errorf("1: %s %+v; want failed, its session ended", m.Status, m.Error)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(progress.String(), "its session is ended: DO $$") {
		t.Errorf("progress says nothing of it:\n%s", progress.String())
	}
}

// TestCanceledStatementSaidOnce: the watchdog says once that it canceled a statement, in the up, the
// round trip's down and its re-up, also when the statement is still active at its next look. Here the
// statement catches its first cancellation and sleeps on, so the next look cancels it again (which ends
// it); each look used to say "canceled after" once more.
func TestCanceledStatementSaidOnce(t *testing.T) {
	const stubborn = "DO $$ BEGIN PERFORM pg_sleep(60); EXCEPTION WHEN query_canceled THEN PERFORM pg_sleep(60); END $$;"
	for _, tt := range []struct {
		name, up, down, phase string
	}{
		{name: "up", up: "CREATE TABLE a (id int);\n" + stubborn, down: "DROP TABLE a;", phase: "up at db/1_a.up.sql:2"},
		{name: "down", up: "CREATE TABLE a (id int);", down: stubborn + "\nDROP TABLE a;", phase: "down at db/1_a.down.sql:1"},
		// The down leaves a table b, which makes the re-up (not the up) sleep.
		{name: "re-up", up: "CREATE TABLE a (id int);\nDO $$ BEGIN IF to_regclass('b') IS NOT NULL THEN PERFORM pg_sleep(60); END IF; " +
			"EXCEPTION WHEN query_canceled THEN PERFORM pg_sleep(60); END $$;",
			down: "DROP TABLE a;\nCREATE TABLE b ();", phase: "re-up at db/1_a.up.sql:2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			set := folderOf(t, migrate.FormatGolangMigrate, map[string]string{"1_a.up.sql": tt.up, "1_a.down.sql": tt.down})
			ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
			defer cancel()
			var log progressLog
			if _, err := rehearse.Run(ctx, rehearse.Options{Set: set, Provider: provider(t), Dir: "db", StatementTimeout: time.Second,
				NoTrace: true, Progress: log.add}); err != nil {
				t.Fatal(err)
			}
			out := log.String()
			var said []string
			for _, l := range strings.Split(out, "\n") {
				if strings.Contains(l, ": canceled after ") && strings.Contains(l, "(statement timeout 1s)") { // not the FAILED line
					said = append(said, l)
				}
			}
			if len(said) != 1 || !strings.HasPrefix(said[0], "  "+tt.phase+": canceled after ") {
				t.Errorf("want one line \"  %s: canceled after …\", got %d:\n%s", tt.phase, len(said), out)
			}
		})
	}
}

// TestWatchdogReconnectOutwaitsConnectTimeout: the watchdog gives a server slow to take its new
// connection its own 5 s, whatever the URL's connect_timeout says. With connect_timeout=1 a server
// frozen for a few seconds (its postmaster stopped) just as the watchdog lost its session used to count
// as three lost connections: the watchdog gave up and canceled the migration's statement once the
// server answered again, and the migration failed. The run now goes on and the migration applies.
func TestWatchdogReconnectOutwaitsConnectTimeout(t *testing.T) {
	server, err := sandbox.NewLocal(sandbox.Options{}).Start(t.Context())
	if err != nil {
		pgtest.Unavailable(t, "local PostgreSQL: %v", err)
	}
	t.Cleanup(func() { server.Close(context.Background()) })
	u, err := url.Parse(server.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("connect_timeout", "1")
	u.RawQuery = q.Encode()
	b, err := os.ReadFile(filepath.Join(q.Get("host"), "data", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	postmaster, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(postmaster, syscall.SIGCONT) }) // should the test stop early
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	set := folderOf(t, migrate.FormatGolangMigrate, map[string]string{
		"1_sleep.up.sql": "SELECT pg_sleep(15);", "1_sleep.down.sql": "SELECT 1;",
	})
	frozec := make(chan error, 1)
	hook := startHook{Provider: sandbox.NewURL(sandbox.Options{DatabaseURL: u.String()}), started: func(inst *sandbox.Instance) {
		go func() {
			frozec <- func() error {
				conn, err := pgx.Connect(ctx, server.AdminURL)
				if err != nil {
					return err
				}
				defer conn.Close(context.WithoutCancel(ctx))
				if _, err := backendRunningOn(ctx, conn, "pg_sleep(15)"); err != nil {
					return err
				}
				watchdog, err := backendRanOn(ctx, conn, "WITH slow AS MATERIALIZED")
				if err != nil {
					return fmt.Errorf("find the watchdog's session: %w", err)
				}
				if err := syscall.Kill(postmaster, syscall.SIGSTOP); err != nil {
					return err
				}
				defer syscall.Kill(postmaster, syscall.SIGCONT)
				// Its backend ends at once: a signal from this session, no postmaster needed.
				if _, err := conn.Exec(ctx, "SELECT pg_terminate_backend($1)", watchdog); err != nil {
					return err
				}
				time.Sleep(6 * time.Second)
				return nil
			}()
		}()
	}}
	rep, err := rehearse.Run(ctx, rehearse.Options{Set: set, Provider: hook, NoTrace: true, NoRoundtrip: true})
	if ferr := <-frozec; ferr != nil {
		t.Fatalf("freeze the server: %v (run: %v)", ferr, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if m := migration(t, rep, "1"); m.Status != report.StatusApplied {
		t.Errorf("1: %s %+v, want applied", m.Status, m.Error)
	}
}

// backendRanOn waits until a backend of the server that conn is on has run a statement that contains
// text (it may have ended), and returns its pid.
func backendRanOn(ctx context.Context, conn *pgx.Conn, text string) (int, error) {
	return backendWith(ctx, conn, `SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND strpos(query, $1) > 0`, text)
}
