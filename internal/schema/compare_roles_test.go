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

// TestMembershipGrantors: from PostgreSQL 16 on a member may hold a role by several grants, one per
// grantor, each with its own options. A grant the up added beside another reads as a membership of its
// own, and the generated down revokes it, and restores another's options, GRANTED BY its grantor (a
// REVOKE without it takes back the current role's grant alone).
func TestMembershipGrantors(t *testing.T) {
	before, after := NewCatalog(), NewCatalog()
	for _, c := range []*Catalog{before, after} {
		for i, n := range []string{"g", "u", "x", "postgres"} {
			c.Roles[n] = &Role{OID: uint32(20000 + i), Name: n, Inherit: true, ConnectionLimit: -1}
		}
	}
	byPostgres := &Membership{Role: "g", Member: "u", Grantor: "postgres", RoleOID: 20000, MemberOID: 20001, GrantorOID: 20003, Inherit: "true", Set: "true"}
	before.Memberships[byPostgres.Key()] = byPostgres
	changed := *byPostgres
	changed.Inherit = "false"
	after.Memberships[changed.Key()] = &changed
	byX := &Membership{Role: "g", Member: "u", Grantor: "x", RoleOID: 20000, MemberOID: 20001, GrantorOID: 20002, Inherit: "true", Set: "true"}
	after.Memberships[byX.Key()] = byX
	if len(after.Memberships) != 2 {
		t.Fatalf("memberships %v: want one per grantor", after.Memberships)
	}
	got := Describe(Compare(before, after), DownPhrasing)
	for _, w := range []string{
		"membership of u in g granted by x is left behind by the down",
		"membership of u in g granted by postgres is without INHERIT after the down, was WITH INHERIT",
	} {
		if !slices.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, strings.Join(got, "\n"))
		}
	}
	down := GenerateDown(before, after).SQL
	for _, w := range []string{"REVOKE g FROM u GRANTED BY x;", "GRANT g TO u WITH INHERIT TRUE GRANTED BY postgres;"} {
		if !strings.Contains(down, w) {
			t.Errorf("down lacks %q:\n%s", w, down)
		}
	}
}
