package rehearse_test

import (
	"context"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
)

// TestRoundTripSeesShellTypes: a shell type (CREATE TYPE name, not yet defined: pg_type typisdefined
// false), which a later CREATE TYPE name (INPUT = ...) fills, is compared: a down that leaves it
// dropped or commented fails its round trip, where it passed; one that makes it again passes.
func TestRoundTripSeesShellTypes(t *testing.T) {
	setup := setupScript(`CREATE TYPE sh;`)
	files := map[string]string{
		"1_drop.up.sql":      "DROP TYPE IF EXISTS sh;",
		"1_drop.down.sql":    "SELECT 1;",
		"2_exact.up.sql":     "CREATE TYPE sh2;",
		"2_exact.down.sql":   "DROP TYPE sh2;",
		"3_comment.up.sql":   "COMMENT ON TYPE sh2 IS 'later';",
		"3_comment.down.sql": "SELECT 1;",
	}
	rep, err := rehearse.Run(context.Background(), rehearse.Options{Set: folderOf(t, migrate.FormatGolangMigrate, files), Provider: provider(t),
		Setup: setup})
	if err != nil {
		t.Fatal(err)
	}
	checkRoundtrips(t, rep, []string{"2"}, map[string][]string{
		"1": {"shell type sh is not restored by the down"},
		"3": {`shell type sh2 has comment "later" after the down, was none`},
	})
}
