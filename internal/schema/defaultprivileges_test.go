package schema

import (
	"slices"
	"strings"
	"testing"
)

// TestDefaultPrivilegesSentences: the database-wide default privileges compare role by role and kind by
// kind, an entry that comes or goes reads as a change from or to the built-in defaults, and one that
// grants nothing reads "none"; in the words of the phrasing of each comparison.
func TestDefaultPrivilegesSentences(t *testing.T) {
	before, after := NewCatalog(), NewCatalog()
	before.DefaultPrivileges = "app: functions: app=X/app\napp: tables: app=arwdDxt/app,reader=r/app\nowner: sequences: owner=rwU/owner"
	after.DefaultPrivileges = "app: tables: app=arwdDxt/app,reader=rw/app\nowner: sequences: owner=rwU/owner\nowner: tables: "
	got := Describe(Compare(before, after), DownPhrasing)
	want := []string{
		"the database-wide default privileges of role app on tables are app=arwdDxt/app,reader=rw/app after the down, were app=arwdDxt/app,reader=r/app",
		"the database-wide default privileges of role owner on tables are none after the down, were the built-in defaults",
		"the database-wide default privileges of role app on functions are the built-in defaults after the down, were app=X/app",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("sentences:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	got = Describe(Compare(after, before), ReUpPhrasing)
	if w := "the database-wide default privileges of role app on functions are app=X/app after re-up, were the built-in defaults"; !slices.Contains(got, w) {
		t.Errorf("missing %q in:\n%s", w, strings.Join(got, "\n"))
	}
	if d := Compare(before, before); !d.Empty() {
		t.Errorf("a catalog differs from itself: %+v", d)
	}
}

// TestDefaultPrivilegesDown: a generated down gives every role and kind the up changed its database-wide
// default privileges back, and names only what the up changed: each grantee loses what the up gave it
// and gets back what the up took; where the up made an entry (or took one away), the built-in defaults
// read as the entry that gives the role what the other side gives it (every privilege of the kind) and
// PUBLIC EXECUTE or USAGE on functions and types.
func TestDefaultPrivilegesDown(t *testing.T) {
	before, after := NewCatalog(), NewCatalog()
	before.DefaultPrivileges = "app: tables: app=arwdDxt/app,reader=r/app\napp: types: app=U/app\nowner: schemas: owner=UC/owner"
	after.DefaultPrivileges = "app: functions: app=X/app\napp: tables: app=arwdDxt/app,\"read er\"=r*w/app\nowner: schemas: "
	got := GenerateDown(before, after).Statements()
	want := []string{
		"ALTER DEFAULT PRIVILEGES FOR ROLE app GRANT EXECUTE ON FUNCTIONS TO PUBLIC",
		`ALTER DEFAULT PRIVILEGES FOR ROLE app REVOKE SELECT, UPDATE ON TABLES FROM "read er"`,
		"ALTER DEFAULT PRIVILEGES FOR ROLE app GRANT SELECT ON TABLES TO reader",
		"ALTER DEFAULT PRIVILEGES FOR ROLE app REVOKE USAGE ON TYPES FROM PUBLIC",
		"ALTER DEFAULT PRIVILEGES FOR ROLE owner GRANT USAGE, CREATE ON SCHEMAS TO owner",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("down:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A role's own privileges that are not every privilege of the kind on some version: revoked
	// all and given back whole.
	before.DefaultPrivileges = ""
	after.DefaultPrivileges = "app: tables: app=arwxt/app"
	got = GenerateDown(before, after).Statements()
	want = []string{
		"ALTER DEFAULT PRIVILEGES FOR ROLE app REVOKE ALL ON TABLES FROM app",
		"ALTER DEFAULT PRIVILEGES FOR ROLE app GRANT ALL ON TABLES TO app",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("down:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDefaultPrivilegesFollowRoleRename: a role the up renamed has its database-wide default privileges
// under the new name; the down renames it back, and that alone gives them back.
func TestDefaultPrivilegesFollowRoleRename(t *testing.T) {
	before, after := NewCatalog(), NewCatalog()
	before.Roles["app"] = &Role{OID: 20000, Name: "app", Inherit: true, ConnectionLimit: -1}
	after.Roles["app2"] = &Role{OID: 20000, Name: "app2", Inherit: true, ConnectionLimit: -1}
	before.DefaultPrivileges = "app: tables: app=arwdDxt/app,reader=r/app"
	after.DefaultPrivileges = "app2: tables: app2=arwdDxt/app2,reader=r/app2"
	got := GenerateDown(before, after).Statements()
	if want := []string{"ALTER ROLE app2 RENAME TO app"}; !slices.Equal(got, want) {
		t.Errorf("down:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
