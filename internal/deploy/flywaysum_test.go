package deploy

import (
	"errors"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
)

// TestDeployFlywayEditsJudgedByFlywaysChecksum: the deploy takes an applied Flyway migration for the same
// when Flyway's validate does, by Flyway's checksum (migrate.FlywayChecksum): an empty line inserted in
// its up is no drift; blank space added at the end of its last line, which changes Flyway's checksum
// and which Flyway's validate refuses, is.
func TestDeployFlywayEditsJudgedByFlywaysChecksum(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	files := map[string]string{"V1__fa.sql": "CREATE TABLE fa (id int);\nINSERT INTO fa VALUES (1);\n"}
	if res, err := Run(t.Context(), tg.options(t, readFolder(t, files, migrate.FormatFlyway), "run-1")); err != nil || statuses(res) != "1:applied" {
		t.Fatalf("first deploy: err %v, migrations %s", err, statuses(res))
	}
	blank := map[string]string{"V1__fa.sql": "CREATE TABLE fa (id int);\n\nINSERT INTO fa VALUES (1);\n"}
	res, err := Run(t.Context(), tg.options(t, readFolder(t, blank, migrate.FormatFlyway), "run-2"))
	if err != nil || len(res.Drift) != 0 || res.Outcome != OutcomeNothing {
		t.Errorf("empty line inserted: err %v, drift %q, outcome %s; want up to date, as Flyway's validate sees it", err, res.Drift, res.Outcome)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "not its up script as Flyway's checksum reads it") {
		t.Errorf("notes %q say nothing of the changed file", res.Notes)
	}
	spaces := map[string]string{"V1__fa.sql": "CREATE TABLE fa (id int);\nINSERT INTO fa VALUES (1);   \n"}
	res, err = Run(t.Context(), tg.options(t, readFolder(t, spaces, migrate.FormatFlyway), "run-3"))
	var b *Blocked
	if !errors.As(err, &b) || !strings.Contains(strings.Join(res.Drift, "\n"), "1_fa (V1__fa.sql) changed after it was applied") {
		t.Errorf("trailing spaces on the last line: err %v, drift %q; want drift, as Flyway's validate refuses its checksum", err, res.Drift)
	}
}
