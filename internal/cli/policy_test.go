package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/gate"
)

func TestEnforceBasePolicy(t *testing.T) {
	parse := func(t *testing.T, y string) *config.Config {
		t.Helper()
		cfg := config.Default()
		if err := config.Parse("schemagate.yml", []byte(y), cfg); err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	tests := []struct {
		name, base, head string
		flags            policyFlags // what the command line decides
		check            func(*config.Config) bool
		notes            []string // substrings of the notes, in order; none when empty
	}{
		{name: "require never is ignored", base: "", head: "approval:\n  require: never\n",
			check: func(c *config.Config) bool { return c.Approval.RequireLevel() == "risky" }, notes: []string{"approval.require to never"}},
		{name: "require always tightens", base: "approval:\n  require: dangerous\n", head: "approval:\n  require: always\n",
			check: func(c *config.Config) bool { return c.Approval.RequireLevel() == "always" }},
		{name: "a rule turned off", base: "", head: "lint:\n  rules:\n    drop-table: off\n    prefer-text: dangerous\n",
			check: func(c *config.Config) bool {
				_, off := c.Lint.Rules["drop-table"]
				return !off && c.Lint.Rules["prefer-text"] == "dangerous"
			}, notes: []string{"lint.rules.drop-table to off"}},
		{name: "a base class removed", base: "lint:\n  rules:\n    json-column: dangerous\n", head: "",
			check: func(c *config.Config) bool { return c.Lint.Rules["json-column"] == "dangerous" }, notes: []string{"lint.rules.json-column"}},
		{name: "fail_on lowered", base: "lint:\n  fail_on: caution\n", head: "lint:\n  fail_on: dangerous\n",
			check: func(c *config.Config) bool { return c.Lint.FailOn == "caution" }, notes: []string{"lint.fail_on to dangerous"}},
		{name: "fewer approvals, no stale, more DBAs", base: "approval:\n  approvals: 2\n  dba_users: [dora]\n",
			head: "approval:\n  approvals: 1\n  stale_on_push: false\n  dba_users: [dora, mallory]\n  codeowners_path: docs/OWNERS\n",
			check: func(c *config.Config) bool {
				return c.Approval.Needed() == 2 && c.Approval.Stale() && strings.Join(c.Approval.DBAUsers, ",") == "dora" && c.Approval.CodeownersPath == ""
			}, notes: []string{"approval.approvals", "approval.stale_on_push", "approval.dba_users", "approval.codeowners_path"}},
		{name: "environments that cover the timeouts", base: "",
			head:  "environments:\n  prod:\n    lock_timeout: 3s\n    snapshot: {dir: /tmp}\n",
			check: func(c *config.Config) bool { return deployTimeouts(c) == nil }, notes: []string{"deploy timeouts"}},
		{name: "deploy timeouts turned off tightens", base: "environments:\n  prod:\n    lock_timeout: 3s\n    snapshot: {dir: /tmp}\n",
			head:  "environments:\n  prod:\n    lock_timeout: 3s\n    snapshot: {dir: /tmp}\nlint:\n  deploy_timeouts: false\n",
			check: func(c *config.Config) bool { return deployTimeouts(c) == nil }},
		{name: "a newer server", base: "database:\n  pg_version: 13\n", head: "database:\n  pg_version: 17\n",
			check: func(c *config.Config) bool { return c.Database.PGVersion == 13 }, notes: []string{"database.pg_version"}},
		{name: "a newer server and its image", base: "database:\n  pg_version: 15\n  image: schemagate/postgres:15\n",
			head: "database:\n  pg_version: 17\n  image: schemagate/postgres:17\n",
			check: func(c *config.Config) bool {
				return c.Database.PGVersion == 15 && c.Database.Image == "schemagate/postgres:15"
			}, notes: []string{"database.pg_version to 17", "database.image to schemagate/postgres:17: ignored, schemagate/postgres:15"}},
		{name: "a newer server and an image, the base's default", base: "database:\n  pg_version: 14\n",
			head:  "database:\n  pg_version: 15\n  image: schemagate/postgres:15\n",
			check: func(c *config.Config) bool { return c.Database.PGVersion == 14 && c.Database.Image == "" },
			notes: []string{"database.pg_version to 15", "database.image to schemagate/postgres:15: ignored, its default (postgres:14)"}},
		{name: "a newer server, --image decides the image", base: "database:\n  pg_version: 15\n  image: schemagate/postgres:15\n",
			head: "database:\n  pg_version: 17\n  image: schemagate/postgres:17\n", flags: policyFlags{image: true},
			check: func(c *config.Config) bool {
				return c.Database.PGVersion == 15 && c.Database.Image == "schemagate/postgres:17"
			}, notes: []string{"database.pg_version to 17"}},
		{name: "another image, the same server", base: "database:\n  pg_version: 15\n  image: postgres:15\n",
			head:  "database:\n  pg_version: 15\n  image: schemagate/postgres:15\n",
			check: func(c *config.Config) bool { return c.Database.Image == "schemagate/postgres:15" }},
		{name: "a newer server, --pg-version decides", base: "database:\n  pg_version: 13\n", head: "database:\n  pg_version: 17\n",
			flags: policyFlags{pgVersion: true}, check: func(c *config.Config) bool { return c.Database.PGVersion == 17 }},
		{name: "a newer server and its image, --pg-version decides", base: "database:\n  pg_version: 15\n  image: schemagate/postgres:15\n",
			head: "database:\n  pg_version: 17\n  image: schemagate/postgres:17\n", flags: policyFlags{pgVersion: true},
			check: func(c *config.Config) bool {
				return c.Database.PGVersion == 17 && c.Database.Image == "schemagate/postgres:17"
			}},
		{name: "another folder", base: "dir: db/migrations\n", head: "dir: db/empty\n",
			check: func(c *config.Config) bool { return c.Dir == "db/migrations" }, notes: []string{"dir to db/empty"}},
		{name: "fail_on safe lowered", base: "lint:\n  fail_on: safe\n", head: "lint:\n  fail_on: never\n",
			check: func(c *config.Config) bool { return c.Lint.FailOn == "safe" }, notes: []string{"lint.fail_on to never: ignored, safe"}},
		{name: "fail_on safe removed", base: "lint:\n  fail_on: safe\n", head: "",
			check: func(c *config.Config) bool { return c.Lint.FailOn == "safe" }, notes: []string{"lint.fail_on to never"}},
		{name: "fail_on tightened to safe", base: "lint:\n  fail_on: dangerous\n", head: "lint:\n  fail_on: safe\n",
			check: func(c *config.Config) bool { return c.Lint.FailOn == "safe" }},
		{name: "another folder than the default", base: "", head: "dir: other\n",
			check: func(c *config.Config) bool { return c.Dir == "" }, notes: []string{"dir to other: ignored, migrations"}},
		{name: "the default folder named", base: "", head: "dir: ./migrations/\n",
			check: func(c *config.Config) bool { return c.Dir == "./migrations/" }},
		{name: "the default folder again", base: "dir: db/migrations\n", head: "",
			check: func(c *config.Config) bool { return c.Dir == "db/migrations" }, notes: []string{"dir to its default: ignored, db/migrations"}},
		{name: "another folder, --dir decides", base: "dir: db/migrations\n", head: "dir: db/empty\n", flags: policyFlags{dir: true},
			check: func(c *config.Config) bool { return c.Dir == "db/empty" }},
		{name: "the same policy", base: "approval:\n  require: dangerous\nlint:\n  rules:\n    prefer-text: off\n",
			head: "approval:\n  require: dangerous\nlint:\n  rules:\n    prefer-text: off\n",
			check: func(c *config.Config) bool {
				return c.Approval.RequireLevel() == "dangerous" && c.Lint.Rules["prefer-text"] == "off"
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head, base := parse(t, tt.head), parse(t, tt.base)
			notes := enforceBasePolicy(head, base, "schemagate.yml", "schemagate.yml at main", tt.flags).notes
			if !tt.check(head) {
				t.Errorf("policy after the base's say: %+v", head)
			}
			if len(notes) != len(tt.notes) {
				t.Fatalf("notes %q, want %d naming %q", notes, len(tt.notes), tt.notes)
			}
			for i, n := range tt.notes {
				if !strings.Contains(notes[i], n) || !strings.Contains(notes[i], "ignored") {
					t.Errorf("note %q, want it to name %q", notes[i], n)
				}
			}
		})
	}
}

// policyRepo makes a repository whose base commit (branch main) has policy as schemagate.yml and one
// migration, and whose head (branch pr, checked out) adds a DROP TABLE and replaces schemagate.yml
// with headPolicy. It returns the root.
func policyRepo(t *testing.T, policy, headPolicy string) string {
	t.Helper()
	base := map[string]string{
		"db/migrations/001_init.up.sql":   "CREATE TABLE users (id bigint PRIMARY KEY);\nCREATE TABLE audit (id bigint PRIMARY KEY);\n",
		"db/migrations/001_init.down.sql": "DROP TABLE audit;\nDROP TABLE users;\n",
	}
	if policy != "" {
		base["schemagate.yml"] = policy
	}
	return prRepo(t, base, map[string]string{
		"db/migrations/002_drop_audit.up.sql":   "DROP TABLE audit;\n",
		"db/migrations/002_drop_audit.down.sql": "CREATE TABLE audit (id bigint PRIMARY KEY);\n",
		"schemagate.yml":                        headPolicy,
	})
}

const loosening = "approval:\n  require: never\nlint:\n  fail_on: never\n  rules:\n    drop-table: off\n"

// TestCheckPolicyFromBase: a pull request that turns the approval and the DROP TABLE rule off in its
// own schemagate.yml still needs the approval the base's policy asks for, and the report says why.
func TestCheckPolicyFromBase(t *testing.T) {
	requirePG(t)
	root := policyRepo(t, "lint:\n  fail_on: dangerous\n", loosening)
	jsonPath := filepath.Join(t.TempDir(), "report.json")
	code, out, errOut := run(t, nil, "check", "--config", filepath.Join(root, "schemagate.yml"), "--dir", filepath.Join(root, "db", "migrations"),
		"--base", "main", "--report-json", jsonPath, "-q")
	if code != ExitBlocked || !strings.Contains(out, "reaches fail_on dangerous (schemagate.yml at main)") || !strings.Contains(errOut, "reaches fail_on dangerous (schemagate.yml at main)") {
		t.Errorf("exit %d, want %d (the base's fail_on: dangerous)\nstdout:\n%s\nstderr:\n%s", code, ExitBlocked, out, errOut)
	}
	var rep struct {
		Risk     string
		Notes    []string
		Approval struct{ Required bool }
	}
	if err := json.Unmarshal(readFile(t, jsonPath), &rep); err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(rep.Notes, "\n")
	if rep.Risk != "dangerous" || !rep.Approval.Required {
		t.Errorf("risk %s, approval required %v; want dangerous and required", rep.Risk, rep.Approval.Required)
	}
	for _, want := range []string{"approval.require to never", "lint.rules.drop-table to off", "lint.fail_on to never"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}

	// Without a base the working tree's file is the policy, as before.
	code, out, errOut = run(t, nil, "check", "--config", filepath.Join(root, "schemagate.yml"), "--dir", filepath.Join(root, "db", "migrations"),
		"--report-json", jsonPath, "-q")
	if code != ExitOK {
		t.Errorf("without --base: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// TestGatePolicyFromBase: the gate reads its policy from the base too, with git when the clone has the
// base commit; tightening in the change applies.
func TestGatePolicyFromBase(t *testing.T) {
	for _, tt := range []struct {
		name, base, head string
		want             string
	}{
		{name: "loosened", base: "approval:\n  require: risky\n", head: loosening, want: gate.Pending},
		{name: "no file at the base", base: "", head: loosening, want: gate.Pending},
		{name: "tightened", base: "approval:\n  require: never\n", head: "approval:\n  require: always\n", want: gate.Pending},
		{name: "unchanged never", base: "approval:\n  require: never\n", head: "approval:\n  require: never\n", want: gate.NotRequired},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newGateEnv(t, "")
			root := policyRepo(t, tt.base, tt.head)
			// The pull request's base commit on the forge is the clone's main.
			e.s.SetFile(evRepo, "schemagate.yml", evBase, []byte(tt.base))
			var stdout, stderr strings.Builder
			app := &App{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return e.env[k] }, Version: "test"}
			code := app.Run(t.Context(), []string{"gate", "--config", filepath.Join(root, "schemagate.yml"),
				"--dir", filepath.Join(root, "db", "migrations"), "--base", "main", "--json"})
			var d gate.Decision
			if err := json.Unmarshal([]byte(stdout.String()), &d); err != nil {
				t.Fatalf("exit %d, output not JSON: %v\n%s\n%s", code, err, stdout.String(), stderr.String())
			}
			if d.State != tt.want {
				t.Errorf("state %s (exit %d), want %s\n%s\n%s", d.State, code, tt.want, stdout.String(), stderr.String())
			}
			if tt.name == "loosened" && !strings.Contains(strings.Join(d.Notes, "\n"), "approval.require to never: ignored") {
				t.Errorf("notes %q lack the ignored approval.require", d.Notes)
			}
		})
	}
}

// TestGatePolicyThroughTheForge: when the clone lacks the base commit of the event, the base's
// schemagate.yml is read through the forge, as CODEOWNERS is.
func TestGatePolicyThroughTheForge(t *testing.T) {
	e := newGateEnv(t, "")
	e.s.SetFile(evRepo, "schemagate.yml", evBase, []byte("approval:\n  require: risky\n"))
	root := policyRepo(t, "", loosening)
	var stdout, stderr strings.Builder
	app := &App{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return e.env[k] }, Version: "test"}
	code := app.Run(t.Context(), []string{"gate", "--config", filepath.Join(root, "schemagate.yml"), "--dir", filepath.Join(root, "db", "migrations")})
	if code != ExitPending || !strings.Contains(stdout.String(), "approval.require to never: ignored, risky (from schemagate.yml at "+evBase[:12]+")") {
		t.Errorf("exit %d, want %d with a note on the ignored approval.require\n%s\n%s", code, ExitPending, stdout.String(), stderr.String())
	}
}

// TestGatePolicyOfTheBaseBranchHead: the base the gate is given (--base, the event's base.sha, which a
// re-run keeps from when the event fired) may be older than the pull request's base branch as the
// forge reports it now; a policy the base branch has tightened since holds.
func TestGatePolicyOfTheBaseBranchHead(t *testing.T) {
	e := newGateEnv(t, "")
	root := policyRepo(t, "approval:\n  require: never\n", "approval:\n  require: never\n")
	e.s.SetFile(evRepo, "schemagate.yml", evBase, []byte("approval:\n  require: always\n"))
	var stdout, stderr strings.Builder
	app := &App{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return e.env[k] }, Version: "test"}
	code := app.Run(t.Context(), []string{"gate", "--config", filepath.Join(root, "schemagate.yml"),
		"--dir", filepath.Join(root, "db", "migrations"), "--base", "main", "--no-status", "--no-record"})
	want := "approval.require to never: ignored, always (from schemagate.yml at " + evBase[:12] + ", the head of the target branch)"
	if code != ExitPending || !strings.Contains(stdout.String(), want) {
		t.Errorf("exit %d, want %d with %q\n%s\n%s", code, ExitPending, want, stdout.String(), stderr.String())
	}
}
