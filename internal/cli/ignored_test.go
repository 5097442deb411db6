package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/gate"
)

// ignoreRepo makes a repository whose base (branch main) has one migration and no schemagate.yml, and
// whose head (branch pr, checked out) adds migration with its author's ignore comment. It returns the
// root.
func ignoreRepo(t *testing.T, migration string) string {
	t.Helper()
	return prRepo(t, map[string]string{
		"migrations/1_init.up.sql":   "CREATE TABLE users (id bigint PRIMARY KEY);\n",
		"migrations/1_init.down.sql": "DROP TABLE users;\n",
	}, map[string]string{"migrations/2_x.up.sql": migration})
}

const ignoredAlterSystem = "-- schemagate:ignore alter-system tuning needed\nALTER SYSTEM SET work_mem = 1024;\n"

// TestIgnoredFindingStillNeedsApproval: the author's ignore comment silences a dangerous finding for
// --fail-on, but the default policy (approval.require: risky) still asks for the DBA's approval, and the
// report says what was ignored and why.
func TestIgnoredFindingStillNeedsApproval(t *testing.T) {
	requirePG(t)
	root := ignoreRepo(t, ignoredAlterSystem)
	t.Chdir(root)
	jsonPath := filepath.Join(t.TempDir(), "report.json")
	mdPath := filepath.Join(t.TempDir(), "report.md")
	code, out, errOut := run(t, nil, "check", "--base", "main", "--fail-on", "dangerous", "--report-json", jsonPath, "--report-md", mdPath, "-q")
	if code != ExitOK {
		t.Fatalf("exit %d, want 0 (an ignored finding does not reach --fail-on)\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	var rep struct {
		Risk         string `json:"risk"`
		ApprovalRisk string `json:"approval_risk"`
		Approval     struct {
			Required bool     `json:"required"`
			State    string   `json:"state"`
			Ignored  []string `json:"ignored"`
		} `json:"approval"`
	}
	if err := json.Unmarshal(readFile(t, jsonPath), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Risk != "safe" || rep.ApprovalRisk != "dangerous" || !rep.Approval.Required || rep.Approval.State != gate.Pending {
		t.Errorf("risk %s, approval_risk %s, approval %+v; want safe, dangerous, required and pending", rep.Risk, rep.ApprovalRisk, rep.Approval)
	}
	if len(rep.Approval.Ignored) != 1 || !strings.Contains(rep.Approval.Ignored[0], "alter-system, ignored by the author: tuning needed") {
		t.Errorf("approval.ignored %q, want the alter-system finding and its reason", rep.Approval.Ignored)
	}
	// The finding is named from the repository there too, as in its findings, the annotations and the
	// comment's findings, not from inside the folder (2_x.up.sql:2), which no reader finds.
	const at = "migrations/2_x.up.sql:2: "
	if len(rep.Approval.Ignored) != 1 || !strings.HasPrefix(rep.Approval.Ignored[0], at) || !strings.Contains(out, "counted: "+at) {
		t.Errorf("approval.ignored %q, or the text's counted line, does not name the finding at %s\n%s", rep.Approval.Ignored, at, out)
	}
	if !strings.Contains(out, "DBA approval required") || !strings.Contains(out, "tuning needed") {
		t.Errorf("text output does not say the approval is required and why:\n%s", out)
	}
	if md := string(readFile(t, mdPath)); !strings.Contains(md, "tuning needed") || !strings.Contains(md, "Required") {
		t.Errorf("Markdown does not show the ignored finding to the DBA:\n%s", md)
	}
}

// TestGateCountsIgnoredFindings: the gate's static report (no --report) counts them too.
func TestGateCountsIgnoredFindings(t *testing.T) {
	e := newGateEnv(t, "")
	// Owned by dora, not only by the author (* @Codertocat), whose approval can never come.
	e.s.SetFile(evRepo, ".github/CODEOWNERS", evBase, []byte("* @Codertocat\n/migrations/ @dora\n"))
	root := ignoreRepo(t, ignoredAlterSystem)
	var stdout, stderr strings.Builder
	app := &App{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return e.env[k] }, Version: "test"}
	t.Chdir(root) // no schemagate.yml anywhere: the default policy, and dir migrations
	code := app.Run(t.Context(), []string{"gate", "--base", "main", "--json"})
	var d gate.Decision
	if err := json.Unmarshal([]byte(stdout.String()), &d); err != nil {
		t.Fatalf("exit %d, output not JSON: %v\n%s\n%s", code, err, stdout.String(), stderr.String())
	}
	if d.State != gate.Pending || len(d.Ignored) != 1 {
		t.Errorf("state %s, ignored %q (exit %d); want pending with the ignored finding\n%s", d.State, d.Ignored, code, stderr.String())
	}
}
