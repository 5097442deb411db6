package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// runnerCommands returns the workflow commands the GitHub Actions runner executes in log, read as
// ActionCommandManager does: a line ends at "\n" or "\r"; a line whose text, leading white space
// trimmed, starts with "::" is a command (::name props::data), else a line holding "##[" anywhere is one
// in the legacy form (##[name props]data); after ::stop-commands::TOKEN, only the command named TOKEN
// (which resumes) is executed. Each command is returned as "name data".
func runnerCommands(log string) []string {
	var cmds []string
	stop := ""
	for _, line := range strings.FieldsFunc(log, func(r rune) bool { return r == '\n' || r == '\r' }) {
		var name, data string
		if l := strings.TrimLeftFunc(line, unicode.IsSpace); strings.HasPrefix(l, "::") {
			info, rest, ok := strings.Cut(l[2:], "::")
			if !ok {
				continue
			}
			name, _, _ = strings.Cut(info, " ")
			data = rest
		} else if _, legacy, ok := strings.Cut(line, "##["); ok {
			info, rest, ok := strings.Cut(legacy, "]")
			if !ok {
				continue
			}
			name, _, _ = strings.Cut(info, " ")
			data = rest
		} else {
			continue
		}
		switch {
		case stop != "" && name != stop:
			continue
		case stop != "":
			stop = ""
		case name == "stop-commands":
			stop = data
		}
		cmds = append(cmds, name+" "+data)
	}
	return cmds
}

// TestActionLogRunsNoQuotedCommand: the action writes workflow commands of its own, so its log is not
// guarded as the other commands' are; what it prints that quotes an input or the pull request must not
// run as a command all the same. Its last error is printed after commands resume, and the runner reads
// the legacy "##[command]" anywhere in a line; the check's error, printed while commands are stopped,
// has its control characters escaped as every text line's are (a file name's ESC [ would colour the
// log).
func TestActionLogRunsNoQuotedCommand(t *testing.T) {
	hostile := "\x1b[31m##[add-mask]x ##[set-output name=risk;]safe"
	folder := func(t *testing.T) string {
		dir := filepath.Join(t.TempDir(), "migrations")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		// Two migrations of one version: the check fails reading them, naming the second.
		for _, name := range []string{"1_a.up.sql", "1_b" + hostile + ".up.sql"} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte("SELECT 1;\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	tests := []struct {
		name string
		env  func(t *testing.T) map[string]string
		code int
		want string // in the printed error
	}{
		{name: "an input in the last error", code: ExitUsage, want: "input fail-on",
			env: func(t *testing.T) map[string]string { return map[string]string{"INPUT_FAIL-ON": hostile} }},
		{name: "a file name in the check's error", code: ExitUsage, want: "duplicate up version 1",
			env: func(t *testing.T) map[string]string {
				dir := folder(t)
				return map[string]string{"INPUT_DIR": dir, "INPUT_PROVIDER": "local", "INPUT_COMMENT": "false",
					"GITHUB_WORKSPACE": filepath.Dir(dir), "INPUT_REPORT-JSON": filepath.Join(filepath.Dir(dir), "report.json")}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := tt.env(t)
			env["GITHUB_ACTIONS"] = "true"
			code, out, errOut := run(t, env, "action")
			if code != tt.code || errOut != "" {
				t.Fatalf("exit %d, want %d, all on stdout\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			printed := false
			for _, l := range strings.Split(out, "\n") {
				printed = printed || strings.HasPrefix(l, "schemagate: ") && strings.Contains(l, tt.want)
			}
			if !printed {
				t.Errorf("the error is not printed:\n%s", out)
			}
			for _, c := range runnerCommands(out) {
				name, data, _ := strings.Cut(c, " ")
				switch name {
				case "stop-commands", "notice":
				case "error":
					if !strings.HasPrefix(data, "schemagate: ") {
						t.Errorf("the runner executes a forged error annotation %q", c)
					}
				default:
					if !isHex(name) { // the token that resumes commands
						t.Errorf("the runner executes %q\n%s", c, out)
					}
				}
			}
			if strings.Contains(out, "\x1b") {
				t.Errorf("an escape sequence reaches the log raw:\n%q", out)
			}
		})
	}
}

func isHex(s string) bool {
	return s != "" && strings.Trim(s, "0123456789abcdef") == ""
}
