package schema

import (
	"slices"
	"strings"
	"testing"
)

// TestRoleSentences: what differs of roles and memberships reads as one sentence each, in words a
// reviewer knows from ALTER ROLE and GRANT.
func TestRoleSentences(t *testing.T) {
	before, after := NewCatalog(), NewCatalog()
	before.Roles["app"] = &Role{OID: 20000, Name: "app", Login: true, Inherit: true, ConnectionLimit: -1, Password: "none",
		Settings: []string{"search_path=app, public"}}
	before.Roles["gone"] = &Role{OID: 20001, Name: "gone", Inherit: true, ConnectionLimit: -1}
	before.Memberships["app in reader"] = &Membership{Role: "reader", Member: "app", Inherit: "true", Set: "true"}
	after.Roles["app"] = &Role{OID: 20000, Name: "app", Inherit: true, ConnectionLimit: 5, ValidUntil: "2030-01-01 00:00:00+00",
		Password: "set", DatabaseSettings: []string{"work_mem=8MB"}, Comment: "the app"}
	after.Roles["renamed"] = &Role{OID: 20001, Name: "renamed", Inherit: true, ConnectionLimit: -1}
	after.Memberships["app in reader"] = &Membership{Role: "reader", Member: "app", Admin: true, Inherit: "false", Set: "true"}
	after.Memberships["app in renamed"] = &Membership{Role: "renamed", Member: "app"}
	got := Describe(Compare(before, after), DownPhrasing)
	want := []string{
		"membership of app in renamed is left behind by the down",
		"role app is NOLOGIN after the down, was LOGIN",
		"role app has CONNECTION LIMIT 5 after the down, was none",
		"role app has VALID UNTIL 2030-01-01 00:00:00+00 after the down, was none",
		"role app has a password after the down, had no password",
		"role app's setting work_mem in this database is 8MB after the down, was not set",
		"role app has comment \"the app\" after the down, was none",
		"role app's setting search_path is not set after the down, was app, public",
		"role gone is named renamed after the down",
		"membership of app in reader is WITH ADMIN OPTION after the down, was without ADMIN OPTION",
		"membership of app in reader is without INHERIT after the down, was WITH INHERIT",
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, strings.Join(got, "\n"))
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d sentences, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
}

// TestRolesFilter: Ignore.Roles keeps only the roles it names and their memberships; nil keeps all.
func TestRolesFilter(t *testing.T) {
	c := NewCatalog()
	for _, n := range []string{"own", "other", "third"} {
		c.Roles[n] = &Role{Name: n}
	}
	c.Memberships["other in own"] = &Membership{Role: "own", Member: "other"}
	c.Memberships["third in other"] = &Membership{Role: "other", Member: "third"}
	c.Filter(Ignore{Roles: []string{"own"}})
	if len(c.Roles) != 1 || c.Roles["own"] == nil || len(c.Memberships) != 1 || c.Memberships["other in own"] == nil {
		t.Errorf("kept roles %v, memberships %v", c.Roles, c.Memberships)
	}
	all := NewCatalog()
	all.Roles["x"] = &Role{Name: "x"}
	if all.Filter(DefaultIgnore); len(all.Roles) != 1 {
		t.Error("the default ignore list left a role out")
	}
}
