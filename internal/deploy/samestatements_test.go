package deploy

import (
	"errors"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
)

// TestDeployCommentEditIsNoDrift: for a golang-migrate, goose or dbmate folder, whose tool records no
// checksum, an applied migration whose up changed only in its comments and blank space runs the same
// statements (the statements' checksum history records is the same): no drift, a note. An edit of a
// statement, or of a "comment" inside a string literal, is drift; so is a comment edit against history
// an earlier release wrote, which holds no statements' checksum, and the drift says why.
func TestDeployCommentEditIsNoDrift(t *testing.T) {
	t.Parallel()
	const up = "-- the tabel of notes\nCREATE TABLE notes (id int, body text DEFAULT '-- none');\n"
	for _, tc := range []struct {
		format migrate.Format
		files  func(up string) map[string]string
	}{
		{migrate.FormatGolangMigrate, func(up string) map[string]string {
			return map[string]string{"1_notes.up.sql": up, "1_notes.down.sql": "DROP TABLE notes;\n"}
		}},
		{migrate.FormatGoose, func(up string) map[string]string {
			return map[string]string{"00001_notes.sql": "-- +goose Up\n" + up + "\n-- +goose Down\nDROP TABLE notes;\n"}
		}},
		{migrate.FormatDbmate, func(up string) map[string]string {
			return map[string]string{"20240101000000_notes.sql": "-- migrate:up\n" + up + "\n-- migrate:down\nDROP TABLE notes;\n"}
		}},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			if res, err := Run(t.Context(), tg.options(t, readFolder(t, tc.files(up), tc.format), "run-1")); err != nil || !strings.HasSuffix(statuses(res), ":applied") {
				t.Fatalf("first deploy: err %v, migrations %s", err, statuses(res))
			}
			if got := tg.value(t, "SELECT count(*) FROM schemagate.schemagate_history WHERE statements_checksum IS NULL"); got != "0" {
				t.Errorf("%s history rows without the statements' checksum", got)
			}
			comment := strings.Replace(strings.Replace(up, "tabel", "table", 1), "(id int, ", "(\n\tid int, -- key\n\t", 1)
			res, err := Run(t.Context(), tg.options(t, readFolder(t, tc.files(comment), tc.format), "run-2"))
			if err != nil || len(res.Drift) != 0 || res.Outcome != OutcomeNothing {
				t.Errorf("comment edited: err %v, drift %q, outcome %s; want up to date", err, res.Drift, res.Outcome)
			}
			if !strings.Contains(strings.Join(res.Notes, "\n"), "but not the statements its up runs (only comments or blank space; "+string(tc.format)+" records no checksum") {
				t.Errorf("notes %q say nothing of the edited comment", res.Notes)
			}
			var b *Blocked
			for _, edit := range []string{strings.Replace(up, "body text", "body varchar", 1), strings.Replace(up, "'-- none'", "'-- nothing'", 1)} {
				res, err = Run(t.Context(), tg.options(t, readFolder(t, tc.files(edit), tc.format), "run-3"))
				if !errors.As(err, &b) || !strings.Contains(strings.Join(res.Drift, "\n"), "changed after it was applied: its up script differs") {
					t.Errorf("statement edited: err %v, drift %q; want blocked", err, res.Drift)
				}
			}
			// History of an earlier release: no statements' checksum.
			tg.exec(t, "ALTER TABLE schemagate.schemagate_history DROP COLUMN statements_checksum")
			res, err = Run(t.Context(), tg.options(t, readFolder(t, tc.files(comment), tc.format), "run-4"))
			if !errors.As(err, &b) || !strings.Contains(strings.Join(res.Drift, "\n"), "cannot tell an edit of its comments from one of its statements") {
				t.Errorf("old history, comment edited: err %v, drift %q; want blocked, saying why", err, res.Drift)
			}
			if got := tg.value(t, "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'schemagate' AND table_name = 'schemagate_history' AND column_name = 'statements_checksum'"); got != "1" {
				t.Errorf("the deploy did not add statements_checksum to an earlier release's history table")
			}
		})
	}
}
