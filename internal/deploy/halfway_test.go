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
		// said is the report's Recovered line: who did what (it said "1 migrations undone by hand", and
		// a note "undid 1 migrations", of the one the person undid).
		said string
	}{
		{"finished by hand", "CREATE TABLE nt2 (id int)", func(o *Options) { o.KeepApplied = true },
			"1:applied 2:applied", OutcomeNothing, "2_nt finished by hand (--keep-applied)",
			"Recovered: run run-killed: 2_nt finished by hand (--keep-applied); kept 1, 2 as applied (--keep-applied) Duration:"},
		{"undone by hand", "DROP TABLE nt1", func(o *Options) { o.Undone = "2" },
			"1:rolled-back 2:rolled-back 1:applied 2:applied", OutcomeDeployed, "2_nt undone by hand (--undone 2)",
			"Recovered: run run-killed: 2_nt undone by hand (--undone 2); rolled back 1 by its down migration, newest first Duration:"},
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
			var text strings.Builder
			if err := res.WriteText(&text); err != nil || !strings.Contains(strings.Join(strings.Fields(text.String()), " "), tc.said) || strings.Contains(text.String(), "undid") {
				t.Errorf("report (%v):\n%s\nwant it to say %q", err, text.String(), tc.said)
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

// ntFile is a goose migration that runs outside a transaction: its UPDATE commits, its ALTER fails.
const ntFile = "-- +goose NO TRANSACTION\n-- +goose Up\nUPDATE accounts SET balance = 0;\nALTER TABLE nosuch ADD COLUMN y int;\n-- +goose Down\nSELECT 1;\n"

// TestDeployNonTransactionalOwnWritesRestored: a non-transactional migration whose first statement
// commits (it zeroes every balance) and whose second fails. The check of other sessions' writes took the
// migration's own committed UPDATE for another session's, refused the snapshot restore that docs/deploy.md
// promises for a migration stopped half way, and said "nothing of this run applied" (the tester's F2).
// The statements of a non-transactional migration that may write rows now run in a transaction of their
// own whose id the deploy knows: the restore goes through, and the balances are back. (A timeout one of
// them lifts is still put back under the deploy's ceiling for the statements after it.)
func TestDeployNonTransactionalOwnWritesRestored(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	before := tg.checksums(t)
	o := tg.options(t, gooseFolder(t, map[string]string{"00001_nt.sql": strings.Replace(ntFile, "UPDATE accounts SET balance = 0;",
		"UPDATE accounts SET balance = 0;\nSELECT set_config('lock_timeout', '0', false);\nINSERT INTO app_settings VALUES ('k', 'v');\n"+
			"DO $$ BEGIN DELETE FROM orders WHERE id < 10; IF current_setting('lock_timeout') = '0' THEN RAISE EXCEPTION 'lock_timeout lifted'; END IF; END $$;", 1)}), "run-nt")
	res, err := Run(t.Context(), o)
	if err == nil {
		t.Fatal("deploy succeeded")
	}
	if res.Outcome != OutcomeRolledBack || res.Rollback == nil || res.Rollback.Method != "snapshot" || !res.Rollback.OK {
		t.Fatalf("outcome %s, rollback %+v, notes %q; want the snapshot restored", res.Outcome, res.Rollback, res.Notes)
	}
	if e := res.Migrations[0].Error; e == nil || e.Line != 7 || !strings.Contains(e.Message, "nosuch") {
		t.Errorf("error %+v; want the ALTER at line 7 to fail", e)
	}
	if after := tg.checksums(t); after != before {
		t.Errorf("database differs after restore:\n%s\n---\n%s", before, after)
	}
	if got, want := tg.historyOf(t), "1:restored"; got != want {
		t.Errorf("history %q, want %q", got, want)
	}
	if strings.Contains(strings.Join(res.Notes, "\n"), "lock_timeout") == false {
		t.Errorf("notes %q: the SET lock_timeout = 0 was not kept under the ceiling", res.Notes)
	}
}

// TestDeployHalfAppliedBlocksNextDeploy: a non-transactional migration stops half way and its snapshot
// is not restored (none configured, or other sessions wrote since). The report said "nothing of this run
// applied" although the migration's UPDATE had committed, the history row said failed, and the next
// deploy ran the migration again from its first statement. The run now records it half applied, the
// report names the statements that completed (file:line) and what to do, and the next deploy (and a dry
// run) stops until a person finishes it (--recover --keep-applied) or undoes it (--recover --undone).
func TestDeployHalfAppliedBlocksNextDeploy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		opts   func(t *testing.T, tg *target, o *Options)
		byHand string
		flags  func(*Options)
		file   string // the folder's migration for the recovery
		want   string // history after the recovery
	}{
		{name: "no snapshot, finished by hand", opts: func(_ *testing.T, _ *target, o *Options) { o.Snapshotter = nil },
			byHand: "SELECT 1", flags: func(o *Options) { o.KeepApplied = true }, file: ntFile, want: "1:applied"},
		{name: "other session wrote, undone by hand", opts: func(t *testing.T, tg *target, o *Options) {
			o.Maintenance = nil
			progress := o.Progress
			o.Progress = func(msg string) {
				progress(msg)
				if strings.HasPrefix(msg, "applying 1/1") {
					tg.exec(t, "INSERT INTO app_settings VALUES ('app', 'write')")
				}
			}
		}, byHand: "UPDATE accounts SET balance = id * 10.25", flags: func(o *Options) { o.Undone = "1" },
			file: strings.Replace(ntFile, "ALTER TABLE nosuch", "ALTER TABLE accounts", 1), want: "1:rolled-back 1:applied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			set := gooseFolder(t, map[string]string{"00001_nt.sql": ntFile})
			o := tg.options(t, set, "run-half")
			tc.opts(t, tg, &o)
			res, err := Run(t.Context(), o)
			if err == nil || res.Outcome != OutcomeFailed {
				t.Fatalf("deploy: %v, outcome %s", err, res.Outcome)
			}
			var text strings.Builder
			_ = res.WriteText(&text)
			t.Log(text.String())
			if got := tg.value(t, "SELECT sum(balance)::text FROM accounts"); got != "0.00" {
				t.Fatalf("balances sum to %s: the UPDATE did not stay; the test proves nothing", got)
			}
			update := `"UPDATE accounts SET balance = 0" at 00001_nt.sql:3`
			mr := res.Migrations[0]
			if mr.Status != StatusHalfApplied || strings.Join(mr.Completed, ",") != update {
				t.Errorf("migration %s, completed %q; want half-applied, completed %s", mr.Status, mr.Completed, update)
			}
			all := res.Hint + "\n" + strings.Join(res.Notes, "\n") + "\n" + res.Rollback.Error
			if strings.Contains(all, "nothing of this run applied") || strings.Contains(all, "nothing was lost") {
				t.Errorf("the report says nothing of the run applied:\n%s", all)
			}
			for _, want := range []string{"1_nt is half applied", update, "--recover --keep-applied", "--recover --undone 1"} {
				if !strings.Contains(res.Hint, want) {
					t.Errorf("hint %q lacks %q", res.Hint, want)
				}
			}
			if got := tg.historyOf(t); got != "1:half-applied" {
				t.Errorf("history %q", got)
			}

			// The next deploy, and a dry run, stop: running 1 again would repeat its UPDATE.
			for _, dry := range []bool{true, false} {
				o := tg.options(t, set, "run-next")
				o.DryRun = dry
				_, err := Run(t.Context(), o)
				var b *Blocked
				if !errors.As(err, &b) || !strings.Contains(b.Reason, "run-half") || !strings.Contains(b.Reason, "left 1_nt half applied") ||
					!strings.Contains(b.Reason, "completed before it: "+update) || !strings.Contains(b.Hint, "--recover --keep-applied") {
					t.Fatalf("deploy after the half-applied run (dry run %v): %v", dry, err)
				}
			}
			if got := tg.historyOf(t); got != "1:half-applied" {
				t.Errorf("history after the blocked deploy %q", got)
			}

			// A person deals with it and says so.
			tg.exec(t, tc.byHand)
			o = tg.options(t, gooseFolder(t, map[string]string{"00001_nt.sql": tc.file}), "run-recover")
			o.Recover = true
			tc.flags(&o)
			res, err = Run(t.Context(), o)
			if err != nil {
				t.Fatalf("recover: %v (hint %q)", err, res.Hint)
			}
			if got := tg.historyOf(t); got != tc.want {
				t.Errorf("history %q, want %q", got, tc.want)
			}
			if got := tg.value(t, "SELECT status FROM schemagate.schemagate_runs WHERE run_id = 'run-half'"); got != "recovered" {
				t.Errorf("half-applied run recorded as %q", got)
			}
		})
	}
}
