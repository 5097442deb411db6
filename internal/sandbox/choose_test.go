package sandbox

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestAutoChoice: auto takes the server it is given, then an --image as a request for docker, before
// looking at the machine.
func TestAutoChoice(t *testing.T) {
	for _, c := range []struct {
		opts Options
		want string
	}{
		{Options{DatabaseURL: "postgres://127.0.0.1:1/x"}, "url"},
		{Options{Image: "schemagate/postgres:17"}, "docker"},
		{Options{Image: "schemagate/postgres:17", DatabaseURL: "postgres://127.0.0.1:1/x"}, "url"},
	} {
		p, err := New("auto", c.opts)
		if err != nil || p.Name() != c.want {
			t.Errorf("auto with %+v: %v %v, want %s", c.opts, p, err, c.want)
		}
	}
}

// TestDockerHostThatDoesNotAnswer: a DOCKER_HOST that leads nowhere is an error naming it, not a silent
// fall back to the default socket (testcontainers tries the usual places in turn).
func TestDockerHostThatDoesNotAnswer(t *testing.T) {
	for _, h := range []string{"unix:///nonexistent/docker.sock", "tcp://127.0.0.1:1"} {
		t.Setenv("DOCKER_HOST", h)
		inst, err := NewDocker(Options{Image: "schemagate/postgres:15"}).Start(t.Context())
		if err == nil {
			inst.Close(context.Background())
			t.Fatalf("DOCKER_HOST=%s: started", h)
		}
		if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "DOCKER_HOST="+h) || !strings.Contains(err.Error(), "--provider local") {
			t.Errorf("DOCKER_HOST=%s: %v", h, err)
		}
		if DockerAvailable(t.Context()) {
			t.Errorf("DOCKER_HOST=%s: DockerAvailable says yes", h)
		}
	}
}
