package deploy

import (
	"strings"
	"testing"
)

// TestDeploySqitchVerifyAfterEachChange: sqitch deploy --verify runs a change's verify script right after
// its deploy script, and a failing verify reverts that change before any later change runs. The deploy
// used to run every verify script once all changes were applied: a later change then ran on top of one
// that does not verify (here it fails on the column the verify script looks for), and its error, not the
// verify script's, was the deploy's. Now the verify script of users fails the deploy at users, with its
// file and position; orders does not run, and the run rolls back as after any failed migration.
func TestDeploySqitchVerifyAfterEachChange(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	before := tg.checksums(t)
	files := with(sqitchV1, map[string]string{
		"sqitch.plan":          sqitchPlanV1 + "orders [users] 2024-01-04T00:00:00Z Tester <t@example.com>\n",
		"deploy/users.sql":     "BEGIN;\nCREATE TABLE app.users (id int PRIMARY KEY, nam text);\nCOMMIT;\n",
		"verify/users.sql":     "BEGIN;\nSELECT id,\n       name FROM app.users WHERE false;\nROLLBACK;\n",
		"deploy/orders.sql":    "BEGIN;\nCREATE VIEW app.user_names AS SELECT name FROM app.users;\nCOMMIT;\n",
		"revert/orders.sql":    "BEGIN;\nDROP VIEW app.user_names;\nCOMMIT;\n",
		"verify/orders.sql":    "SELECT name FROM app.user_names WHERE false;\n",
		"verify/appschema.sql": "SELECT 1/count(*) FROM pg_namespace WHERE nspname = 'app';\n",
	})
	o := tg.options(t, sqitchFolder(t, files), "run-verify-each")
	o.Snapshotter = nil
	var progress []string
	o.Progress = func(msg string) { t.Log(msg); progress = append(progress, msg) }
	res, err := runBounded(t, o)
	if err == nil || res.Outcome != OutcomeRolledBack {
		t.Fatalf("err %v, outcome %s; want rolled back", err, res.Outcome)
	}
	if got, want := statuses(res), "appschema:rolled-back users:rolled-back orders:not-run"; got != want {
		t.Errorf("statuses %q, want %q", got, want)
	}
	if got, want := tg.historyOf(t), "appschema:rolled-back users:rolled-back"; got != want {
		t.Errorf("history %q, want %q (orders never ran)", got, want)
	}
	for _, want := range []string{"users", "verify/users.sql", `column "name" does not exist`} {
		if !strings.Contains(res.Reason, want) {
			t.Errorf("reason %q does not say %q", res.Reason, want)
		}
	}
	e := res.Migrations[1].Error
	if e == nil || e.Phase != "verify" || e.File != "verify/users.sql" || e.Line != 3 || e.SQLState != "42703" {
		t.Errorf("users' error %+v, want the verify script's, at verify/users.sql:3", e)
	}
	if res.Migrations[2].Error != nil {
		t.Errorf("orders' error %+v: it never ran", res.Migrations[2].Error)
	}
	// appschema's verify script ran after appschema, and passed; users' failed.
	var checks []string
	for _, c := range res.Verify {
		if strings.HasPrefix(c.Name, "verify ") {
			checks = append(checks, c.Name+":"+map[bool]string{true: "ok", false: "failed"}[c.OK])
		}
	}
	if got, want := strings.Join(checks, " "), "verify verify/appschema.sql:ok verify verify/users.sql:failed"; got != want {
		t.Errorf("verify checks %q, want %q", got, want)
	}
	if after := tg.checksums(t); after != before {
		t.Errorf("the database changed:\n%s\n---\n%s", before, after)
	}
	out := strings.Join(progress, "\n")
	if i, j := strings.Index(out, "applied users"), strings.Index(out, "applying 3/3"); i < 0 || j >= 0 {
		t.Errorf("progress: want users applied and orders never started:\n%s", out)
	}
}
