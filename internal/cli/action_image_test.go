package cli

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/github/githubtest"
)

// TestActionImage builds the action image from the repository's Dockerfile (base images substituted by
// scripts/test-action-image.sh) and runs it the way the GitHub runner runs a container action: inputs
// as INPUT_* variables, the pull_request payload at /github/workflow/event.json, the workspace at
// /github/workspace owned by another user, file commands under /github/file_commands and the Docker
// socket mounted. The comment must reach the fake GitHub API and the outputs must be written.
func TestActionImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a container image")
	}
	if err := exec.Command("docker", "info").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("docker is required under CI: %v", err)
		}
		t.Skipf("docker not available: %v", err)
	}
	var image string
	if prebuilt := os.Getenv("SCHEMAGATE_ACTION_IMAGE"); prebuilt != "" {
		image = prebuilt // already built by scripts/test-action-image.sh
	} else {
		image = actionImageTag(t)
		build := exec.Command("bash", filepath.Join("..", "..", "scripts", "test-action-image.sh"), image)
		var buildErr bytes.Buffer
		build.Stderr = &buildErr
		if out, err := build.Output(); err != nil || strings.TrimSpace(string(out)) != image {
			t.Fatalf("build image: %v (%q)\n%s", err, out, buildErr.String())
		}
	}

	root, base, head := gitRepo(t)
	if os.Geteuid() == 0 { // the runner's workspace belongs to the runner user, not to the container's root
		_ = filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
			if err == nil {
				err = os.Lchown(p, 1001, 1001)
			}
			return err
		})
	}
	fake := githubtest.New(t)
	fake.SetInstallationToken(true)
	ref := fake.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: actionRepo}, HeadSHA: head, BaseSHA: base, BaseRef: "main"}, nil)
	workflow, fileCmds, temp := t.TempDir(), t.TempDir(), t.TempDir()
	prEvent(t, workflow, ref.Number, base, head, actionRepo)
	for _, f := range []string{"set_output_1", "step_summary_1"} {
		if err := os.WriteFile(filepath.Join(fileCmds, f), nil, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{
		"INPUT_DIR": "db/migrations", "INPUT_PROVIDER": "local", "INPUT_FAIL-ON": "never", "INPUT_COMMENT": "true",
		"INPUT_REPORT-JSON": "schemagate-report.json", "INPUT_GITHUB-TOKEN": githubtest.Token,
		"INPUT_FORMAT": "", "INPUT_CONFIG": "", "INPUT_BASE": "", "INPUT_PG-VERSION": "", "INPUT_IMAGE": "", "INPUT_DATABASE-URL": "",
		"HOME": "/github/home", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": "/github/workflow/event.json",
		"GITHUB_WORKSPACE": "/github/workspace", "GITHUB_OUTPUT": "/github/file_commands/set_output_1",
		"GITHUB_STEP_SUMMARY": "/github/file_commands/step_summary_1", "GITHUB_REPOSITORY": actionRepo,
		"GITHUB_RUN_ID": "99", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_API_URL": fake.URL(),
		"RUNNER_TEMP": "/github/runner_temp", "GITHUB_ACTIONS": "true", "CI": "true",
	}
	args := []string{"run", "--rm", "--workdir", "/github/workspace", "--network", "host"}
	cmdEnv := os.Environ()
	for k, v := range env {
		args = append(args, "-e", k) // the runner passes names; the values come from the docker CLI's environment
		cmdEnv = append(cmdEnv, k+"="+v)
	}
	args = append(args,
		"-v", "/var/run/docker.sock:/var/run/docker.sock",
		"-v", temp+":/github/runner_temp",
		"-v", t.TempDir()+":/github/home",
		"-v", workflow+":/github/workflow",
		"-v", fileCmds+":/github/file_commands",
		"-v", root+":/github/workspace",
		image, "action")
	cmd := exec.Command("docker", args...)
	cmd.Env = cmdEnv
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("docker run: %v\n%s", err, out)
	}
	cs := fake.Comments(ref)
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "<!-- schemagate:comment dir=db/migrations -->") || !strings.Contains(cs[0].Body, "0004") {
		t.Fatalf("comments = %+v\nlog:\n%s", cs, out)
	}
	outs := readOutputs(t, filepath.Join(fileCmds, "set_output_1"))
	if outs["risk"] != "dangerous" || outs["new-migrations"] != "2" || outs["report-json"] != "schemagate-report.json" {
		t.Errorf("outputs = %v\nlog:\n%s", outs, out)
	}
	var rep struct{ Database struct{ Network string } }
	if b, err := os.ReadFile(filepath.Join(root, "schemagate-report.json")); err != nil {
		t.Errorf("report not in the workspace: %v", err)
	} else if json.Unmarshal(b, &rep) != nil || rep.Database.Network != "shared" || !bytes.Contains(out, []byte("sharing the network schemagate runs in")) {
		// A container without CAP_SYS_ADMIN, where Docker's seccomp profile refuses new namespaces, as
		// GitHub runs the action: the local server starts anyway, sharing the network, and says so.
		t.Errorf("the report and the log do not say the local server shared the container's network:\n%s\nlog:\n%s", b, out)
	}
	if b, _ := os.ReadFile(filepath.Join(fileCmds, "step_summary_1")); !bytes.Contains(b, []byte("| Version | Name |")) {
		t.Errorf("job summary not written:\n%s", b)
	}
}

