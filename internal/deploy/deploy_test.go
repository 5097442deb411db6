package deploy

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/snapshot"
)

var goodMigrations = map[string]string{
	"1_customers.up.sql":     "CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL);\nALTER TABLE accounts ADD COLUMN customer_id bigint;",
	"1_customers.down.sql":   "ALTER TABLE accounts DROP COLUMN customer_id;\nDROP TABLE customers;",
	"2_backfill.up.sql":      "INSERT INTO customers SELECT id, 'c' || id || '@example.com' FROM accounts;\nUPDATE accounts SET customer_id = id;",
	"2_backfill.down.sql":    "UPDATE accounts SET customer_id = NULL;\nDELETE FROM customers;",
	"3_fk.up.sql":            "ALTER TABLE accounts ADD CONSTRAINT accounts_customer_fk FOREIGN KEY (customer_id) REFERENCES customers NOT VALID;\nALTER TABLE accounts VALIDATE CONSTRAINT accounts_customer_fk;",
	"3_fk.down.sql":          "ALTER TABLE accounts DROP CONSTRAINT accounts_customer_fk;",
	"4_orders_note.up.sql":   "ALTER TABLE orders ALTER COLUMN note SET DEFAULT '';",
	"4_orders_note.down.sql": "ALTER TABLE orders ALTER COLUMN note DROP DEFAULT;",
}

func with(base map[string]string, extra map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

func TestDeploySuccess(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	o := tg.options(t, folder(t, goodMigrations), "run-1")
	res, err := Run(t.Context(), o)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if res.Outcome != OutcomeDeployed || !res.OK {
		t.Fatalf("outcome %s", res.Outcome)
	}
	if got, want := statuses(res), "1:applied 2:applied 3:applied 4:applied"; got != want {
		t.Errorf("statuses %q, want %q", got, want)
	}
	if got, want := tg.historyOf(t), "1:applied 2:applied 3:applied 4:applied"; got != want {
		t.Errorf("history %q, want %q", got, want)
	}
	if got := tg.value(t, "SELECT count(*)::text FROM customers"); got != "3000" {
		t.Errorf("customers = %s, want 3000", got)
	}
	if tg.maintenance(t) != "off" {
		t.Error("maintenance mode left on")
	}
	if res.Snapshot == nil || res.Snapshot.Location == "" || res.Snapshot.SHA256 == "" {
		t.Errorf("snapshot not reported: %+v", res.Snapshot)
	}
	if m := res.Maintenance; m == nil || m.On == nil || m.Off == nil || m.DurationMS < res.MigrationsMS {
		t.Errorf("maintenance timeline not reported: %+v", m)
	}
	names := map[string]bool{}
	for _, c := range res.Verify {
		names[c.Name] = c.OK
	}
	for _, want := range []string{"row counts unchanged", "no invalid index", "constraints validated", "foreign keys hold"} {
		if ok, found := names[want]; !found || !ok {
			t.Errorf("check %q: found=%v ok=%v in %+v", want, found, ok, res.Verify)
		}
	}
	for _, c := range res.Verify {
		// Only the new accounts_customer_fk can be broken: orders' key to accounts is not updated.
		if c.Name == "foreign keys hold" && c.Message != "1 foreign keys checked" {
			t.Errorf("foreign key check: %q, want only the new key checked", c.Message)
		}
	}
	if got := tg.value(t, "SELECT outcome FROM schemagate.schemagate_runs WHERE run_id = 'run-1'"); got != OutcomeDeployed {
		t.Errorf("run recorded as %q", got)
	}
	if n := tg.value(t, "SELECT count(*)::text FROM schemagate.schemagate_lock"); n != "0" {
		t.Errorf("lock row left behind: %s rows", n)
	}
	var text bytes.Buffer
	if err := res.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	md := res.Markdown()
	for _, want := range []string{"Snapshot", "Maintenance mode", "Lock wait", "1_customers"} {
		if !strings.Contains(text.String(), want) || !strings.Contains(md, want) {
			t.Errorf("reports lack %q:\n%s\n%s", want, text.String(), md)
		}
	}

	// The same run id twice is refused before anything changes.
	o.Set = folder(t, with(goodMigrations, map[string]string{"5_more.up.sql": "CREATE TABLE more (id int);"}))
	if _, err := Run(t.Context(), o); err == nil || !strings.Contains(err.Error(), "run id run-1 was used") {
		t.Errorf("reused run id: %v", err)
	}
	o.Set = folder(t, goodMigrations)

	// A second run finds nothing to do and leaves everything alone.
	o.RunID = "run-2"
	res, err = Run(t.Context(), o)
	if err != nil || res.Outcome != OutcomeNothing {
		t.Fatalf("second deploy: %v, outcome %s", err, res.Outcome)
	}
}

func TestDeployFailureHalfWayRollsBackByDowns(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	before := tg.checksums(t)
	set := folder(t, with(goodMigrations, map[string]string{
		"3_fk.up.sql": "UPDATE orders SET total = 0;\nALTER TABLE accounts ADD COLUMN z int;\nSELECT 1 / 0;",
	}))
	res, err := Run(t.Context(), tg.options(t, set, "run-fail"))
	if err == nil {
		t.Fatal("deploy succeeded")
	}
	if res.Outcome != OutcomeRolledBack || res.Rollback == nil || res.Rollback.Method != "down" {
		t.Fatalf("outcome %s, rollback %+v", res.Outcome, res.Rollback)
	}
	if got, want := statuses(res), "1:rolled-back 2:rolled-back 3:failed 4:not-run"; got != want {
		t.Errorf("statuses %q, want %q", got, want)
	}
	e := res.Migrations[2].Error
	if e == nil || e.File != "3_fk.up.sql" || e.Line != 3 || e.SQLState != "22012" {
		t.Errorf("error not positioned: %+v", e)
	}
	if after := tg.checksums(t); after != before {
		t.Errorf("database differs after rollback:\n%s\n---\n%s", before, after)
	}
	if got, want := tg.historyOf(t), "1:rolled-back 2:rolled-back 3:failed"; got != want {
		t.Errorf("history %q, want %q", got, want)
	}
	if tg.maintenance(t) != "off" {
		t.Error("maintenance mode left on")
	}
	for _, c := range res.Verify {
		if c.Phase == "rollback" && !c.OK {
			t.Errorf("verification after rollback failed: %+v", c)
		}
	}
}

func TestDeployNoDownRestoresSnapshot(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	before := tg.checksums(t)
	set := folder(t, with(goodMigrations, map[string]string{
		"2_backfill.down.sql": "",
		"2_backfill.up.sql":   "INSERT INTO customers SELECT id, 'c' || id FROM accounts;\nUPDATE accounts SET name = upper(name), customer_id = id;\nDELETE FROM orders WHERE id % 7 = 0;",
		"3_fk.up.sql":         "ALTER TABLE accounts ADD CONSTRAINT broken CHECK (balance < 0);",
	}))
	res, err := Run(t.Context(), tg.options(t, set, "run-nodown"))
	if err == nil {
		t.Fatal("deploy succeeded")
	}
	if res.Outcome != OutcomeRolledBack || res.Rollback == nil || res.Rollback.Method != "snapshot" ||
		!strings.Contains(res.Rollback.Why, "2_backfill has no down") {
		t.Fatalf("outcome %s, rollback %+v", res.Outcome, res.Rollback)
	}
	if after := tg.checksums(t); after != before {
		t.Errorf("database differs after restore:\n%s\n---\n%s", before, after)
	}
	if got, want := tg.historyOf(t), "1:restored 2:restored 3:failed"; got != want {
		t.Errorf("history %q, want %q", got, want)
	}
	if tg.maintenance(t) != "off" {
		t.Error("maintenance mode left on")
	}
}

func TestDeployVerifyFailureRollsBack(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		files  map[string]string
		checks []config.Check
		check  string // the failing check
		method string
	}{
		{
			name:   "user check",
			files:  goodMigrations,
			checks: []config.Check{{Name: "no customer without email", SQL: "SELECT count(*) FROM customers WHERE email LIKE 'c1@%'", Rows: [][]string{{"0"}}}},
			check:  "no customer without email", method: "down",
		},
		{
			name: "foreign key broken behind the server's back",
			files: with(goodMigrations, map[string]string{
				"4_orders_note.up.sql":   "SET LOCAL session_replication_role = replica;\nDELETE FROM accounts WHERE id = 5;",
				"4_orders_note.down.sql": "",
			}),
			check: "foreign keys hold", method: "snapshot",
		},
		{
			// The DELETE hides in a DO block, so every table is counted; its text shows the DELETE, which
			// the down cannot undo: the snapshot is restored.
			name: "rows lost in a DO block",
			files: with(goodMigrations, map[string]string{
				"4_orders_note.up.sql": "DO $$ BEGIN DELETE FROM orders WHERE id >= 100; END $$;",
			}),
			check: "row counts unchanged", method: "snapshot",
		},
		{
			// The same DELETE where no text shows it: the down runs, the check after it finds the rows
			// missing, and the snapshot is restored.
			name: "rows lost where no text shows it",
			files: with(goodMigrations, map[string]string{
				"4_orders_note.up.sql": "DO $$ BEGIN EXECUTE 'DEL' || 'ETE FROM orders WHERE id >= 100'; END $$;",
			}),
			check: "row counts unchanged", method: "down+snapshot",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			before := tg.checksums(t)
			o := tg.options(t, folder(t, tc.files), "run-verify")
			o.Config.Verify.Checks = tc.checks
			res, err := Run(t.Context(), o)
			if err == nil {
				t.Fatal("deploy succeeded")
			}
			failed := failedChecks(res.Verify)
			if len(failed) == 0 || failed[0].Name != tc.check || failed[0].Phase != "apply" {
				t.Fatalf("failed checks %+v, want %q first", failed, tc.check)
			}
			if res.Outcome != OutcomeRolledBack || res.Rollback.Method != tc.method {
				t.Fatalf("outcome %s, rollback %+v, want rolled back by %s", res.Outcome, res.Rollback, tc.method)
			}
			if rb := res.Rollback; strings.Contains(tc.method, "snapshot") && (rb.RestoreMS <= 0 || rb.DurationMS < rb.RestoreMS) {
				t.Errorf("rollback %+v: its duration must include the snapshot restore", rb)
			}
			if after := tg.checksums(t); after != before {
				t.Errorf("database differs after rollback:\n%s\n---\n%s", before, after)
			}
			if tg.maintenance(t) != "off" {
				t.Error("maintenance mode left on")
			}
		})
	}
}

