package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/ci"
	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/github/githubtest"
	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/report"
)

// TestGateSummaryWithinTheRunnersLimit: the gate's job summary keeps to the runner's 1 MiB, with what
// the step wrote before: over it, the runner drops the whole summary. A pull request of 2,300 migrations
// with long names (full of "|", which a table cell doubles) made 2.4 MB of it: every file in the
// requirements table and a note each for the files past the gate's read-back limit. The lists are cut,
// each saying how many it leaves out, and the section ends as it was made to, not cut at the limit.
func TestGateSummaryWithinTheRunnersLimit(t *testing.T) {
	tests := []struct {
		name   string
		files  int
		before int // bytes the step's job summary holds before the gate writes
		want   []string
	}{
		{name: "a few files", files: 2, want: []string{"| `@dora` | `db/migrations/0001_", "`, `db/migrations/0002_"}},
		{name: "thousands of files", files: 2300,
			want: []string{", … and 2280 more files |", "\n- … and 2150 more notes (the gate's output lists them all)\n"}},
		{name: "thousands of files, the summary nearly full", files: 2300, before: ci.MaxSummaryBytes - 30_000,
			want: []string{"\n- … and 1 more owner rule (the gate's --json output lists them all)\n", " more notes (the gate's output lists them all)\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := manyFilesGateEnv(t, tt.files)
			if tt.before > 0 {
				writeFile(t, e.summary, []byte(strings.Repeat(strings.Repeat("x", 99)+"\n", tt.before/100)))
			}
			before := int64(tt.before / 100 * 100)
			code, out, errOut := e.run(t, "--report", e.report)
			if code != ExitPending {
				t.Fatalf("exit = %d, want %d (pending)\nstdout: %.2000s\nstderr: %.2000s", code, ExitPending, out, errOut)
			}
			st, err := os.Stat(e.summary)
			if err != nil {
				t.Fatal(err)
			}
			if st.Size() > ci.MaxSummaryBytes {
				t.Fatalf("the job summary is %d bytes, over the runner's %d: the runner drops it whole", st.Size(), ci.MaxSummaryBytes)
			}
			data, err := os.ReadFile(e.summary)
			if err != nil {
				t.Fatal(err)
			}
			md := string(data[before:])
			if !strings.HasPrefix(md, "### ⏳ DBA approval: pending\n") || !strings.HasSuffix(md, "needs a new approval.</sub>\n\n") ||
				strings.Contains(md, "job summary cut") {
				t.Errorf("the gate's section is not whole:\n%.1000s\n…\n%s", md, md[max(0, len(md)-1000):])
			}
			for _, w := range tt.want {
				if !strings.Contains(md, w) {
					t.Errorf("the gate's section lacks %q:\n%.1000s\n…\n%s", w, md, md[max(0, len(md)-1000):])
				}
			}
			if tt.files < 20 && strings.Contains(md, "… and") {
				t.Errorf("the gate's section leaves something out:\n%s", md)
			}
		})
	}
}

// manyFilesGateEnv is a gate on a pull request of n new migrations, each with a dangerous finding and a
// name of 230 "|", all owned by @dora.
func manyFilesGateEnv(t *testing.T, n int) *gateEnv {
	t.Helper()
	s := githubtest.New(t)
	s.SetInstallationToken(true)
	var files []string
	rep := &report.Report{Tool: "schemagate", Dir: "db/migrations", Format: "golang-migrate"}
	for i := 1; i <= n; i++ {
		name := strings.Repeat("|", 230)
		file := fmt.Sprintf("db/migrations/%04d_%s.up.sql", i, name)
		files = append(files, file)
		s.SetFile(evRepo, file, evHead, fmt.Appendf(nil, "ALTER TABLE orders ADD COLUMN c%d text DEFAULT random()::text;\n", i))
		rep.Migrations = append(rep.Migrations, report.Migration{Version: fmt.Sprintf("%04d", i), Name: name, File: file,
			Checksum: fmt.Sprintf("c%d", i), New: true, Status: report.StatusApplied,
			Findings: []lint.Finding{{Rule: "add-column-volatile-default", Risk: lint.Dangerous, File: file, Line: 1, Column: 1}}})
	}
	ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: evRepo, Number: 2}, Author: "Codertocat",
		HeadSHA: evHead, BaseSHA: evBase, BaseRef: "master"}, files)
	s.SetFile(evRepo, ".github/CODEOWNERS", evBase, []byte("/db/migrations/ @dora\n"))
	rep.Finish()
	dir := t.TempDir()
	e := &gateEnv{s: s, ref: ref, dir: dir, summary: filepath.Join(dir, "summary.md"), report: filepath.Join(dir, "report.json")}
	writeFile(t, e.report, mustJSON(t, rep))
	writeFile(t, filepath.Join(dir, "schemagate.yml"), []byte(withDir("approval:\n  require: risky\n")))
	e.env = map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": githubtest.Token, "GITHUB_API_URL": s.URL(),
		"GITHUB_STEP_SUMMARY": e.summary, "GITHUB_REPOSITORY": evRepo, "GITHUB_RUN_ID": "77", "GITHUB_SERVER_URL": "https://github.com"}
	e.event(t, "pull_request.opened.with-organization.payload.json")
	return e
}
