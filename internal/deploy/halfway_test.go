package deploy

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
)

// halfwayFiles is a goose folder whose migration 2 runs outside a transaction and sleeps between its
// two CREATE TABLEs: a run killed there leaves it half applied (nt1 created, nt2 not).
var halfwayFiles = map[string]string{
	"00001_customers.sql": "-- +goose Up\nCREATE TABLE customers (id bigint PRIMARY KEY);\n-- +goose Down\nDROP TABLE customers;\n",
	"00002_nt.sql":        "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE TABLE nt1 (id int);\nSELECT pg_sleep(60);\nCREATE TABLE nt2 (id int);\n-- +goose Down\nDROP TABLE nt2;\nDROP TABLE nt1;\n",
}

// TestDeployKilledHalfwayWithoutSnapshotResolvedByHand: a run killed inside a non-transactional
// migration, with no snapshot to restore, left it half applied. --recover cannot undo it; it used to
// fail the same way for ever, whatever a person did, and said neither how far the migration got nor how
// to get out. It now names the statement under way (file:line), those that completed and those that did
// not start, and the two ways out: --recover --keep-applied once the person finished the migration,
// --recover --undone VERSION once they undid it. Each records history as the deploy would have.
func TestDeployKilledHalfwayWithoutSnapshotResolvedByHand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		byHand  string // what the person does to the database
		flags   func(*Options)
		history string
		outcome string
		byHandS string // in Recovered.ByHand
	}{
		{"finished by hand", "CREATE TABLE nt2 (id int)", func(o *Options) { o.KeepApplied = true },
			"1:applied 2:applied", OutcomeNothing, "2_nt finished by hand (--keep-applied)"},
		{"undone by hand", "DROP TABLE nt1", func(o *Options) { o.Undone = "2" },
			"1:rolled-back 2:rolled-back 1:applied 2:applied", OutcomeDeployed, "2_nt undone by hand (--undone 2)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			dir := t.TempDir()
			writeFolder(t, dir, halfwayFiles)
			startAndKill(t, tg.url, dir, []string{"SCHEMAGATE_TEST_FORMAT=goose"})
			if got := tg.historyOf(t); got != "1:applied 2:running" {
				t.Fatalf("history after the kill %q: the test proves nothing", got)
			}
			set, err := migrate.Read(os.DirFS(dir), migrate.FormatGoose)
			if err != nil {
				t.Fatal(err)
			}

			// --recover cannot undo it: it says how far it got and what to do.
			o := tg.options(t, set, "run-recover")
			o.Recover = true
			res, err := Run(t.Context(), o)
			if err == nil || res.Recovered == nil {
				t.Fatalf("recover over a half-applied migration without a snapshot: %v, %+v", err, res.Recovered)
			}
			for _, want := range []string{
				`statement 2 of 3, "SELECT pg_sleep(60)" at 00002_nt.sql:4`,
				`completed before it: "CREATE TABLE nt1 (id int)" at 00002_nt.sql:3`,
				`not started: "CREATE TABLE nt2 (id int)" at 00002_nt.sql:5`,
			} {
				if !strings.Contains(res.Recovered.Failed, want) || !strings.Contains(res.Reason, want) {
					t.Errorf("the failure does not say %q:\nfailed %q\nreason %q", want, res.Recovered.Failed, res.Reason)
				}
			}
			for _, want := range []string{"--recover --keep-applied", "--recover --undone 2"} {
				if !strings.Contains(res.Hint, want) {
					t.Errorf("hint %q does not name %s", res.Hint, want)
				}
			}

			// The person finishes or undoes it, and says so.
			tg.exec(t, tc.byHand)
			if tc.name == "undone by hand" {
				// Migration 2 runs again: no longer sleeping (its history row is rolled back, so this is no drift).
				writeFolder(t, dir, map[string]string{"00002_nt.sql": strings.Replace(halfwayFiles["00002_nt.sql"], "SELECT pg_sleep(60)", "SELECT 1", 1)})
				if set, err = migrate.Read(os.DirFS(dir), migrate.FormatGoose); err != nil {
					t.Fatal(err)
				}
				// --undone that names a migration the run did not leave half applied changes nothing.
				o = tg.options(t, set, "run-wrong")
				o.Recover, o.Undone = true, "1"
				_, err = Run(t.Context(), o)
				var b *Blocked
				if !errors.As(err, &b) || !strings.Contains(b.Reason, "--undone 1") || !strings.Contains(b.Reason, "2 (run run-killed)") {
					t.Fatalf("--undone of a migration that is not half applied: %v", err)
				}
				if got := tg.historyOf(t); got != "1:applied 2:running" {
					t.Fatalf("history after a refused --undone %q", got)
				}
			}
			o = tg.options(t, set, "run-resolved")
			o.Recover = true
			tc.flags(&o)
			res, err = Run(t.Context(), o)
			if err != nil {
				t.Fatalf("recover, %s: %v (hint %q)", tc.name, err, res.Hint)
			}
			if res.Outcome != tc.outcome || res.Recovered == nil || res.Recovered.ByHand != tc.byHandS {
				t.Errorf("outcome %s, recovery %+v", res.Outcome, res.Recovered)
			}
			if got := tg.historyOf(t); got != tc.history {
				t.Errorf("history %q, want %q", got, tc.history)
			}
			if got := tg.value(t, "SELECT status FROM schemagate.schemagate_runs WHERE run_id = 'run-killed'"); got != "recovered" {
				t.Errorf("dead run recorded as %q", got)
			}
			if got := tg.value(t, "SELECT (to_regclass('nt1') IS NOT NULL AND to_regclass('nt2') IS NOT NULL)::text"); got != "true" {
				t.Error("nt1 and nt2 are not both there after the recovery and deploy")
			}
			if tg.maintenance(t) != "off" {
				t.Error("maintenance mode left on")
			}
			// A plain deploy now finds nothing to do.
			res, err = Run(t.Context(), tg.options(t, set, "run-after"))
			if err != nil || res.Outcome != OutcomeNothing {
				t.Errorf("deploy after the recovery: %s, %v", res.Outcome, err)
			}
		})
	}
}

