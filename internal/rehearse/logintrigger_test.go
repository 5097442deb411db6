package rehearse_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
)

// TestLoginEventTriggerThatRefuses: on PostgreSQL 17 a migration may create an event trigger ON login
// whose function raises: every later session of the database is refused (FATAL). The rehearsal, which
// opens new sessions after a migration, failed as the tool ("connect to throwaway database", exit 1)
// naming no migration; the migration fails, saying that its login event trigger refuses new sessions.
func TestLoginEventTriggerThatRefuses(t *testing.T) {
	files := map[string]string{
		"00001_ok.sql": `-- +goose Up
CREATE TABLE a (id int);
-- +goose Down
DROP TABLE a;
`,
		"00002_closed.sql": `-- +goose NO TRANSACTION
-- +goose Up
CREATE FUNCTION refuse() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'logins closed'; END$$;
CREATE EVENT TRIGGER no_login ON login EXECUTE FUNCTION refuse();
-- +goose Down
DROP EVENT TRIGGER no_login;
DROP FUNCTION refuse();
`,
		"00003_later.sql": `-- +goose Up
CREATE TABLE c (id int);
-- +goose Down
DROP TABLE c;
`,
	}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatGoose, files), Provider: dockerProvider(t, 17)})
	if err != nil {
		t.Fatalf("the rehearsal failed as the tool: %v", err)
	}
	if m := migration(t, rep, "1"); m.Status != report.StatusApplied {
		t.Errorf("1: %s %+v", m.Status, m.Error)
	}
	m := migration(t, rep, "2")
	if m.Status != report.StatusFailed || m.Error == nil || !strings.Contains(m.Error.Message, "login event trigger") ||
		!strings.Contains(m.Error.Message, "refuses new sessions") || !strings.Contains(m.Error.Message, "logins closed") || m.Error.Line != 4 || m.Error.File != "00002_closed.sql" {
		t.Errorf("2: %s %+v; want failed at 00002_closed.sql:4 saying its login event trigger refuses new sessions (logins closed)", m.Status, m.Error)
	}
	if m := migration(t, rep, "3"); m.Status == report.StatusApplied {
		t.Errorf("3 was applied after the database refused new sessions")
	}
	if rep.OK {
		t.Error("report ok")
	}
}

// TestLoginEventTriggerOfAnEarlierMigration: a migration that creates the trigger in a transaction
// kept the rehearsal's session, and the next one that needed a new session (a non-transactional
// migration's tracer) was refused in its place. The rehearsal tries a new session after it: it fails at
// its statement, and the later migration is not run.
func TestLoginEventTriggerOfAnEarlierMigration(t *testing.T) {
	files := map[string]string{
		"00001_closed.sql": `-- +goose Up
CREATE FUNCTION refuse() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'logins closed'; END$$;
CREATE EVENT TRIGGER no_login ON login EXECUTE FUNCTION refuse();
-- +goose Down
DROP EVENT TRIGGER no_login;
DROP FUNCTION refuse();
`,
		"00002_later.sql": `-- +goose NO TRANSACTION
-- +goose Up
CREATE TABLE c (id int);
-- +goose Down
DROP TABLE c;
`,
	}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatGoose, files), Provider: dockerProvider(t, 17)})
	if err != nil {
		t.Fatalf("the rehearsal failed as the tool: %v", err)
	}
	m := migration(t, rep, "1")
	if m.Status != report.StatusFailed || m.Error == nil || !strings.Contains(m.Error.Message, "its login event trigger no_login refuses new sessions") ||
		m.Error.File != "00001_closed.sql" || m.Error.Line != 3 {
		t.Errorf("1: %s %+v; want failed at 00001_closed.sql:3 saying its login event trigger refuses new sessions", m.Status, m.Error)
	}
	if m := migration(t, rep, "2"); m.Status != report.StatusNotRun || m.Error != nil {
		t.Errorf("2: %s %+v; want not run, with no error of its own", m.Status, m.Error)
	}
}

