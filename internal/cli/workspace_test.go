package cli

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestContainerStepTrustsTheWorkspace runs schemagate the way a container step (`uses:
// docker://ghcr.io/schemagate/schemagate:v1`) runs it: as root, in a repository that belongs to another
// user (the runner's), with GitHub's GITHUB_WORKSPACE for container steps. git refuses such a repository
// ("detected dubious ownership") unless told to trust it, and a --base read failed there. Not parallel:
// schemagate sets GIT_CONFIG_* in its own process, which t.Setenv restores afterwards.
func TestContainerStepTrustsTheWorkspace(t *testing.T) {
	requirePG(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root to give the repository to another user")
	}
	root, base, _ := gitRepo(t)
	if err := filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, 65534, 65534)
	}); err != nil {
		t.Fatal(err)
	}
	// Restored after the test, whatever schemagate sets; unset meanwhile, since the action's tests set
	// them in this process too (action.go trusts the workspace for the rest of its process).
	for _, k := range []string{"GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0"} {
		t.Setenv(k, os.Getenv(k))
		if err := os.Unsetenv(k); err != nil {
			t.Fatal(err)
		}
	}
	mig := filepath.Join(root, "db", "migrations")

	// Outside a container step nothing changes: git's refusal is the error.
	code, _, errOut := run(t, map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": "/home/runner/work/shop/shop"},
		"check", "-q", "--dir", mig, "--base", base)
	if code != ExitUsage || !strings.Contains(errOut, "dubious ownership") {
		t.Fatalf("check outside a container step = %d, stderr %q; want %d and git's dubious ownership", code, errOut, ExitUsage)
	}
	if os.Getenv("GIT_CONFIG_COUNT") != "" {
		t.Fatalf("GIT_CONFIG_COUNT = %q outside a container step, want it unset", os.Getenv("GIT_CONFIG_COUNT"))
	}

	code, out, errOut := run(t, map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": "/github/workspace"},
		"check", "-q", "--dir", mig, "--base", base)
	if code == ExitUsage || strings.Contains(errOut, "dubious") {
		t.Fatalf("check in a container step = %d, stderr %q: git still refuses the workspace", code, errOut)
	}
	// The base's three migrations are history: the two of the head are the new ones.
	if !strings.Contains(out, "0004") || !strings.Contains(out, "0005") || strings.Contains(out, "0003") {
		t.Errorf("check in a container step did not read the base as history:\n%s", out)
	}
}