// TestDeployRestoreUnrecordedBlocksNextDeploy: a rollback restored the snapshot, but recording the
// restore in history failed, so history still says applied for the migration the restore undid. The run
// used to be recorded as finished, and the next deploy then said "nothing to deploy" over a database
// that lacks the migration. The run is now recorded as restore-unrecorded: the next deploy is blocked,
// naming the migration and the fix, and --recover records the restore, then deploys the migration again.
func TestDeployRestoreUnrecordedBlocksNextDeploy(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	first := map[string]string{"1_customers.up.sql": goodMigrations["1_customers.up.sql"], "1_customers.down.sql": goodMigrations["1_customers.down.sql"]}
	if _, err := Run(t.Context(), tg.options(t, folder(t, first), "run-1")); err != nil {
		t.Fatal(err)
	}
	// Recording a restore fails (any error would do: a lock wait, a broken connection).
	tg.exec(t, "ALTER TABLE schemagate.schemagate_history ADD CONSTRAINT no_restore CHECK (status <> 'restored')")
	// 2 has no down: 3's failure rolls the run back by restoring the snapshot.
	second := with(first, map[string]string{"2_k2.up.sql": "CREATE TABLE k2 (id int);", "3_bad.up.sql": "SELECT 1/0;", "3_bad.down.sql": "SELECT 1;"})
	res, err := Run(t.Context(), tg.options(t, folder(t, second), "run-2"))
	if err == nil || res.Rollback == nil || res.Rollback.Method != "snapshot" || !strings.Contains(res.Rollback.Error, "recording it failed") {
		t.Fatalf("run 2: %v, rollback %+v", err, res.Rollback)
	}
	if got := tg.value(t, "SELECT (to_regclass('k2') IS NULL)::text"); got != "true" {
		t.Fatal("the snapshot was not restored; the test proves nothing")
	}
	if got := tg.historyOf(t); got != "1:applied 2:applied 3:failed" {
		t.Fatalf("history %q: the restore was recorded; the test proves nothing", got)
	}
	tg.exec(t, "ALTER TABLE schemagate.schemagate_history DROP CONSTRAINT no_restore")

	// The next deploy, of the folder without the failed 3, must not take 2 as applied.
	fixed := with(second, map[string]string{"3_bad.up.sql": "", "3_bad.down.sql": ""})
	res, err = Run(t.Context(), tg.options(t, folder(t, fixed), "run-3"))
	var b *Blocked
	if !errors.As(err, &b) || !strings.Contains(b.Reason, "run-2") || !strings.Contains(b.Reason, "2 as applied") ||
		!strings.Contains(b.Hint, "--recover") || !strings.Contains(b.Hint, "SET status = 'restored' WHERE id IN (") {
		t.Fatalf("deploy after an unrecorded restore: %v (outcome %s)", err, res.Outcome)
	}

	o := tg.options(t, folder(t, fixed), "run-4")
	o.Recover = true
	res, err = Run(t.Context(), o)
	if err != nil {
		t.Fatalf("recover: %v (hint %q)", err, res.Hint)
	}
	if res.Outcome != OutcomeDeployed || res.Recovered == nil || strings.Join(res.Recovered.Undone, ",") != "2" || res.Recovered.Method != "snapshot" {
		t.Errorf("outcome %s, recovery %+v", res.Outcome, res.Recovered)
	}
	if got, want := tg.historyOf(t), "1:applied 2:restored 3:failed 2:applied"; got != want {
		t.Errorf("history %q, want %q", got, want)
	}
	if got := tg.value(t, "SELECT (to_regclass('k2') IS NOT NULL)::text"); got != "true" {
		t.Error("k2 is missing after the recovery's deploy")
	}
}
