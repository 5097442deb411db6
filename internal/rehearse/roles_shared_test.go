package rehearse

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/sandbox"
)

// TestSharedServerComparesOnlyOwnRoles: on a shared server (url provider) another session creates,
// drops and changes roles while the run goes on. The round trip compares only the roles the scripts
// create, and their memberships: a down that undoes its own role changes passes, whatever the others
// did (to a role the migration grants its own role to, too), and a down that forgets one still fails
// for it alone.
func TestSharedServerComparesOnlyOwnRoles(t *testing.T) {
	inst, admin := sharedServer(t, "CREATE ROLE sg_bystander LOGIN; CREATE ROLE sg_gone; CREATE ROLE sg_granted; CREATE ROLE sg_other_member")
	fsys := fstest.MapFS{
		"1_own.up.sql":      {Data: []byte("CREATE ROLE sg_own;\nCREATE TABLE a (id int);")},
		"1_own.down.sql":    {Data: []byte("DROP TABLE a;\nDROP ROLE sg_own;")},
		"2_alter.up.sql":    {Data: []byte("ALTER ROLE sg_own CONNECTION LIMIT 3;\nGRANT sg_own TO sg_bystander;")},
		"2_alter.down.sql":  {Data: []byte("REVOKE sg_own FROM sg_bystander;\nALTER ROLE sg_own CONNECTION LIMIT -1;")},
		"3_forget.up.sql":   {Data: []byte("ALTER ROLE sg_own SET work_mem = '8MB';")},
		"3_forget.down.sql": {Data: []byte("SELECT 1;")},
	}
	set, err := migrate.Read(fsys, migrate.FormatGolangMigrate)
	if err != nil {
		t.Fatal(err)
	}
	// The other session acts as each migration starts: after the catalog the migration starts from
	// was read, before its up, down and re-up are compared with it.
	n := 0
	progress := func(format string, args ...any) {
		if !strings.HasPrefix(format, "[%d/%d]") {
			return
		}
		n++
		var sql string
		switch n {
		case 2:
			sql = "CREATE ROLE sg_other LOGIN; DROP ROLE sg_gone; ALTER ROLE sg_bystander CONNECTION LIMIT 7 NOLOGIN; GRANT sg_granted TO sg_other_member"
		case 3:
			sql = "ALTER ROLE sg_other SET work_mem = '1MB'; COMMENT ON ROLE sg_bystander IS 'changed'; REVOKE sg_granted FROM sg_other_member"
		default:
			return
		}
		if _, err := admin.Exec(t.Context(), sql); err != nil {
			t.Errorf("the other session: %v", err)
		}
	}
	rep, err := Run(t.Context(), Options{Set: set, Provider: sandbox.NewURL(sandbox.Options{DatabaseURL: inst.AdminURL}), NoTrace: true,
		Progress: progress})
	if err != nil {
		t.Fatal(err)
	}
	if n < 3 {
		t.Fatalf("the other session acted %d times, want 3: the progress messages changed", n)
	}
	byVersion := map[string]report.Migration{}
	for _, m := range rep.Migrations {
		byVersion[m.Version] = m
	}
	for _, v := range []string{"1", "2"} {
		if m := byVersion[v]; m.Status != report.StatusApplied || m.Roundtrip == nil || m.Roundtrip.Status != report.RoundtripOK {
			t.Errorf("%s: %s %+v, round trip %+v; want applied, round trip ok", v, m.Status, m.Error, m.Roundtrip)
		}
	}
	m := byVersion["3"]
	if m.Roundtrip == nil || strings.Join(m.Roundtrip.Problems, "\n") != "role sg_own's setting work_mem is 8MB after the down, was not set" {
		t.Errorf("3: round trip %+v; want failed for sg_own's setting alone", m.Roundtrip)
	}
}