func TestDeployDrift(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	o := tg.options(t, folder(t, goodMigrations), "run-1")
	if _, err := Run(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"changed file", with(goodMigrations, map[string]string{"2_backfill.up.sql": "SELECT 2;"}), "2_backfill (2_backfill.up.sql) changed after it was applied"},
		{"another migration under the version", with(goodMigrations, map[string]string{"2_backfill.up.sql": "", "2_backfill.down.sql": "", "2_other.up.sql": "SELECT 2;"}),
			"version 2 was applied as backfill; the folder has other (2_other.up.sql) under that version instead"},
		{"missing file", with(goodMigrations, map[string]string{"3_fk.up.sql": "", "3_fk.down.sql": ""}), "version 3 (fk) is applied but missing"},
		{"inserted before applied", with(goodMigrations, map[string]string{"0_early.up.sql": "SELECT 1;"}), "sorts before applied"},
	}
	for _, tc := range tests {
		o := tg.options(t, folder(t, tc.files), "run-drift")
		res, err := Run(t.Context(), o)
		var b *Blocked
		if !errors.As(err, &b) || res.Outcome != OutcomeBlocked || !strings.Contains(strings.Join(res.Drift, "\n"), tc.want) {
			t.Errorf("%s: err %v, outcome %s, drift %q; want blocked with %q", tc.name, err, res.Outcome, res.Drift, tc.want)
		}
	}
	// A checkout with other line endings (core.autocrlf) is the same folder: no drift, nothing pending.
	crlf := map[string]string{}
	for name, text := range goodMigrations {
		crlf[name] = strings.ReplaceAll(text, "\n", "\r\n")
	}
	res, err := Run(t.Context(), tg.options(t, folder(t, crlf), "run-crlf"))
	if err != nil || len(res.Drift) != 0 || res.Outcome != OutcomeNothing {
		t.Errorf("CRLF checkout: err %v, drift %q, outcome %s; want up to date", err, res.Drift, res.Outcome)
	}
}

