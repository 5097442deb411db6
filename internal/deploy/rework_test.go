package deploy

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/schemagate/schemagate/internal/migrate"
)

// sqitchV1 is a sqitch project before and after `sqitch rework users`: the applied users scripts move to
// users@v1.0.sql and users.sql holds the new instance, planned after the tag.
const sqitchPlanV1 = "%project=app\n" +
	"appschema 2024-01-01T00:00:00Z Tester <t@example.com>\n" +
	"users [appschema] 2024-01-02T00:00:00Z Tester <t@example.com>\n" +
	"@v1.0 2024-01-03T00:00:00Z Tester <t@example.com>\n"

var sqitchV1 = map[string]string{
	"sqitch.plan":          sqitchPlanV1,
	"deploy/appschema.sql": "BEGIN;\nCREATE SCHEMA app;\nCOMMIT;\n",
	"revert/appschema.sql": "BEGIN;\nDROP SCHEMA app;\nCOMMIT;\n",
	"deploy/users.sql":     "BEGIN;\nCREATE TABLE app.users (id int PRIMARY KEY, name text);\nCOMMIT;\n",
	"revert/users.sql":     "BEGIN;\nDROP TABLE app.users;\nCOMMIT;\n",
	"verify/users.sql":     "SELECT id, name FROM app.users WHERE false;\n",
}

var sqitchReworked = with(sqitchV1, map[string]string{
	"sqitch.plan":           sqitchPlanV1 + "users [users@v1.0] 2024-01-04T00:00:00Z Tester <t@example.com> # add email\n",
	"deploy/users@v1.0.sql": sqitchV1["deploy/users.sql"],
	"revert/users@v1.0.sql": sqitchV1["revert/users.sql"],
	"verify/users@v1.0.sql": sqitchV1["verify/users.sql"],
	"deploy/users.sql":      "BEGIN;\nALTER TABLE app.users ADD COLUMN email text;\nCOMMIT;\n",
	"revert/users.sql":      "BEGIN;\nALTER TABLE app.users DROP COLUMN email;\nCOMMIT;\n",
	"verify/users.sql":      "SELECT email FROM app.users WHERE false;\n",
})

func sqitchFolder(t *testing.T, files map[string]string) *migrate.Set {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, sql := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(sql)}
	}
	set, err := migrate.Read(fsys, migrate.FormatSqitch)
	if err != nil {
		t.Fatalf("read migrations: %v", err)
	}
	return set
}

// TestDeploySqitchRework: after `sqitch rework`, the applied change (whose scripts are now users@v1.0.sql)
// is recognised as applied, nothing is run again, and only the new instance of users is deployed.
func TestDeploySqitchRework(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	deploy := func(files map[string]string, runID string) *Result {
		t.Helper()
		o := tg.options(t, sqitchFolder(t, files), runID)
		o.Snapshotter = nil
		res, err := Run(t.Context(), o)
		if err != nil {
			t.Fatalf("deploy %s: %v (drift %q)", runID, err, res.Drift)
		}
		return res
	}
	deploy(sqitchV1, "run-v1")
	tg.exec(t, "INSERT INTO app.users VALUES (1, 'kept')")

	res := deploy(sqitchReworked, "run-rework")
	if got, want := statuses(res), "users:applied"; got != want || res.Outcome != OutcomeDeployed {
		t.Errorf("rework deploy: %s, statuses %q, want %q", res.Outcome, got, want)
	}
	if got, want := tg.historyOf(t), "appschema:applied users:applied users#2:applied"; got != want {
		t.Errorf("history %q, want %q", got, want)
	}
	if got := tg.value(t, "SELECT name || coalesce(email, '-') FROM app.users"); got != "kept-" {
		t.Errorf("users after the rework: %q", got)
	}
	if res := deploy(sqitchReworked, "run-again"); res.Outcome != OutcomeNothing {
		t.Errorf("deploy after the rework: %s, want %s", res.Outcome, OutcomeNothing)
	}
}

