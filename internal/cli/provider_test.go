package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/sandbox"
)

// TestRehearsalProviderExit: check and rollback-script give a provider that cannot start the same exit
// code: 1 when this machine can run no throwaway server (no server binaries and no Docker, a Docker
// daemon that does not answer), 2 for a request to change (a --pg-bindir without a server in it).
// rollback-script made every error of choosing the provider exit 2.
func TestRehearsalProviderExit(t *testing.T) {
	// auto on a machine without PostgreSQL server binaries or Docker: sandbox.New says so.
	unavailable := func(string, sandbox.Options) (sandbox.Provider, error) {
		return nil, fmt.Errorf("%w: no throwaway PostgreSQL can start here: no server binaries; no Docker engine answers either", sandbox.ErrUnavailable)
	}
	empty := t.TempDir()
	commands := map[string][]string{
		"check":           {"check", "--dir", "../../examples/shop", "-q"},
		"rollback-script": {"rollback-script", "--dir", "../../examples/shop", "--version", "0001", "-q"},
	}
	for _, tc := range []struct {
		name       string
		args       []string
		newSandbox func(string, sandbox.Options) (sandbox.Provider, error)
		want       int
		wantErr    string
	}{
		{name: "no server binaries and no Docker", newSandbox: unavailable, want: ExitFailure, wantErr: "no throwaway PostgreSQL can start here"},
		{name: "Docker daemon that does not answer", args: []string{"--provider", "docker"}, want: ExitFailure, wantErr: "no Docker daemon answers at DOCKER_HOST=unix:///nonexistent.sock"},
		{name: "pg-bindir without a server", args: []string{"--pg-bindir", empty}, want: ExitUsage, wantErr: "no postgres binary in it"},
	} {
		for _, command := range []string{"check", "rollback-script"} {
			t.Run(tc.name+"/"+command, func(t *testing.T) {
				t.Setenv("DOCKER_HOST", "unix:///nonexistent.sock")
				var out, errOut bytes.Buffer
				app := &App{Stdout: &out, Stderr: &errOut, Stdin: strings.NewReader(""), Version: "test",
					Getenv: func(string) string { return "" }, newSandbox: tc.newSandbox}
				code := app.Run(context.Background(), append(append([]string{}, commands[command]...), tc.args...))
				if code != tc.want || !strings.Contains(errOut.String(), tc.wantErr) {
					t.Errorf("exit %d, want %d saying %q\nstdout: %s\nstderr: %s", code, tc.want, tc.wantErr, out.String(), errOut.String())
				}
			})
		}
	}
}