// A down fixed after its migration was applied is no drift (golang-migrate, goose, Flyway and sqitch
// do not hash it either): the deploy goes on with a note. History written before schemagate recorded
// the up's own checksum cannot tell which script changed and stays drift.
func TestDeployChangedDownIsNoDrift(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	if _, err := Run(t.Context(), tg.options(t, folder(t, goodMigrations), "run-1")); err != nil {
		t.Fatal(err)
	}
	fixed := with(goodMigrations, map[string]string{
		"3_fk.down.sql":    "ALTER TABLE accounts DROP CONSTRAINT IF EXISTS accounts_customer_fk;",
		"5_later.up.sql":   "ALTER TABLE accounts ADD COLUMN later int;",
		"5_later.down.sql": "ALTER TABLE accounts DROP COLUMN later;"})
	res, err := Run(t.Context(), tg.options(t, folder(t, fixed), "run-2"))
	if err != nil || len(res.Drift) != 0 || res.Outcome != OutcomeDeployed {
		t.Fatalf("changed down: err %v, drift %q, outcome %s; want 5 applied", err, res.Drift, res.Outcome)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "down or verify script of applied migration 3_fk changed") {
		t.Errorf("notes %q say nothing of the changed down", res.Notes)
	}
	if got := tg.value(t, "SELECT count(*) FROM schemagate.schemagate_history WHERE up_checksum IS NULL"); got != "0" {
		t.Errorf("%s history rows without the up's checksum", got)
	}
	// The same change in the up is drift.
	res, err = Run(t.Context(), tg.options(t, folder(t, with(fixed, map[string]string{"3_fk.up.sql": "SELECT 3;"})), "run-3"))
	var b *Blocked
	if !errors.As(err, &b) || !strings.Contains(strings.Join(res.Drift, "\n"), "3_fk (3_fk.up.sql) changed after it was applied: its up script differs") {
		t.Errorf("changed up: err %v, drift %q; want blocked", err, res.Drift)
	}
	// History of an earlier release: no up_checksum column (nor statements_checksum, which came later).
	// The deploy adds it; the old rows cannot vouch for the up alone.
	tg.exec(t, "ALTER TABLE schemagate.schemagate_history DROP COLUMN up_checksum, DROP COLUMN statements_checksum")
	res, err = Run(t.Context(), tg.options(t, folder(t, fixed), "run-4"))
	if !errors.As(err, &b) || !strings.Contains(strings.Join(res.Drift, "\n"), "cannot tell a changed down from a changed up") {
		t.Errorf("old history, changed down: err %v, drift %q; want blocked", err, res.Drift)
	}
	if got := tg.value(t, "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'schemagate' AND table_name = 'schemagate_history' AND column_name = 'up_checksum'"); got != "1" {
		t.Errorf("the deploy did not add up_checksum to an earlier release's history table")
	}
	res, err = Run(t.Context(), tg.options(t, folder(t, goodMigrations), "run-5"))
	if err == nil || len(res.Drift) == 0 {
		// goodMigrations lacks 5_later: that is drift whatever the checksums say.
		t.Errorf("folder without an applied migration: err %v, drift %q", err, res.Drift)
	}
}

func TestDeployWindow(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	set := folder(t, goodMigrations)
	berlin := mustZone(t, "Europe/Berlin")
	// 01:59:30 on the night Berlin springs forward; the window opens at 03:00 CEST, 30 s of elapsed time later.
	now := time.Date(2026, 3, 29, 1, 59, 30, 0, berlin)
	window := []config.Window{{Cron: "0 3 * * *", Duration: time.Hour}}

	t.Run("fail", func(t *testing.T) {
		o := tg.options(t, set, "run-closed")
		o.Config.TimeZone, o.Config.Windows = "Europe/Berlin", window
		o.Clock = &fakeClock{now: now}
		res, err := Run(t.Context(), o)
		var b *Blocked
		if !errors.As(err, &b) || !strings.Contains(b.Reason, "2026-03-29T03:00:00+02:00") {
			t.Fatalf("err %v, want blocked naming the next window", err)
		}
		if res.Window == nil || res.Window.Next == nil || res.Window.Next.Sub(now) != 30*time.Second {
			t.Errorf("window %+v, want next in 30s across the DST change", res.Window)
		}
		if got := tg.value(t, "SELECT count(*)::text FROM pg_tables WHERE tablename = 'customers'"); got != "0" {
			t.Error("blocked deploy changed the database")
		}
	})
	t.Run("wait too long", func(t *testing.T) {
		o := tg.options(t, set, "run-toolong")
		o.Config.TimeZone, o.Config.Windows = "Europe/Berlin", window
		o.Config.OutsideWindow, o.Config.MaxWait = "wait", 10*time.Second
		o.Clock = &fakeClock{now: now}
		if _, err := Run(t.Context(), o); err == nil {
			t.Fatal("deploy ran although the window is further than max_wait")
		}
	})
	t.Run("dry run says which", func(t *testing.T) {
		for _, c := range []struct {
			outside string
			maxWait time.Duration
			want    string
			blocked bool // the dry run ends blocked as the deploy would (exit 3)
		}{
			{"", 0, "the deploy would be blocked (outside_window: fail)", true},
			{"wait", 10 * time.Second, "the deploy would be blocked (outside_window: wait)", true},
			{"wait", time.Minute, "the deploy would wait until 2026-03-29T03:00:00+02:00 (30s), then go on", false},
		} {
			o := tg.options(t, set, "run-dry")
			o.Config.TimeZone, o.Config.Windows = "Europe/Berlin", window
			o.Config.OutsideWindow, o.Config.MaxWait = c.outside, c.maxWait
			o.Clock = &fakeClock{now: now}
			o.DryRun = true
			res, err := Run(t.Context(), o)
			if (err != nil) != c.blocked || !strings.Contains(strings.Join(res.Notes, "\n"), c.want) {
				t.Errorf("outside_window %q, max_wait %s: %v, notes %q; want one saying %q", c.outside, c.maxWait, err, res.Notes, c.want)
			}
		}
	})
	t.Run("wait then deploy", func(t *testing.T) {
		o := tg.options(t, set, "run-wait")
		o.Config.TimeZone, o.Config.Windows = "Europe/Berlin", window
		o.Config.OutsideWindow, o.Config.MaxWait = "wait", time.Minute
		var msgs []string
		o.Progress = func(m string) { msgs = append(msgs, m) }
		o.Clock = &fakeClock{now: now}
		res, err := Run(t.Context(), o)
		if err != nil {
			t.Fatal(err)
		}
		if res.Window.WaitedMS != 30000 || !strings.Contains(strings.Join(msgs, "\n"), "waiting until 2026-03-29T03:00:00+02:00") {
			t.Errorf("waited %d ms, messages %q", res.Window.WaitedMS, msgs)
		}
	})
}

