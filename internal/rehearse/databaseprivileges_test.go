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

// TestDatabasePrivilegesRoundTrip: the round trip compares the database's privileges (GRANT ... ON
// DATABASE, here by name through format and current_database(), as a migration must: the database is
// named otherwise in each place), its comment and connection limit, and the privileges on
// configuration parameters (GRANT SET ON PARAMETER). Ups that granted, commented or limited them with a
// down that did nothing passed; they fail, in a transactional round trip and on the database's copy. A
// down that revokes and resets them passes, and a generated down puts them back, verified.
func TestDatabasePrivilegesRoundTrip(t *testing.T) {
	const (
		grant   = "DO $$ BEGIN EXECUTE format('GRANT CONNECT, CREATE, TEMPORARY ON DATABASE %I TO app_rw', current_database()); END $$;"
		param   = "GRANT SET ON PARAMETER work_mem TO app_rw;"
		comment = "DO $$ BEGIN EXECUTE format('COMMENT ON DATABASE %I IS %L', current_database(), 'orders db'); END $$;"
		limit   = "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I CONNECTION LIMIT 50', current_database()); END $$;"
		all     = grant + "\n" + param + "\n" + comment + "\n" + limit
		undo    = "DO $$ BEGIN EXECUTE format('REVOKE CONNECT, CREATE, TEMPORARY ON DATABASE %I FROM app_rw', current_database()); END $$;\n" +
			"REVOKE SET ON PARAMETER work_mem FROM app_rw;\n" +
			"DO $$ BEGIN EXECUTE format('COMMENT ON DATABASE %I IS NULL', current_database()); END $$;\n" +
			"DO $$ BEGIN EXECUTE format('ALTER DATABASE %I CONNECTION LIMIT -1', current_database()); END $$;"
		base  = "-- migrate:up\nCREATE ROLE app_rw;\nCREATE TABLE t (a int);\n-- migrate:down\nDROP TABLE t;\nDROP ROLE app_rw;\n"
		later = "-- migrate:up\nCREATE TABLE later (a int);\n-- migrate:down\nDROP TABLE later;\n"
		// kept fails unless the database has what all gave it: after a failed round trip on the
		// database's copy, the copy in its place must have it too.
		kept = "DO $$ BEGIN IF NOT has_database_privilege('app_rw', current_database(), 'CREATE') OR " +
			"(SELECT datconnlimit FROM pg_database WHERE datname = current_database()) <> 50 THEN RAISE EXCEPTION 'lost'; END IF; END $$;\n"
	)
	tests := []struct {
		name, up string
		generate bool
		check    bool     // the later migration checks that the database has what all gave it (kept)
		want     []string // the round trip's problems, none for a round trip that passes
	}{
		{name: "granted, the down does nothing", up: "-- migrate:up\n" + grant + "\n-- migrate:down\nSELECT 1;\n",
			want: []string{"privilege CONNECT on the database to app_rw is left behind by the down",
				"privilege CREATE on the database to app_rw is left behind by the down",
				"privilege TEMPORARY on the database to app_rw is left behind by the down"}},
		{name: "all outside a transaction, the down does nothing",
			up: "-- migrate:up transaction:false\n" + all + "\n-- migrate:down transaction:false\nSELECT 1;\n", check: true,
			want: []string{"privilege CREATE on the database to app_rw is left behind by the down",
				"privilege SET on parameter work_mem to app_rw is left behind by the down",
				`the database's comment is "orders db" after the down, was none`,
				"the database's connection limit is 50 after the down, was none"}},
		{name: "a parameter, the down does nothing", up: "-- migrate:up\n" + param + "\n-- migrate:down\nSELECT 1;\n",
			want: []string{"privilege SET on parameter work_mem to app_rw is left behind by the down"}},
		{name: "commented, the down does nothing", up: "-- migrate:up\n" + comment + "\n-- migrate:down\nSELECT 1;\n",
			want: []string{`the database's comment is "orders db" after the down, was none`}},
		{name: "limited, the down does nothing", up: "-- migrate:up\n" + limit + "\n-- migrate:down\nSELECT 1;\n",
			want: []string{"the database's connection limit is 50 after the down, was none"}},
		{name: "all, the down undoes them", up: "-- migrate:up\n" + all + "\n-- migrate:down\n" + undo + "\n", check: true},
		{name: "all, no down, one generated", up: "-- migrate:up\n" + all + "\n-- migrate:down\n", generate: true},
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
			if m.Status != report.StatusApplied || m.Roundtrip == nil {
				t.Fatalf("2: %s %+v", m.Status, m.Error)
			}
			switch {
			case tc.generate:
				gd := m.GeneratedDown
				if gd == nil || !gd.Verified || !strings.Contains(gd.SQL, "current_database()") ||
					!strings.Contains(gd.SQL, "REVOKE SET ON PARAMETER work_mem FROM app_rw") || !strings.Contains(gd.SQL, "CONNECTION LIMIT -1") {
					t.Errorf("generated down: %+v; want one verified that revokes and resets them in current_database()", gd)
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
				t.Errorf("3: %s; want applied, round trip ok", l.Status)
				if l.Roundtrip != nil {
					t.Logf("3's round trip: %q", l.Roundtrip.Problems)
				}
			}
		})
	}
}