// actionImageTag is a tag for the action image that no other run uses, removed when t ends, passed or
// failed: two runs at once (helpers in worktrees of their own, CI beside a developer) built and ran one
// shared tag, schemagate/action:test, each the other's image. The image goes with its tag unless
// another tag names it (the script's build of the same context may have been tagged twice).
func actionImageTag(t *testing.T) string {
	t.Helper()
	tag := "schemagate/action:test-" + strings.ToLower(rand.Text()[:12])
	t.Cleanup(func() {
		if out, err := exec.Command("docker", "image", "rm", tag).CombinedOutput(); err != nil && !strings.Contains(string(out), "No such image") {
			t.Errorf("remove the test's action image %s: %v\n%s", tag, err, out)
		}
	})
	return tag
}

// TestActionImageTagIsTheRunsOwn: each run of TestActionImage gets a tag of its own, and the image is
// gone once the test ends, also when it fails.
func TestActionImageTagIsTheRunsOwn(t *testing.T) {
	if err := exec.Command("docker", "info").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("docker is required under CI: %v", err)
		}
		t.Skipf("docker not available: %v", err)
	}
	var tags []string
	for _, fail := range []bool{false, true} {
		t.Run(fmt.Sprintf("failed %v", fail), func(t *testing.T) {
			tag := actionImageTag(t)
			tags = append(tags, tag)
			// An image of an empty file system: made offline, in no time.
			imp := exec.Command("docker", "import", "-", tag)
			imp.Stdin = emptyTar(t)
			if out, err := imp.CombinedOutput(); err != nil {
				t.Fatalf("docker import: %v\n%s", err, out)
			}
			if fail {
				t.Skip("ends the test early, as a failure does") // runs the cleanups as Fatal would
			}
		})
	}
	if len(tags) != 2 || tags[0] == tags[1] || slices.Contains(tags, "schemagate/action:test") {
		t.Errorf("tags %q: want two of their own", tags)
	}
	for _, tag := range tags {
		if exec.Command("docker", "image", "inspect", tag).Run() == nil {
			t.Errorf("image %s is still there after its test", tag)
			exec.Command("docker", "image", "rm", tag).Run()
		}
	}
}

// emptyTar is a tar archive of nothing.
func emptyTar(t *testing.T) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	if err := tar.NewWriter(&b).Close(); err != nil {
		t.Fatal(err)
	}
	return &b
}
