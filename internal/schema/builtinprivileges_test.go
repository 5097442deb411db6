package schema

import (
	"slices"
	"strings"
	"testing"
)

// TestBuiltInPrivilegeSentences: a catalog lists a privilege on a built-in object only where it differs
// from the initial one, so a privilege one catalog lists and the other does not is, in the other, as it
// was initially: granted by the up and left (extra), revoked by the up and not given back (missing),
// given back by the down (no difference), or held with another grant option. The generated down puts
// each back.
func TestBuiltInPrivilegeSentences(t *testing.T) {
	fn := func(grantee, held, initially string) *BuiltInPrivilege {
		return &BuiltInPrivilege{Object: "function pg_catalog.pg_stat_reset()", On: "ROUTINE pg_catalog.pg_stat_reset()",
			Grantee: grantee, Privilege: "EXECUTE", Held: held, Initially: initially}
	}
	view := &BuiltInPrivilege{Object: "view pg_catalog.pg_stat_activity", On: "TABLE pg_catalog.pg_stat_activity",
		Privilege: "SELECT", Initially: "granted"}
	lang := &BuiltInPrivilege{Object: "language plpgsql", On: "LANGUAGE plpgsql", Privilege: "USAGE", Initially: "granted"}
	before, after := NewCatalog(), NewCatalog()
	before.User, after.User = "postgres", "postgres"
	for _, p := range []*BuiltInPrivilege{fn("r2", "granted", ""), lang} {
		before.BuiltInPrivileges[p.Key()] = p
	}
	for _, p := range []*BuiltInPrivilege{fn("r1", "granted", ""), fn("r2", "granted with grant option", ""), view} {
		after.BuiltInPrivileges[p.Key()] = p
	}
	got := Describe(Compare(before, after), DownPhrasing)
	want := []string{
		"privilege EXECUTE on function pg_catalog.pg_stat_reset() to r1 is left behind by the down",
		"privilege USAGE on language plpgsql to PUBLIC is left behind by the down",
		"privilege SELECT on view pg_catalog.pg_stat_activity to PUBLIC is not restored by the down",
		"privilege EXECUTE on function pg_catalog.pg_stat_reset() to r2 is held with grant option after the down, was without grant option",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	down := GenerateDown(before, after).Statements()
	for _, s := range []string{
		"REVOKE EXECUTE ON ROUTINE pg_catalog.pg_stat_reset() FROM r1",
		"REVOKE GRANT OPTION FOR EXECUTE ON ROUTINE pg_catalog.pg_stat_reset() FROM r2",
		"REVOKE USAGE ON LANGUAGE plpgsql FROM PUBLIC",
		"GRANT SELECT ON TABLE pg_catalog.pg_stat_activity TO PUBLIC",
	} {
		if !slices.Contains(down, s) {
			t.Errorf("generated down lacks %s:\n%s", s, strings.Join(down, "\n"))
		}
	}
	if d := Compare(after, after); !d.Empty() {
		t.Errorf("a catalog differs from itself: %+v", d)
	}
}
