package migrate

import (
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/sqlparse"
)

// TestPsqlUnsupportedHints: each refused meta-command's hint says what psql does with it: \gexec runs a
// query's result as statements, \gset stores it in psql variables.
func TestPsqlUnsupportedHints(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, want, not string }{
		{"gexec", "\\gexec runs what a query returns as statements", ""},
		{"gset", "\\gset stores a query's result in psql variables", "runs what a query returns"},
	} {
		hint, bad := psqlUnsupported(sqlparse.PsqlCommand{Name: c.name})
		if !bad || !strings.HasPrefix(hint, c.want) || c.not != "" && strings.Contains(hint, c.not) {
			t.Errorf("\\%s: %v %q, want refused with a hint starting %q", c.name, bad, hint, c.want)
		}
	}
}
