package cli

import (
	"os"
	"strings"
	"testing"
)

// completions runs the shell's completion request and returns the candidates (without descriptions)
// and the directive line.
func completions(t *testing.T, args ...string) ([]string, string) {
	t.Helper()
	code, out, errOut := runStdin(t, "", append([]string{"__complete"}, args...)...)
	if code != ExitOK {
		t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var got []string
	for _, l := range lines[:len(lines)-1] {
		got = append(got, strings.SplitN(l, "\t", 2)[0])
	}
	return got, lines[len(lines)-1]
}

// TestFlagCompletions: the flags that take words complete them; --rule completes an id, then its
// class; --env the environments of the schemagate.yml --config names.
func TestFlagCompletions(t *testing.T) {
	t.Chdir(t.TempDir())
	yml := "environments:\n  prod:\n    snapshot: {kind: none}\n  staging:\n    snapshot: {kind: none}\n"
	if err := os.WriteFile("deploy.yml", []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args      []string
		want      string
		directive string
	}{
		{[]string{"lint", "--rule", "set-not"}, "set-not-null= set-not-null-proven=", ":6"},
		{[]string{"check", "--rule", "set-not-null=c"}, "set-not-null=caution", ":4"},
		{[]string{"rules", "--rule", "drop-tab"}, "drop-table=", ":6"},
		{[]string{"check", "--format", "go"}, "golang-migrate goose", ":4"},
		{[]string{"check", "--provider", ""}, "auto local docker url", ":4"},
		{[]string{"lint", "--fail-on", "d"}, "dangerous", ":4"},
		{[]string{"rules", "--class", "o"}, "off", ":4"},
		{[]string{"init", "--ci", "git"}, "github gitlab", ":4"},
		{[]string{"deploy", "--config", "deploy.yml", "--env", ""}, "prod staging", ":4"},
		{[]string{"window", "--env", "p"}, "", ":4"}, // no ./schemagate.yml: nothing to offer
	} {
		got, directive := completions(t, tc.args...)
		if strings.Join(got, " ") != tc.want || directive != tc.directive {
			t.Errorf("%v: %v %s, want %q %s", tc.args, got, directive, tc.want, tc.directive)
		}
	}
}
