package rehearse_test

import (
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/report"
)

// TestFlywayEditJudgedByFlywaysChecksum: check --base tells an applied Flyway script that was edited
// from one that was not as Flyway's validate does, by Flyway's checksum (migrate.FlywayChecksum): an
// empty line inserted leaves it applied as it is, no edit; blank space added at the end of its last
// line changes the checksum, and Flyway's validate refuses it, so it is an edited applied migration.
func TestFlywayEditJudgedByFlywaysChecksum(t *testing.T) {
	unsetFlywayEnv(t)
	const applied = "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n"
	for _, tc := range []struct {
		name, now string
		edited    bool
		says      string // what the edit finding says of Flyway
	}{
		{"empty line inserted", "CREATE TABLE a (id int);\n\nINSERT INTO a VALUES (1);\n", false, ""},
		{"trailing spaces on the last line", "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);   \n", true,
			"schemagate deploy (like Flyway's validate) refuses the changed checksum"},
		{"CRLF", "CREATE TABLE a (id int);\r\nINSERT INTO a VALUES (1);\r\n", false, ""},
		// The same bytes but for the break: Flyway's checksum is the applied one, the statements are not.
		{"a line split in two", "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1)\n;\n", true,
			"schemagate deploy refuses it, though Flyway's validate takes it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := folderOf(t, migrate.FormatFlyway, map[string]string{"V1__a.sql": applied})
			cur := folderOf(t, migrate.FormatFlyway, map[string]string{"V1__a.sql": tc.now, "V2__b.sql": "CREATE TABLE b (id int);\n"})
			got := marked(cur, base)["1"]
			var edits []string
			for _, f := range got.Findings {
				if f.Rule == "edited-applied-migration" {
					edits = append(edits, f.Message)
				}
			}
			switch {
			case tc.edited && (len(edits) != 1 || !strings.Contains(edits[0], tc.says) || got.Status != report.StatusFailed):
				t.Errorf("V1: %s, findings %+v; want failed, one edited-applied-migration finding saying %q", got.Status, got.Findings, tc.says)
			case !tc.edited && (len(got.Findings) != 0 || got.Status == report.StatusFailed):
				t.Errorf("V1: %s, findings %+v; want no finding: Flyway's checksum is the applied one", got.Status, got.Findings)
			}
		})
	}
}
