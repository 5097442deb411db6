package pg

import (
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/schema"
)

// TestCatalogDifferenceNamesWhatOnlyGotHas: a kind the expected catalog has none of is left out of its
// JSON, and what the other has of it is named as extra, not "relation names differ" (a reviewer's
// verify failure read so when an incremental read kept a built-in privilege a whole read no longer had).
func TestCatalogDifferenceNamesWhatOnlyGotHas(t *testing.T) {
	want, got := schema.NewCatalog(), schema.NewCatalog()
	p := &schema.BuiltInPrivilege{Object: "function pg_catalog.pg_stat_reset()", On: "ROUTINE pg_catalog.pg_stat_reset()",
		Grantee: "r1", Privilege: "EXECUTE", Held: "granted"}
	got.BuiltInPrivileges[p.Key()] = p
	d := catalogDifference(want, got)
	if !strings.Contains(d, "built_in_privileges "+p.Key()+" should not be there") {
		t.Errorf("difference %q, want it to name the extra built-in privilege", d)
	}
	if d := catalogDifference(got, want); !strings.Contains(d, "built_in_privileges "+p.Key()+" missing") {
		t.Errorf("difference the other way %q, want it to name the missing built-in privilege", d)
	}
}
