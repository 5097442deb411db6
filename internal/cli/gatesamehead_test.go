package cli

import (
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/github"
	"github.com/schemagate/schemagate/internal/forge/github/githubtest"
	"github.com/schemagate/schemagate/internal/gate"
	"github.com/schemagate/schemagate/internal/report"
)

// releaseBase is the base commit of the harness branch opened a second time, against release/1.x.
const releaseBase = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"

// sameHeadPull opens the harness's branch (pull request #2's head) a second time, as #8 against
// release/1.x, changing files there.
func (e *gateEnv) sameHeadPull(t *testing.T, files ...string) forge.Ref {
	t.Helper()
	ref := e.s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: evRepo, Number: 8}, Title: "Backport", Author: "Codertocat",
		HeadSHA: evHead, BaseSHA: releaseBase, BaseRef: "release/1.x", HeadBranch: "feature-2"}, files)
	e.s.SetFile(evRepo, ".github/CODEOWNERS", releaseBase, []byte("* @Codertocat\n/db/migrations/ @dora\n"))
	return ref
}

// TestGateSameHeadNeedsEachApproval: GitHub keeps the commit status per commit, so a branch opened
// against main (#2) and release/1.x (#8) shows one schemagate/dba-approval in both. The DBA's approval
// of #2 must not turn it green while #8, which nobody approved, is open: whichever gate ran last
// decided it for both.
func TestGateSameHeadNeedsEachApproval(t *testing.T) {
	e := newGateEnv(t, "approval:\n  require: risky\n")
	release := e.sameHeadPull(t, "db/migrations/002_orders_status.up.sql", "db/migrations/002_orders_status.down.sql")
	e.s.Expect("GET /repos/{owner}/{repo}/commits/{sha}/pulls")
	e.s.Expect("GET /repos/{owner}/{repo}/pulls")

	if code, out, errOut := e.run(t, "--report", e.report, "--repo", evRepo, "--pr", "8"); code != ExitPending {
		t.Fatalf("gate of #8 exit = %d, want %d\n%s\n%s", code, ExitPending, out, errOut)
	}
	if st := e.lastStatus(t); st.State != "pending" {
		t.Fatalf("status after #8's gate = %+v, want pending", st)
	}

	// A DBA approves #2 at the head; its gate runs last.
	e.s.AddReview(e.ref, forge.Review{Author: "dora", State: "APPROVED", CommitSHA: evHead})
	code, out, errOut := e.run(t, "--report", e.report)
	if code != ExitPending {
		t.Errorf("gate of #2 exit = %d, want %d: the status it sets is #8's too\n%s\n%s", code, ExitPending, out, errOut)
	}
	st := e.lastStatus(t)
	if st.State != "pending" || st.Description != "#8 has the same head and needs its own DBA approval" {
		t.Errorf("status after #2's gate = %+v, want pending naming #8", st)
	}
	if !strings.Contains(out, "approved — approved by dora") || !strings.Contains(out, "the commit status stays pending: #8 has the same head") {
		t.Errorf("stdout = %q, want #2's own approval and why the status stays pending", out)
	}
	// #2's own approval is recorded for the deploy: it is its own decision.
	f, err := github.New(github.Options{Token: githubtest.Token, BaseURL: e.s.URL(), FallbackLogin: github.ActionsBotLogin})
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := gate.LatestApproval(t.Context(), f, e.ref); err != nil || rec.State != gate.Approved {
		t.Errorf("record of #2 = %+v, %v, want approved", rec, err)
	}

	// Once #8 is approved too, either gate sets success.
	e.s.AddReview(release, forge.Review{Author: "dora", State: "APPROVED", CommitSHA: evHead})
	if code, out, errOut := e.run(t, "--report", e.report, "--repo", evRepo, "--pr", "8"); code != ExitOK {
		t.Errorf("gate of #8 after its approval exit = %d, want 0\n%s\n%s", code, out, errOut)
	}
	if st := e.lastStatus(t); st.State != "success" {
		t.Errorf("status after #8's approval = %+v, want success", st)
	}
	if code, out, errOut := e.run(t, "--report", e.report); code != ExitOK {
		t.Errorf("gate of #2 after #8's approval exit = %d, want 0\n%s\n%s", code, out, errOut)
	}
	if st := e.lastStatus(t); st.State != "success" || st.Description != "Approved by dora" {
		t.Errorf("status after both approvals = %+v, want success by dora", st)
	}
}

// TestGateSameHeadOthers: what another open pull request with the head asks of the status, besides its
// own approval.
func TestGateSameHeadOthers(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		files  []string
		setup  func(t *testing.T, e *gateEnv)
		code   int
		state  string
		desc   string
	}{
		{name: "changes no migration file against its base", policy: "approval:\n  require: risky\n",
			files: []string{"README.md"}, code: ExitOK, state: "success", desc: "Approved by dora"},
		{name: "this run's migrations, at this run's risk", policy: "approval:\n  require: risky\n",
			files: []string{"db/migrations/002_orders_status.up.sql", "db/migrations/002_orders_status.down.sql"}, setup: safeOnly,
			code: ExitOK, state: "success", desc: "Not required: risk is safe"},
		{name: "other migrations, whose risk this run did not measure", policy: "approval:\n  require: risky\n",
			files: []string{"db/migrations/001_init.up.sql", "db/migrations/002_orders_status.up.sql"}, setup: safeOnly,
			code: ExitPending, state: "pending", desc: "#8 has the same head and needs its own DBA approval"},
		{name: "the token may not list pull requests", policy: "approval:\n  require: risky\n",
			files: []string{"db/migrations/002_orders_status.up.sql"}, setup: func(t *testing.T, e *gateEnv) { e.s.SetPullListForbidden(true) },
			code: ExitPending, state: "pending", desc: "cannot list the pull requests with the same head: the token may not list pull requests"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newGateEnv(t, tt.policy)
			e.sameHeadPull(t, tt.files...)
			if tt.setup != nil {
				tt.setup(t, e)
			}
			e.s.AddReview(e.ref, forge.Review{Author: "dora", State: "APPROVED", CommitSHA: evHead})
			code, out, errOut := e.run(t, "--report", e.report)
			if code != tt.code {
				t.Errorf("exit = %d, want %d\n%s\n%s", code, tt.code, out, errOut)
			}
			if st := e.lastStatus(t); st.State != tt.state || !strings.HasPrefix(st.Description, tt.desc) {
				t.Errorf("status = %+v, want %s %q", st, tt.state, tt.desc)
			}
		})
	}
}

// safeOnly makes the harness's migration a safe one, which approval.require risky lets through.
func safeOnly(t *testing.T, e *gateEnv) {
	e.s.SetFile(evRepo, "db/migrations/002_orders_status.up.sql", evHead, []byte("SET lock_timeout = '2s';\nSET statement_timeout = '30s';\nCREATE TABLE audit (id bigint);\n"))
	e.s.SetFile(evRepo, "db/migrations/002_orders_status.down.sql", evHead, []byte("DROP TABLE audit;\n"))
	writeFile(t, e.report, e.reportBytes(t, func(r *report.Report) {
		r.Migrations[1].Findings = nil
		r.Finish()
	}))
}