// TestDeploySqitchReworkLegacyKeys: earlier releases recorded a sqitch change under its Version, which a
// rework moves: a database deployed with the rework already planned holds users@v1.0 (the first
// instance) and users (the second). Such history is read as the folder's migrations, recorded under the
// stable keys, and a further rework deploys only its new instance.
func TestDeploySqitchReworkLegacyKeys(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	o := tg.options(t, sqitchFolder(t, sqitchReworked), "run-1")
	o.Snapshotter = nil
	if _, err := Run(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	// What an earlier release wrote.
	tg.exec(t, `UPDATE schemagate.schemagate_history SET version = CASE version WHEN 'users' THEN 'users@v1.0' ELSE 'users' END
		WHERE version IN ('users', 'users#2')`)
	if got := tg.historyOf(t); got != "appschema:applied users@v1.0:applied users:applied" {
		t.Fatalf("legacy history %q", got)
	}

	again := with(sqitchReworked, map[string]string{
		"sqitch.plan": sqitchReworked["sqitch.plan"] + "@v2.0 2024-01-05T00:00:00Z Tester <t@example.com>\n" +
			"users [users@v2.0] 2024-01-06T00:00:00Z Tester <t@example.com> # add phone\n",
		"deploy/users@v2.0.sql": sqitchReworked["deploy/users.sql"],
		"revert/users@v2.0.sql": sqitchReworked["revert/users.sql"],
		"verify/users@v2.0.sql": sqitchReworked["verify/users.sql"],
		"deploy/users.sql":      "BEGIN;\nALTER TABLE app.users ADD COLUMN phone text;\nCOMMIT;\n",
		"revert/users.sql":      "BEGIN;\nALTER TABLE app.users DROP COLUMN phone;\nCOMMIT;\n",
		"verify/users.sql":      "SELECT phone FROM app.users WHERE false;\n",
	})
	o = tg.options(t, sqitchFolder(t, again), "run-2")
	o.Snapshotter = nil
	res, err := Run(t.Context(), o)
	if err != nil {
		t.Fatalf("deploy: %v (drift %q)", err, res.Drift)
	}
	if got, want := statuses(res), "users:applied"; got != want {
		t.Errorf("statuses %q, want %q", got, want)
	}
	if got, want := tg.historyOf(t), "appschema:applied users:applied users#2:applied users#3:applied"; got != want {
		t.Errorf("history %q, want %q", got, want)
	}
	if got := tg.value(t, "SELECT count(*)::text FROM information_schema.columns WHERE table_schema = 'app' AND column_name IN ('email', 'phone')"); got != "2" {
		t.Errorf("%s of the columns email and phone", got)
	}
}

// TestDeploySqitchVerifyEndsWithRollback: sqitch add writes verify scripts that open a transaction and
// end with ROLLBACK (its template: "BEGIN; -- XXX Add verifications here. ROLLBACK;"). The deploy runs
// a verify script in a transaction of its own that it rolls back, as the rehearsal does: the script's
// ROLLBACK is the same end, not a failed verification that rolls the deploy back.
func TestDeploySqitchVerifyEndsWithRollback(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	files := with(sqitchV1, map[string]string{
		"verify/users.sql": "-- Verify app:users on pg\n\nBEGIN;\n\nSELECT id, name FROM app.users WHERE false;\n\nROLLBACK;\n",
	})
	o := tg.options(t, sqitchFolder(t, files), "run-verify-rollback")
	o.Snapshotter = nil
	res, err := Run(t.Context(), o)
	if err != nil || res.Outcome != OutcomeDeployed {
		t.Fatalf("err %v, outcome %s, reason %q; want deployed: the verify script passes", err, res.Outcome, res.Reason)
	}
	if got, want := tg.historyOf(t), "appschema:applied users:applied"; got != want {
		t.Errorf("history %q, want %q", got, want)
	}

	// A verify script that fails still fails the deploy, ROLLBACK or not.
	tg2 := newTarget(t)
	files = with(sqitchV1, map[string]string{
		"verify/users.sql": "BEGIN;\nSELECT missing FROM app.users WHERE false;\nROLLBACK;\n",
	})
	o = tg2.options(t, sqitchFolder(t, files), "run-verify-fails")
	o.Snapshotter = nil
	res, err = Run(t.Context(), o)
	if err == nil || res.Outcome != OutcomeRolledBack || !strings.Contains(res.Reason, "verify/users.sql") {
		t.Fatalf("err %v, outcome %s, reason %q; want rolled back by the failing verify script", err, res.Outcome, res.Reason)
	}
}
