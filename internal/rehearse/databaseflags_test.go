package rehearse_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
)

// TestDatabaseFlagsRoundTrip: the round trip compares the database's IS_TEMPLATE (ALTER DATABASE ...
// IS_TEMPLATE true, by name through format and current_database(), as a migration must). An up that
// made the database a template with a down that did nothing passed; it fails, naming IS_TEMPLATE, in a
// transactional round trip and on the database's copy (which takes IS_TEMPLATE, and is put in the
// database's place: the template is made an ordinary database to be dropped). A down that undoes it
// passes, in a transaction and on the copy (dropped as a template cannot be), and a generated down puts
// it back, verified. ALTER DATABASE ... ALLOW_CONNECTIONS false cannot be rehearsed: PostgreSQL refuses
// it in the database it names, which is where a migration runs, so the up fails with its error.
func TestDatabaseFlagsRoundTrip(t *testing.T) {
	const (
		template   = "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I IS_TEMPLATE true', current_database()); END $$;"
		undo       = "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I IS_TEMPLATE false', current_database()); END $$;"
		disallow   = "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I ALLOW_CONNECTIONS false', current_database()); END $$;"
		base       = "-- migrate:up\nCREATE TABLE t (a int);\n-- migrate:down\nDROP TABLE t;\n"
		later      = "-- migrate:up\nCREATE TABLE later (a int);\n-- migrate:down\nDROP TABLE later;\n"
		isTemplate = "the database's IS_TEMPLATE is true after the down, was false"
		// kept fails unless the database is a template: after a failed round trip on the database's
		// copy, the copy in its place must be one too.
		kept = "DO $$ BEGIN IF NOT (SELECT datistemplate FROM pg_database WHERE datname = current_database()) THEN RAISE EXCEPTION 'lost'; END IF; END $$;\n"
	)
	tests := []struct {
		name, up string
		generate bool
		check    bool     // the later migration checks that the database is a template (kept)
		want     []string // the round trip's problems, none for a round trip that passes
		upError  string   // the up fails with this error
	}{
		{name: "template, the down does nothing", up: "-- migrate:up\n" + template + "\n-- migrate:down\nSELECT 1;\n", check: true,
			want: []string{isTemplate}},
		{name: "template outside a transaction, the down does nothing",
			up: "-- migrate:up transaction:false\n" + template + "\n-- migrate:down transaction:false\nSELECT 1;\n", check: true,
			want: []string{isTemplate}},
		{name: "template, the down undoes it", up: "-- migrate:up\n" + template + "\n-- migrate:down\n" + undo + "\n", check: true},
		{name: "template outside a transaction, the down undoes it",
			up: "-- migrate:up transaction:false\n" + template + "\n-- migrate:down transaction:false\n" + undo + "\n", check: true},
		{name: "template, no down, one generated", up: "-- migrate:up\n" + template + "\n-- migrate:down\n", generate: true, check: true},
		{name: "connections disallowed", up: "-- migrate:up\n" + disallow + "\n-- migrate:down\nSELECT 1;\n",
			upError: "cannot disallow connections for current database"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := later
			if tc.check {
				l = strings.Replace(later, "CREATE TABLE later", kept+"CREATE TABLE later", 1)
			}
			fs := folderOf(t, migrate.FormatDbmate, map[string]string{"1_base.sql": base, "2_database.sql": tc.up, "3_later.sql": l})
			rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: fs, Base: &migrate.Set{Format: fs.Format, Migrations: fs.Migrations[:1]},
				Provider: provider(t), GenerateDown: tc.generate})
			if err != nil {
				t.Fatal(err)
			}
			m := migration(t, rep, "2")
			if tc.upError != "" {
				if m.Status != report.StatusFailed || m.Error == nil || !strings.Contains(m.Error.Message, tc.upError) {
					t.Errorf("2: %s %+v; want failed with %q", m.Status, m.Error, tc.upError)
				}
				return
			}
			if m.Status != report.StatusApplied || m.Roundtrip == nil {
				t.Fatalf("2: %s %+v", m.Status, m.Error)
			}
			switch {
			case tc.generate:
				gd := m.GeneratedDown
				if gd == nil || !gd.Verified || !strings.Contains(gd.SQL, "current_database()") || !strings.Contains(gd.SQL, "IS_TEMPLATE false") {
					t.Errorf("generated down: %+v; want one verified that sets IS_TEMPLATE false in current_database()", gd)
				}
			case len(tc.want) == 0:
				if m.Roundtrip.Status != report.RoundtripOK {
					t.Errorf("round trip %s: %q; want ok", m.Roundtrip.Status, m.Roundtrip.Problems)
				}
			default:
				if m.Roundtrip.Status != report.RoundtripFailed {
					t.Errorf("round trip %s: %q; want failed", m.Roundtrip.Status, m.Roundtrip.Problems)
				}
				for _, w := range tc.want {
					if !slices.Contains(m.Roundtrip.Problems, w) {
						t.Errorf("round trip problems %q; want one saying %q", m.Roundtrip.Problems, w)
					}
				}
			}
			if l := migration(t, rep, "3"); l.Status != report.StatusApplied || l.Roundtrip == nil || l.Roundtrip.Status != report.RoundtripOK {
				t.Errorf("3: %s %+v; want applied, round trip ok", l.Status, l.Error)
				if l.Roundtrip != nil {
					t.Logf("3's round trip: %q", l.Roundtrip.Problems)
				}
			}
		})
	}
}
