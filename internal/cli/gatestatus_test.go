package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/github/githubtest"
	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/report"
)

// TestGateStatusShowsNamesEscaped: the commit status names the pull request's files that nobody may
// approve. A file name with bidi controls (Trojan Source: it reads as ..._comment_only.up.sql) is shown
// with them escaped, as the gate's log shows it, not applied.
func TestGateStatusShowsNamesEscaped(t *testing.T) {
	s := githubtest.New(t)
	s.SetInstallationToken(true)
	name := "orders\u202e\u2066lqs.pu.ylno_tnemmoc\u2069"
	file := "db/migrations/0002_" + name + ".up.sql"
	s.SetFile(evRepo, file, evHead, []byte("ALTER TABLE orders ADD COLUMN c text DEFAULT random()::text;\n"))
	ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: evRepo, Number: 2}, Author: "Codertocat",
		HeadSHA: evHead, BaseSHA: evBase, BaseRef: "master"}, []string{file})
	s.SetFile(evRepo, ".github/CODEOWNERS", evBase, []byte("/docs/ @dora\n")) // no owner of the migrations
	dir := t.TempDir()
	e := &gateEnv{s: s, ref: ref, dir: dir, summary: filepath.Join(dir, "summary.md"), report: filepath.Join(dir, "report.json")}
	e.gateReport(t, &report.Report{Tool: "schemagate", Dir: "db/migrations", Format: "golang-migrate", Migrations: []report.Migration{{
		Version: "0002", Name: name, File: file, Checksum: "c", New: true, Status: report.StatusApplied,
		Findings: []lint.Finding{{Rule: "add-column-volatile-default", Risk: lint.Dangerous, File: file, Line: 1, Column: 1}}}}})
	writeFile(t, filepath.Join(dir, "schemagate.yml"), []byte(withDir("approval:\n  require: risky\n")))
	e.env = map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": githubtest.Token, "GITHUB_API_URL": s.URL(),
		"GITHUB_STEP_SUMMARY": e.summary, "GITHUB_REPOSITORY": evRepo, "GITHUB_RUN_ID": "77", "GITHUB_SERVER_URL": "https://github.com"}
	e.event(t, "pull_request.opened.with-organization.payload.json")
	code, out, errOut := e.run(t, "--report", e.report)
	if code != ExitBlocked {
		t.Fatalf("exit %d, want %d (blocked)\n%s\n%s", code, ExitBlocked, out, errOut)
	}
	st := e.lastStatus(t)
	want := `No one may approve db/migrations/0002_orders\u202e\u2066lqs.pu.ylno_tnemmoc\u2069.up.sql`
	if st.State != "failure" || st.Description != want {
		t.Errorf("status %s %q, want failure %q", st.State, st.Description, want)
	}
	if strings.ContainsAny(st.Description, "\u202e\u2066\u2069") {
		t.Errorf("the status description holds raw bidi controls: %q", st.Description)
	}
}
