package cli

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/report"
)

// TestForgedHeadReachesNoLog: a report's head is a commit id the report's author writes, and so is a
// --sha: text in its place (terminal escapes, a carriage return) is no commit. The gate refuses such a
// report as forged, and every message that names a head shows it escaped, whether on stderr outside
// Actions or in a notice: none of its control characters reaches the log raw.
func TestForgedHeadReachesNoLog(t *testing.T) {
	const hostile = "\x1b[2J\x1b[H\r\x1b[8m"
	noEscape := func(t *testing.T, out string) {
		t.Helper()
		if strings.ContainsAny(out, "\x1b\r") {
			t.Errorf("raw escape in the output: %q", out)
		}
	}
	// Outside Actions: no event names the head, the report's is the only one.
	outsideActions := func(e *gateEnv) {
		for k := range e.env {
			if strings.HasPrefix(k, "GITHUB_") && k != "GITHUB_TOKEN" && k != "GITHUB_API_URL" {
				delete(e.env, k)
			}
		}
	}
	t.Run("gate, report head", func(t *testing.T) {
		e := newGateEnv(t, "approval:\n  require: risky\n")
		outsideActions(e)
		e.gateReport(t, &report.Report{Tool: "schemagate", Dir: "db/migrations", Head: hostile, Migrations: []report.Migration{}})
		code, out, errOut := e.run(t, "--report", e.report, "--repo", evRepo, "--pr", "2")
		noEscape(t, out+errOut)
		if code != ExitUsage || !strings.Contains(errOut, `the report's head "\x1b[2J\x1b[H\r\x1b[8m" is not a commit`) {
			t.Errorf("exit %d, want %d refusing the report's head as no commit\n%s\n%s", code, ExitUsage, out, errOut)
		}
	})
	t.Run("comment, --sha", func(t *testing.T) {
		e := newGateEnv(t, "approval:\n  require: risky\n")
		outsideActions(e)
		var stdout, stderr bytes.Buffer
		app := &App{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return e.env[k] }, Version: "test"}
		code := app.Run(t.Context(), []string{"comment", "--config", filepath.Join(e.dir, "schemagate.yml"), "--report", e.report,
			"--repo", evRepo, "--pr", "2", "--sha", hostile})
		noEscape(t, stdout.String()+stderr.String())
		if code != ExitOK || !strings.Contains(stderr.String(), `the report is for "\x1b[2J\x1b[H\r\x1b[8m": report not posted`) {
			t.Errorf("exit %d, want 0 and the head quoted in the notice\n%s\n%s", code, stdout.String(), stderr.String())
		}
	})
}

func TestShort12(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"full", "ec26c3e57ca3a959ca5aad62de7213c562f8c821", "ec26c3e57ca3"},
		{"short", "ec26c3e", "ec26c3e"},
		{"sha-256", strings.Repeat("ab", 32), "abababababab"},
		{"empty", "", ""},
		{"a test's", "ffff", "ffff"},
		{"escapes", "\x1b[2J\r", `"\x1b[2J\r"`},
		{"bidi", "abc\u202edef", `"abc\u202edef"`},
		{"long text", strings.Repeat("x", 100), `"` + strings.Repeat("x", 40) + `…"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := short12(tc.in); got != tc.want {
				t.Errorf("short12(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}
