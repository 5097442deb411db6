package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/report"
)

// TestCheckTextPlacesErrorsWithoutALine: an error that no statement raised (a new session refused after
// the migration, a connection lost before a script ran) has a file and no line: the text output and the
// Markdown report place it at the file, not at "file:0:0", and a problem with a line but no column at
// file:line.
func TestCheckTextPlacesErrorsWithoutALine(t *testing.T) {
	rep := &report.Report{OK: false, Migrations: []report.Migration{{Version: "2", Name: "login", New: true, Status: report.StatusApplied,
		File: "db/0002_login.up.sql",
		Roundtrip: &report.Roundtrip{Status: report.RoundtripFailed,
			Problems: []string{"index i is left behind by the down", "the down fails: its login event trigger refuses new sessions"},
			Places:   []report.ProblemPlace{{Problem: 0, File: "db/0002_login.down.sql", Line: 3}},
			Error:    &report.SQLError{Message: "its login event trigger refuses new sessions", File: "db/0002_login.down.sql", Phase: "down"}}}}}
	var b bytes.Buffer
	writeCheckText(&b, rep, "")
	md := report.Markdown(rep, report.MarkdownOptions{})
	for name, out := range map[string]string{"text": b.String(), "Markdown": md} {
		if strings.Contains(out, ":0") {
			t.Errorf("the %s output places something at line or column 0:\n%s", name, out)
		}
		for _, want := range []string{"db/0002_login.down.sql:3", "db/0002_login.down.sql"} {
			if !strings.Contains(out, want) {
				t.Errorf("the %s output lacks %q:\n%s", name, want, out)
			}
		}
	}
}
