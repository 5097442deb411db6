package sandbox

import "testing"

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