// TestLoginEventTriggerTriedAfterTheMigration: after each migration that may create or enable an event
// trigger ON login (by its statement, by SQL a DO block builds, by ALTER EVENT TRIGGER ... ENABLE), the
// rehearsal tries a new session, and a refusal fails that migration at that statement, the last one
// too, which passed (exit 0) when nothing after it needed a new session. So do the down and the re-up of
// its round trip, each run in a session of its own with the database's copy standing by, which is put
// back: the run goes on. A trigger that lets the rehearsal in fails nothing.
func TestLoginEventTriggerTriedAfterTheMigration(t *testing.T) {
	const refuse = `CREATE FUNCTION refuse() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'logins closed'; END$$;
`
	// closedBy refuses while the table flags holds a true row: data the round trip does not compare.
	const closedBy = `CREATE TABLE flags (closed bool);
CREATE FUNCTION closed_by_flag() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN IF EXISTS (SELECT 1 FROM public.flags WHERE closed) THEN RAISE EXCEPTION 'closed by flag'; END IF; END$$;
`
	later := `-- +goose Up
CREATE TABLE later (id int);
-- +goose Down
DROP TABLE later;
`
	tests := []struct {
		name    string
		history string // the base's one migration
		up      string // the new migration 2 (goose), followed by migration 3, later
		// failed is where migration 2 fails ("" when it applies), with what; roundtrip is where its
		// round trip fails ("" when it passes), with what.
		failed, failedWith, roundtrip, roundtripWith string
	}{
		{
			name:    "the last migration, in a transaction",
			history: "-- +goose Up\n" + refuse + "-- +goose Down\nDROP FUNCTION refuse();\n",
			up: `-- +goose Up
CREATE TABLE a (id int);
CREATE EVENT TRIGGER no_login ON login EXECUTE FUNCTION refuse();
-- +goose Down
DROP EVENT TRIGGER no_login;
DROP TABLE a;
`,
			failed: "00002_m.sql:3:1", failedWith: "its login event trigger no_login refuses new sessions of the database (FATAL: logins closed)",
		},
		{
			name:    "built by a DO block",
			history: "-- +goose Up\n" + refuse + "-- +goose Down\nDROP FUNCTION refuse();\n",
			up: `-- +goose Up
DO $$BEGIN EXECUTE 'CREATE EVENT TRIGGER ' || quote_ident('no_login') || ' ON login EXECUTE FUNCTION refuse()'; END$$;
-- +goose Down
DROP EVENT TRIGGER no_login;
`,
			failed: "00002_m.sql:2:1", failedWith: "its login event trigger no_login refuses new sessions",
		},
		{
			name:    "enabled",
			history: "-- +goose Up\n" + refuse + "CREATE EVENT TRIGGER no_login ON login EXECUTE FUNCTION refuse();\nALTER EVENT TRIGGER no_login DISABLE;\n-- +goose Down\nDROP EVENT TRIGGER no_login;\nDROP FUNCTION refuse();\n",
			up: `-- +goose Up
ALTER EVENT TRIGGER no_login ENABLE;
-- +goose Down
ALTER EVENT TRIGGER no_login DISABLE;
`,
			failed: "00002_m.sql:2:1", failedWith: "its login event trigger no_login refuses new sessions",
		},
		{
			name:    "a trigger that lets the rehearsal in",
			history: "-- +goose Up\n" + closedBy + "-- +goose Down\nDROP FUNCTION closed_by_flag();\nDROP TABLE flags;\n",
			up: `-- +goose Up
CREATE EVENT TRIGGER flagged ON login EXECUTE FUNCTION closed_by_flag();
-- +goose Down
DROP EVENT TRIGGER flagged;
`,
		},
		{
			name:    "made again by the down",
			history: "-- +goose Up\n" + closedBy + "CREATE EVENT TRIGGER flagged ON login EXECUTE FUNCTION closed_by_flag();\n-- +goose Down\nDROP EVENT TRIGGER flagged;\nDROP FUNCTION closed_by_flag();\nDROP TABLE flags;\n",
			up: `-- +goose Up
DROP EVENT TRIGGER flagged;
INSERT INTO flags VALUES (true);
-- +goose Down
CREATE EVENT TRIGGER flagged ON login EXECUTE FUNCTION closed_by_flag();
`,
			roundtrip: "00002_m.sql:5:1", roundtripWith: "the down's login event trigger flagged refuses new sessions of the database (FATAL: closed by flag)",
		},
		{
			name:    "made again by the re-up",
			history: "-- +goose Up\n" + closedBy + "-- +goose Down\nDROP FUNCTION closed_by_flag();\nDROP TABLE flags;\n",
			up: `-- +goose NO TRANSACTION
-- +goose Up
CREATE EVENT TRIGGER flagged ON login EXECUTE FUNCTION closed_by_flag();
-- +goose Down
DROP EVENT TRIGGER flagged;
INSERT INTO flags VALUES (true);
`,
			roundtrip: "00002_m.sql:3:1", roundtripWith: "run again after the down, the up's login event trigger flagged refuses new sessions",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := folderOf(t, migrate.FormatGoose, map[string]string{"00001_h.sql": tc.history, "00002_m.sql": tc.up, "00003_later.sql": later})
			base := &migrate.Set{Format: set.Format, Migrations: set.Migrations[:1]}
			rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: set, Base: base, Provider: dockerProvider(t, 17)})
			if err != nil {
				t.Fatalf("the rehearsal failed as the tool: %v", err)
			}
			m := migration(t, rep, "2")
			at := func(e *report.SQLError) string {
				if e == nil {
					return ""
				}
				return fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Column)
			}
			switch {
			case tc.failed != "":
				if m.Status != report.StatusFailed || at(m.Error) != tc.failed || !strings.Contains(m.Error.Message, tc.failedWith) || m.Error.Hint == "" {
					t.Errorf("2: %s %+v; want failed at %s saying %q, with a hint", m.Status, m.Error, tc.failed, tc.failedWith)
				}
				if l := migration(t, rep, "3"); l.Status != report.StatusNotRun {
					t.Errorf("3: %s after a migration whose trigger refuses new sessions; want not run", l.Status)
				}
			case m.Status != report.StatusApplied:
				t.Fatalf("2: %s %+v; want applied", m.Status, m.Error)
			case tc.roundtrip != "":
				rt := m.Roundtrip
				if rt == nil || rt.Status != report.RoundtripFailed || at(rt.Error) != tc.roundtrip || len(rt.Problems) != 1 ||
					!strings.Contains(rt.Problems[0], tc.roundtripWith) {
					t.Errorf("2's round trip: %+v; want failed at %s saying %q", rt, tc.roundtrip, tc.roundtripWith)
				}
				// The database's copy is back, which lets new sessions in: the run went on.
				if l := migration(t, rep, "3"); l.Status != report.StatusApplied || l.Roundtrip == nil || l.Roundtrip.Status != report.RoundtripOK {
					t.Errorf("3: %s %+v; want applied, round trip ok, after the database's copy was put back", l.Status, l.Error)
				}
			default:
				if m.Roundtrip == nil || m.Roundtrip.Status != report.RoundtripOK {
					t.Errorf("2's round trip: %+v; want ok", m.Roundtrip)
				}
				if l := migration(t, rep, "3"); l.Status != report.StatusApplied {
					t.Errorf("3: %s %+v; want applied", l.Status, l.Error)
				}
				if !rep.OK {
					t.Error("report not ok")
				}
			}
		})
	}
}
