package deploy

import (
	"testing"

	"github.com/schemagate/schemagate/internal/sqlparse"
)

// TestConcurrentIndexTarget: the deploy looks for the INVALID index a failed concurrent build leaves
// only after the statements that build concurrently, as PostgreSQL reads their options.
func TestConcurrentIndexTarget(t *testing.T) {
	for sql, want := range map[string]string{
		"CREATE INDEX CONCURRENTLY i ON app.t (a)":    `"app"."t"`,
		"CREATE INDEX i ON t (a)":                     "",
		"REINDEX TABLE CONCURRENTLY t":                `"t"`,
		"REINDEX (CONCURRENTLY) INDEX i":              `"i"`,
		"REINDEX (CONCURRENTLY true) TABLE t":         `"t"`,
		"REINDEX (CONCURRENTLY false) TABLE t":        "",
		"REINDEX (CONCURRENTLY off, VERBOSE) TABLE t": "",
		"REINDEX TABLE t":                             "",
	} {
		sts := sqlparse.Parse(sql)
		if len(sts) != 1 || sts[0].Node == nil {
			t.Fatalf("%s: did not parse", sql)
		}
		if got, _ := concurrentIndexTarget(sts[0].Node); got != want {
			t.Errorf("%s: target %q, want %q", sql, got, want)
		}
	}
}
