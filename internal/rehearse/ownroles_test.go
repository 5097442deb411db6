package rehearse

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

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
		"3 " + string(report.StatusApplied) + " " + string(report.RoundtripOK), "4 " + string(report.StatusFailed) + " "}; !slices.Equal(statuses, want) {
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