func TestDeployBreakWindowRecorded(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	o := tg.options(t, folder(t, goodMigrations), "run-break")
	o.Config.Windows = []config.Window{{Cron: "0 3 * * *", Duration: time.Hour}}
	o.Clock = &fakeClock{now: time.Date(2026, 5, 5, 12, 0, 0, 0, time.UTC)}
	o.BreakWindow = true
	if _, err := Run(t.Context(), o); err == nil {
		t.Fatal("--break-window without a reason was accepted")
	}
	o.Reason = "hotfix for incident 42"
	res, err := Run(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Window.Broken {
		t.Error("broken window not reported")
	}
	if got := tg.value(t, "SELECT break_reason FROM schemagate.schemagate_runs WHERE run_id = 'run-break' AND window_broken"); got != o.Reason {
		t.Errorf("recorded reason %q", got)
	}
}

func TestDeployConcurrent(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	slow := with(goodMigrations, map[string]string{"4_orders_note.up.sql": "SELECT pg_sleep(3);\nALTER TABLE orders ALTER COLUMN note SET DEFAULT '';"})
	first := tg.options(t, folder(t, slow), "run-first")
	first.Holder = "alice"
	first.JobURL = "https://ci.example/jobs/1"
	started := make(chan struct{})
	var once sync.Once
	first.Progress = func(m string) {
		if strings.HasPrefix(m, "applying") {
			once.Do(func() { close(started) })
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := Run(t.Context(), first)
		done <- err
	}()
	<-started

	second := tg.options(t, folder(t, slow), "run-second")
	second.Holder = "bob"
	second.Config.LockWait = 500 * time.Millisecond
	res, err := Run(t.Context(), second)
	var b *Blocked
	if !errors.As(err, &b) || !strings.Contains(b.Reason, "alice") || !strings.Contains(b.Reason, "run-first") ||
		!strings.Contains(b.Reason, "https://ci.example/jobs/1") {
		t.Fatalf("second deploy: %v, want blocked naming alice's run", err)
	}
	if res.Lock == nil || res.Lock.WaitMS < 500 {
		t.Errorf("lock wait not reported: %+v", res.Lock)
	}

	third := tg.options(t, folder(t, slow), "run-third")
	third.Config.LockWait = time.Minute
	res, err = Run(t.Context(), third)
	if err != nil || res.Outcome != OutcomeNothing || res.Lock.WaitedFor == "" {
		t.Fatalf("third deploy: %v, outcome %s, lock %+v; want it to wait for the first and find nothing to do", err, res.Outcome, res.Lock)
	}
	if err := <-done; err != nil {
		t.Fatalf("first deploy: %v", err)
	}
}

func TestDeployWebhookFails(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	before := tg.checksums(t)
	var mu sync.Mutex
	var calls []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls = append(calls, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		if r.URL.Path == "/on" {
			http.Error(w, "maintenance service down", http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	o := tg.options(t, folder(t, goodMigrations), "run-hook")
	cfg := config.Maintenance{
		On:  config.Action{Webhook: &config.Webhook{URL: srv.URL + "/on", Headers: map[string]string{"Authorization": "HOOK_TOKEN"}}},
		Off: config.Action{Webhook: &config.Webhook{Method: "DELETE", URL: srv.URL + "/off", Headers: map[string]string{"Authorization": "HOOK_TOKEN"}}},
	}
	env := map[string]string{"HOOK_TOKEN": "Bearer s3cret"}
	m, err := NewMaintenance(cfg, tg.url, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	o.Maintenance = m
	res, err := Run(t.Context(), o)
	var b *Blocked
	if !errors.As(err, &b) || res.Outcome != OutcomeBlocked || !strings.Contains(res.Reason, "HTTP 502") || !strings.Contains(res.Reason, "nothing was changed") {
		t.Fatalf("err %v, outcome %s, reason %q; want blocked, nothing changed", err, res.Outcome, res.Reason)
	}
	if res.Snapshot != nil {
		t.Error("snapshot taken although maintenance mode failed")
	}
	mu.Lock()
	got := strings.Join(calls, "\n")
	mu.Unlock()
	if got != "POST /on Bearer s3cret\nDELETE /off Bearer s3cret" {
		t.Errorf("webhook calls:\n%s", got)
	}
	if after := tg.checksums(t); after != before {
		t.Error("database changed")
	}
	if _, err := NewMaintenance(cfg, tg.url, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "HOOK_TOKEN") {
		t.Errorf("missing header variable: %v", err)
	}
}

func TestDeployRefusesRestoreAfterWrites(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	set := folder(t, with(goodMigrations, map[string]string{
		"1_customers.down.sql": "",
		"2_backfill.up.sql":    "SELECT 1 / 0;",
	}))
	o := tg.options(t, set, "run-writes")
	o.Config.Snapshot.BeforeMaintenance = true
	// The application writes between the snapshot and maintenance mode.
	o.Maintenance = &Switch{
		OnAction:  &CommandAction{Command: `psql -q "$DB" -c "INSERT INTO orders (account_id, total) VALUES (1, 12345.67)" -c "UPDATE app_settings SET value = 'on'"`, Env: []string{"DB=" + tg.url, "PATH=/usr/lib/postgresql/15/bin:/usr/bin:/bin"}},
		OffAction: &SQLAction{URL: tg.url, SQL: "UPDATE app_settings SET value = 'off'"},
	}
	res, err := Run(t.Context(), o)
	if err == nil {
		t.Fatal("deploy succeeded")
	}
	if res.Writes == nil || !res.Writes.Detected || res.Writes.XIDs < 1 {
		t.Fatalf("writes not detected: %+v", res.Writes)
	}
	if res.Outcome != OutcomeFailed || res.Rollback == nil || !strings.Contains(res.Rollback.Error, "lose them") {
		t.Fatalf("outcome %s, rollback %+v; want an automatic restore refused", res.Outcome, res.Rollback)
	}
	if got := tg.value(t, "SELECT count(*)::text FROM orders WHERE total = 12345.67"); got != "1" {
		t.Errorf("the write between snapshot and maintenance is gone: %s rows", got)
	}
	// Neither the down nor the restore ran: the report's Rollback line said "snapshot in 0s (...): FAILED".
	wantRollbackNotRun(t, res, "not run: the down migrations were refused (1_customers has no down migration), and the snapshot cannot be restored: writes reached the database after the snapshot")
	if tg.maintenance(t) != "off" {
		t.Error("maintenance mode left on")
	}
}

func TestDeployLockTimeoutRetries(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	o := tg.options(t, folder(t, goodMigrations), "run-retry")
	o.Config.LockTimeout = 100 * time.Millisecond
	o.Config.RetryBackoff = 300 * time.Millisecond
	// Another session holds a lock on orders; it lets go once the deploy reports a lock timeout, however
	// long the steps before take.
	release := tg.holdLock(t, "orders")
	releaseAtLockTimeout(&o.Progress, release)
	defer release()
	res, err := Run(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Migrations[3].Attempts < 2 {
		t.Errorf("migration 4 took %d attempts, want a retry after the lock timeout", res.Migrations[3].Attempts)
	}
}

// TestDeploySnapshotFailureChangesNothing: a snapshot that cannot be taken (no pg_dump, a snapshot folder
// that cannot be created, a table locked by another session) changes nothing: the deploy is blocked (exit
// 3), with a hint that matches the cause, and maintenance mode is off again.
func TestDeploySnapshotFailureChangesNothing(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		snap func(url string) *snapshot.PGDump
		lock bool
		hint string
	}{
		{name: "no pg_dump", snap: func(url string) *snapshot.PGDump {
			return &snapshot.PGDump{URL: url, Dir: t.TempDir(), Bin: t.TempDir()}
		}, hint: "pg_bin"},
		{name: "unwritable dir", snap: func(url string) *snapshot.PGDump {
			return &snapshot.PGDump{URL: url, Dir: filepath.Join(file, "snaps")}
		}, hint: "snapshot.dir"},
		{name: "locked table", lock: true, hint: "lock wait timeout", snap: func(url string) *snapshot.PGDump {
			return &snapshot.PGDump{URL: url, Dir: t.TempDir(), LockWaitTimeout: 50 * time.Millisecond, ExcludeSchemas: []string{"schemagate"}}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			before := tg.checksums(t)
			o := tg.options(t, folder(t, goodMigrations), "run-nosnap")
			o.Snapshotter = tc.snap(tg.url)
			if tc.lock {
				// Another session holds an ACCESS EXCLUSIVE lock on a table the migrations do not touch.
				tg.exec(t, "CREATE TABLE unrelated (id int)")
				blocker, err := pgx.Connect(t.Context(), tg.url)
				if err != nil {
					t.Fatal(err)
				}
				defer blocker.Close(context.Background())
				if _, err := blocker.Exec(t.Context(), "BEGIN; LOCK TABLE unrelated IN ACCESS EXCLUSIVE MODE"); err != nil {
					t.Fatal(err)
				}
				before = tg.checksums(t)
			}
			res, err := Run(t.Context(), o)
			var b *Blocked
			if !errors.As(err, &b) || res.Outcome != OutcomeBlocked || !strings.Contains(res.Reason, "nothing was changed") || !strings.Contains(res.Hint, tc.hint) {
				t.Fatalf("err %v, outcome %s, reason %q, hint %q; want blocked, nothing changed, a hint about %q", err, res.Outcome, res.Reason, res.Hint, tc.hint)
			}
			tg.nothingChanged(t, res, before)
		})
	}
}

func TestDeployLostLockRollsBack(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	before := tg.checksums(t)
	set := folder(t, with(goodMigrations, map[string]string{
		// Cut the lock's connection from inside the run, as a network failure would.
		"1_customers.up.sql": goodMigrations["1_customers.up.sql"] + "\nSELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'schemagate deploy lock' AND datname = current_database();",
	}))
	res, err := Run(t.Context(), tg.options(t, set, "run-lostlock"))
	if err == nil || !strings.Contains(res.Reason, "lost the deploy lock") || res.Outcome != OutcomeRolledBack {
		t.Fatalf("err %v, outcome %s, reason %q", err, res.Outcome, res.Reason)
	}
	if got, want := statuses(res), "1:rolled-back 2:not-run 3:not-run 4:not-run"; got != want {
		t.Errorf("statuses %q, want %q", got, want)
	}
	if after := tg.checksums(t); after != before {
		t.Error("database not back")
	}
}

// TestDeployCopyFromStdin: a migration that loads rows with COPY … FROM STDIN, as pg_dump writes it,
// deploys them; a bad row fails the deploy at its line of the file and the rollback undoes the rest.
func TestDeployCopyFromStdin(t *testing.T) {
	t.Parallel()
	const seed = "CREATE TABLE plans (id bigint PRIMARY KEY, name text NOT NULL);\nCOPY plans (id, name) FROM stdin;\n1\tfree\n2\tpro\n\\.\n"
	tg := newTarget(t)
	set := folder(t, with(goodMigrations, map[string]string{"5_plans.up.sql": seed, "5_plans.down.sql": "DROP TABLE plans;"}))
	res, err := Run(t.Context(), tg.options(t, set, "run-copy"))
	if err != nil || res.Outcome != OutcomeDeployed {
		t.Fatalf("deploy: %v, outcome %s", err, res.Outcome)
	}
	if got := tg.value(t, "SELECT string_agg(id || '=' || name, ',' ORDER BY id) FROM plans"); got != "1=free,2=pro" {
		t.Errorf("plans = %q, want 1=free,2=pro", got)
	}

	tg = newTarget(t)
	before := tg.checksums(t)
	bad := strings.Replace(seed, "2\tpro", "two\tpro", 1)
	set = folder(t, with(goodMigrations, map[string]string{"5_plans.up.sql": bad, "5_plans.down.sql": "DROP TABLE plans;"}))
	res, err = Run(t.Context(), tg.options(t, set, "run-copy-bad"))
	if err == nil || res.Outcome != OutcomeRolledBack {
		t.Fatalf("deploy of a bad row: %v, outcome %s", err, res.Outcome)
	}
	if e := res.Migrations[4].Error; e == nil || e.File != "5_plans.up.sql" || e.Line != 4 || e.SQLState != "22P02" {
		t.Errorf("error %+v, want 5_plans.up.sql line 4 (the bad row) with SQLSTATE 22P02", e)
	}
	if after := tg.checksums(t); after != before {
		t.Errorf("database differs after rollback:\n%s\n---\n%s", before, after)
	}
}

// TestDeployStartsEachMigrationFresh: what one migration SETs (pg_dump's output empties search_path; a
// SET ROLE) reaches neither the history row nor the next migration, which in production may well run in
// a session of its own, and which the rehearsal runs that way.
func TestDeployStartsEachMigrationFresh(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	role := "readonly_" + strings.ReplaceAll(t.Name(), "/", "_") + "_" + time.Now().Format("150405.000000")
	role = strings.NewReplacer(".", "_").Replace(strings.ToLower(role))
	tg.exec(t, "CREATE ROLE "+role+" NOLOGIN")
	t.Cleanup(func() { _, _ = tg.conn.Exec(context.Background(), "DROP ROLE IF EXISTS "+role) })
	set := folder(t, with(goodMigrations, map[string]string{
		"5_dump.up.sql":    "SELECT pg_catalog.set_config('search_path', '', false);\nCREATE TABLE public.audit (id bigint PRIMARY KEY);\nSET ROLE " + role + ";",
		"5_dump.down.sql":  "DROP TABLE public.audit;",
		"6_notes.up.sql":   "CREATE TABLE notes (id bigint PRIMARY KEY);",
		"6_notes.down.sql": "DROP TABLE notes;",
	}))
	res, err := Run(t.Context(), tg.options(t, set, "run-fresh"))
	if err != nil || res.Outcome != OutcomeDeployed {
		t.Fatalf("deploy: %v, outcome %s, migrations %+v", err, res.Outcome, res.Migrations)
	}
	if got := tg.value(t, "SELECT to_regclass('public.notes')::text"); got != "notes" {
		t.Errorf("notes is %q, want it in public", got)
	}
	if got := tg.value(t, "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'public.notes'::regclass"); got == role {
		t.Errorf("notes is owned by %s: migration 6 ran as migration 5's role", got)
	}
}

// TestDeployRefusesGoMigrations: schemagate cannot run a goose Go migration's code, so a deploy with one
// pending is blocked before anything changes.
func TestDeployRefusesGoMigrations(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	before := tg.checksums(t)
	fsys := fstest.MapFS{
		"00001_notes.sql":   {Data: []byte("-- +goose Up\nCREATE TABLE notes (id bigint PRIMARY KEY);\n-- +goose Down\nDROP TABLE notes;\n")},
		"00002_backfill.go": {Data: []byte("package migrations\n\nimport \"github.com/pressly/goose/v3\"\n")},
	}
	set, err := migrate.Read(fsys, migrate.FormatGoose)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(t.Context(), tg.options(t, set, "run-go"))
	var b *Blocked
	if !errors.As(err, &b) || res.Outcome != OutcomeBlocked || !strings.Contains(b.Reason, "2_backfill is a goose Go migration") {
		t.Fatalf("err %v, outcome %s; want blocked naming 2_backfill", err, res.Outcome)
	}
	if after := tg.checksums(t); after != before {
		t.Errorf("the database changed:\n%s\n---\n%s", before, after)
	}
}

// TestDeployWindowClosesDuringLockWait: a deploy that started inside its window but got the deploy lock
// only after the window closed must not migrate.
func TestDeployWindowClosesDuringLockWait(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	holder, err := pgx.Connect(t.Context(), tg.url)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(context.Background())
	if _, err := holder.Exec(t.Context(), "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 5, 3, 59, 58, 0, time.UTC)
	clock := &fakeClock{now: now}
	go func() {
		// Another deploy holds the lock until the window has closed: fake time runs on with every poll
		// of the lock wait, however fast or slow the machine polls.
		for clock.Now().Before(now.Add(3 * time.Second)) {
			time.Sleep(5 * time.Millisecond)
		}
		holder.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", lockKey)
	}()
	o := tg.options(t, folder(t, goodMigrations), "run-late")
	o.Config.Windows = []config.Window{{Cron: "0 3 * * *", Duration: time.Hour}} // closes 2 s after now
	o.Config.LockWait = 10 * time.Hour
	o.Clock = clock
	res, err := Run(t.Context(), o)
	var b *Blocked
	if !errors.As(err, &b) || !strings.Contains(b.Reason, "the maintenance window closed at 2026-05-05T04:00:00Z while this deploy waited") ||
		!strings.Contains(b.Hint, "the next window opens at 2026-05-06T03:00:00Z") {
		t.Fatalf("err %v, want blocked: the window closed during the lock wait", err)
	}
	if res.Window.Open || res.Lock == nil || res.Lock.WaitMS < 2000 {
		t.Errorf("window %+v, lock %+v", res.Window, res.Lock)
	}
	if got := tg.value(t, "SELECT count(*)::text FROM pg_tables WHERE tablename = 'customers'"); got != "0" {
		t.Error("the late deploy changed the database")
	}
}

// TestDeployRefusesAHistorySchemaHoldingTheApplication: snapshots leave the history schema out and
// restores keep it, so a schema the application uses must not hold the history.
func TestDeployRefusesAHistorySchemaHoldingTheApplication(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	tg.exec(t, "CREATE SCHEMA app; CREATE TABLE app.accounts (id int); CREATE TYPE app.mood AS ENUM ('ok')")
	o := tg.options(t, folder(t, goodMigrations), "run-shared")
	o.Config.HistorySchema = "app"
	res, err := Run(t.Context(), o)
	var b *Blocked
	if !errors.As(err, &b) || !strings.Contains(b.Reason, "the history schema app holds objects that are not schemagate's: table accounts, type mood") {
		t.Fatalf("err %v, want blocked naming the application's objects", err)
	}
	if res.Outcome != OutcomeBlocked {
		t.Errorf("outcome %s", res.Outcome)
	}
	if got := tg.value(t, "SELECT count(*)::text FROM pg_tables WHERE schemaname = 'app'"); got != "1" {
		t.Errorf("%s tables in app after a refused deploy, want only accounts", got)
	}
}

// TestDeployDryRunSeesWhatBlocksTheDeploy: a dry run stops where the deploy would: at a run that did not
// finish (unless another deploy is running it now) and at a database it cannot reach.
func TestDeployDryRunSeesWhatBlocksTheDeploy(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	set := folder(t, goodMigrations)
	o := tg.options(t, set, "run-dry-0")
	o.DryRun = true
	if res, err := Run(t.Context(), o); err != nil || res.Outcome != OutcomeDryRun {
		t.Fatalf("dry run on a database never deployed to: %v, %s", err, res.Outcome)
	}
	if got := tg.value(t, "SELECT count(*)::text FROM pg_namespace WHERE nspname = 'schemagate'"); got != "0" {
		t.Error("the dry run created the history schema")
	}
	if _, err := Run(t.Context(), tg.options(t, &migrate.Set{Format: set.Format, Migrations: set.Migrations[:1]}, "run-1")); err != nil {
		t.Fatal(err)
	}
	tg.exec(t, "INSERT INTO schemagate.schemagate_runs (run_id, env, status, holder) VALUES ('run-dead', 'test', 'running', 'ci@host')")
	o = tg.options(t, set, "run-dry-1")
	o.DryRun = true
	var b *Blocked
	if _, err := Run(t.Context(), o); !errors.As(err, &b) || !strings.Contains(b.Reason, "run run-dead (ci@host") || !strings.Contains(b.Hint, "--recover") {
		t.Fatalf("dry run with an unfinished run: %v, want blocked as the deploy would be", err)
	}
	o.Recover = true
	res, err := Run(t.Context(), o)
	if err != nil || res.Recovered == nil || res.Recovered.Plan != "run run-dead: nothing of it to roll back (no migration of it had been applied); then deploy the pending migrations" {
		t.Errorf("dry run with --recover: %v, recovery %+v", err, res.Recovered)
	}
	o = tg.options(t, set, "run-dry-2")
	o.DryRun, o.URL = true, "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"
	if _, err := Run(t.Context(), o); !errors.As(err, &b) || !strings.Contains(b.Reason, "cannot connect to the database") {
		t.Errorf("dry run on an unreachable server: %v, want blocked", err)
	}
	o.DryRun = false
	if res, err := Run(t.Context(), o); !errors.As(err, &b) || res.Outcome != OutcomeBlocked || !strings.Contains(b.Hint, "nothing was changed") {
		t.Errorf("deploy to an unreachable server: %v, want blocked (nothing changed)", err)
	}
}

// TestDeployKeepsTimeoutsTheScriptLifts: pg_dump's output starts with SET lock_timeout = 0; the deploy's
// lock_timeout must still hold (a script may lower it, not lift it), however the script lifts it.
func TestDeployKeepsTimeoutsTheScriptLifts(t *testing.T) {
	t.Parallel()
	off := []string{"4_orders_note.up.sql:2 turns lock_timeout off; the deploy kept it at 100ms",
		"4_orders_note.up.sql:1 turns statement_timeout off; the deploy kept it at 1m0s"}
	for name, tc := range map[string]struct {
		lift  string
		notes []string
	}{
		"set":        {"SET statement_timeout = 0;\nSET lock_timeout = 0;\n", off},
		"set_config": {"SELECT set_config('statement_timeout', '0', false);\nSELECT pg_catalog.set_config('lock_timeout', '0', false);\n", off},
		// It used to say "turns statement_timeout 16m40s" (tester A's F10e).
		"raise": {"SET statement_timeout = 1000000;\nSET lock_timeout = '1h';\n", []string{"4_orders_note.up.sql:2 raises lock_timeout to 1h0m0s; the deploy kept it at 100ms",
			"4_orders_note.up.sql:1 raises statement_timeout to 16m40s; the deploy kept it at 1m0s"}},
	} {
		lift := tc.lift
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			migs := with(goodMigrations, map[string]string{"4_orders_note.up.sql": lift +
				"SET client_encoding = 'UTF8';\nALTER TABLE orders ALTER COLUMN note SET DEFAULT '';"})
			o := tg.options(t, folder(t, migs), "run-capped")
			o.Config.LockTimeout = 100 * time.Millisecond
			o.Config.StatementTimeout = time.Minute
			o.Config.RetryBackoff = 50 * time.Millisecond
			release := tg.holdLock(t, "orders")
			timedOut := false
			o.Progress = func(msg string) {
				t.Log(msg)
				if strings.Contains(msg, "lock timeout") {
					timedOut = true
					release()
				}
			}
			go func() { time.Sleep(10 * time.Second); release() }() // without the ceiling the ALTER waits for this
			defer release()
			res, err := Run(t.Context(), o)
			if err != nil {
				t.Fatal(err)
			}
			if !timedOut || res.Migrations[3].Attempts < 2 {
				t.Errorf("migration 4: %d attempts, lock timeout seen %v; want its lifted lock_timeout overridden", res.Migrations[3].Attempts, timedOut)
			}
			notes := strings.Join(res.Notes, "\n")
			for _, want := range tc.notes {
				if !strings.Contains(notes, want) {
					t.Errorf("notes lack %q:\n%s", want, notes)
				}
			}
		})
	}
}

// TestDeployFailedConcurrentIndexLeavesNoInvalidIndex: CREATE UNIQUE INDEX CONCURRENTLY on duplicates
// fails and leaves an INVALID index, which every write then maintains. The deploy drops it, so the
// migration failed whole, and the earlier one is rolled back by its down (no snapshot needed).
func TestDeployFailedConcurrentIndexLeavesNoInvalidIndex(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	tg.exec(t, "CREATE TABLE dup (email text); INSERT INTO dup SELECT 'e' || (g % 5) FROM generate_series(1, 50) g")
	migs := map[string]string{
		"1_z.up.sql": "CREATE TABLE z (id int);", "1_z.down.sql": "DROP TABLE z;",
		"2_idx.up.sql": "CREATE UNIQUE INDEX CONCURRENTLY dup_email_idx ON dup (email);", "2_idx.down.sql": "DROP INDEX CONCURRENTLY dup_email_idx;",
	}
	o := tg.options(t, folder(t, migs), "run-cic")
	res, err := Run(t.Context(), o)
	if err == nil {
		t.Fatal("deploy succeeded")
	}
	if res.Outcome != OutcomeRolledBack || res.Rollback == nil || res.Rollback.Method != "down" {
		t.Fatalf("outcome %s, rollback %+v, want rolled back by the down", res.Outcome, res.Rollback)
	}
	if got := tg.value(t, "SELECT count(*)::text FROM pg_index WHERE indrelid = 'dup'::regclass"); got != "0" {
		t.Errorf("%s indexes left on dup, want none (the INVALID one dropped)", got)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "dropped the INVALID index dup_email_idx") {
		t.Errorf("notes %q do not say the INVALID index was dropped", res.Notes)
	}
}

// TestDeployLockTimeoutNamesTheHolder: a migration that gives up after its lock-timeout retries is
// reported with who held the lock it waited for (pid, user, application), as the deploy's own
// statements are.
func TestDeployLockTimeoutNamesTheHolder(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	o := tg.options(t, folder(t, goodMigrations), "run-holder")
	o.Config.LockTimeout = 100 * time.Millisecond
	o.Config.RetryBackoff = 10 * time.Millisecond
	tg.holdLock(t, "orders") // held for the whole run
	res, err := Run(t.Context(), o)
	if err == nil || res == nil {
		t.Fatalf("deploy: %v, %+v; want it to fail on the lock", err, res)
	}
	notes := strings.Join(res.Notes, "\n")
	if res.Outcome == OutcomeDeployed || !strings.Contains(notes, "gave up waiting for a lock: public.orders") || !strings.Contains(notes, "by pid ") {
		t.Errorf("outcome %s, notes:\n%s\nwant one naming the session that held orders", res.Outcome, notes)
	}
}

// slowSnapshot is a snapshot that takes took of the fake clock's time, as a pg_dump of a large
// database takes real time.
type slowSnapshot struct {
	snapshot.Snapshotter
	clock *fakeClock
	took  time.Duration
}

func (s slowSnapshot) Snapshot(ctx context.Context, runID string) (*snapshot.Info, snapshot.RestoreFunc, error) {
	s.clock.After(s.took)
	return s.Snapshotter.Snapshot(ctx, runID)
}

// TestDeployWindowClosesDuringTheSnapshot: a deploy that got its lock inside the window, but whose
// snapshot outlasted the window, starts no migration: blocked, nothing applied, maintenance mode off.
func TestDeployWindowClosesDuringTheSnapshot(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	clock := &fakeClock{now: time.Date(2026, 5, 5, 3, 59, 30, 0, time.UTC)}
	o := tg.options(t, folder(t, goodMigrations), "run-slow-snapshot")
	o.Config.Windows = []config.Window{{Cron: "0 3 * * *", Duration: time.Hour}} // closes 30 s after now
	o.Clock = clock
	o.Snapshotter = slowSnapshot{Snapshotter: o.Snapshotter, clock: clock, took: time.Minute}
	res, err := Run(t.Context(), o)
	var b *Blocked
	if !errors.As(err, &b) || res.Outcome != OutcomeBlocked || !strings.Contains(b.Reason, "the maintenance window closed at 2026-05-05T04:00:00Z while this deploy prepared its first migration") ||
		!strings.Contains(b.Hint, "the next window opens at 2026-05-06T03:00:00Z") {
		t.Fatalf("err %v, outcome %s; want blocked: the window closed during the snapshot", err, res.Outcome)
	}
	if got := tg.value(t, "SELECT count(*)::text FROM pg_tables WHERE tablename = 'customers'"); got != "0" {
		t.Error("the late deploy changed the database")
	}
	if got := tg.value(t, "SELECT value FROM app_settings WHERE key = 'maintenance'"); got != "off" {
		t.Errorf("maintenance mode %s after the blocked deploy, want off", got)
	}
	for _, m := range res.Migrations {
		if m.Status != StatusNotRun {
			t.Errorf("%s: %s, want not-run", m.Version, m.Status)
		}
	}
}

// TestDeployRestoredFailureKeepsItsError: a non-transactional migration that fails half way, undone by
// restoring the snapshot, is recorded restored with the error it failed with, as a failed
// transactional one keeps its own.
func TestDeployRestoredFailureKeepsItsError(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	set, err := migrate.Read(fstest.MapFS{
		"00001_items.sql": {Data: []byte("-- +goose Up\nCREATE TABLE items (id bigint PRIMARY KEY, sku text);\n-- +goose Down\nDROP TABLE items;\n")},
		"00002_sku.sql": {Data: []byte("-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY items_sku_idx ON items (sku);\nSELECT 1/0;\n" +
			"-- +goose Down\nDROP INDEX CONCURRENTLY items_sku_idx;\n")},
	}, migrate.FormatGoose)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(t.Context(), tg.options(t, set, "run-restored-error"))
	if err == nil || res.Rollback == nil || !res.Rollback.OK {
		t.Fatalf("err %v, rollback %+v; want the failure rolled back", err, res.Rollback)
	}
	if got := tg.value(t, "SELECT status || ': ' || coalesce(error, '<none>') FROM schemagate.schemagate_history WHERE version = '2'"); !strings.HasPrefix(got, res.Migrations[1].Status+": ") ||
		!strings.Contains(got, "division by zero") {
		t.Errorf("history of 2: %q; want its status (%s) with the error it failed with", got, res.Migrations[1].Status)
	}
}
