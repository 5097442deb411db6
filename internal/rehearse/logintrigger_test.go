package rehearse_test

import (
	"context"
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
// keeps the rehearsal's session; the next one that needs a new session (a non-transactional migration's
// copy for its round trip) is refused. The migration that created it fails at its statement, and the
// one refused says whose trigger refused it.
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
	m = migration(t, rep, "2")
	if m.Status != report.StatusFailed || m.Error == nil || !strings.Contains(m.Error.Message, "the database's login event trigger no_login") ||
		!strings.Contains(m.Error.Message, "1_closed created it") {
		t.Errorf("2: %s %+v; want failed naming the database's login event trigger and 1_closed", m.Status, m.Error)
	}
}
