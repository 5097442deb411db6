package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestWindowBackToBack: windows that open as the one before closes never close: schemagate window says
// so, with the end the deploy reads (the horizon, 800 days on), and lists one window without claiming a
// shortage of them.
func TestWindowBackToBack(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "schemagate.yml")
	writeFile(t, cfg, []byte("environments:\n  hourly:\n    windows:\n      - {cron: \"0 * * * *\", duration: 1h}\n"))
	code, out, errOut := runCLI(t, nil, "window", "--env", "hourly", "--config", cfg, "--count", "2", "--now", "2026-12-06T14:47:17Z")
	want := "open now, and stays open for at least 800 days (until 2029-02-13T14:47:17Z): the windows run back to back, and schemagate looks no further ahead\n" +
		"before Fri 2024-09-27 14:47 UTC  to  beyond Tue 2029-02-13 14:47 UTC  (the windows run back to back; UTC 2024-09-27 14:47)\n"
	if code != ExitOK || out != want {
		t.Errorf("window: exit %d\n%s%s\nwant:\n%s", code, out, errOut, want)
	}
}

// TestWindowAcrossTheHorizon: a window that opens before the horizon and closes after it is an ordinary
// one, listed with its end and length, and the windows asked for beyond the horizon are said to be
// missing.
func TestWindowAcrossTheHorizon(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "schemagate.yml")
	writeFile(t, cfg, []byte("environments:\n  nightly:\n    windows:\n      - {cron: \"0 0 * * *\", duration: 3h}\n"))
	code, out, errOut := runCLI(t, nil, "window", "--env", "nightly", "--config", cfg, "--count", "900", "--now", "2026-01-05T01:00:00Z")
	want := "Wed 2028-03-15 00:00 UTC  to  Wed 2028-03-15 03:00 UTC  (3h0m0s; UTC 2028-03-15 00:00)\n" +
		"(only 801 of the 900 windows asked for open in the next two years; schemagate looks no further ahead)\n"
	if code != ExitOK || !strings.HasSuffix(out, want) {
		t.Errorf("window: exit %d\n...%s%s\nwant it to end with:\n%s", code, out[max(0, len(out)-400):], errOut, want)
	}
}
