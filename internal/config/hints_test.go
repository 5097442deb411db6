package config

import (
	"strings"
	"testing"
)

// TestUnknownKeyNamesTheNearest: an unknown key gets the nearest key of its section, as an unknown
// flyway.* setting does; a key close to none gets no guess.
func TestUnknownKeyNamesTheNearest(t *testing.T) {
	t.Parallel()
	src := "lint:\n  rulez: {}\nenvironments:\n  prod:\n    snapshot: {kind: none, dirr: x}\n    windos: []\n    unknown_key: 1\n"
	err := Parse("schemagate.yml", []byte(src), Default())
	if err == nil {
		t.Fatal("want problems")
	}
	msg := err.Error()
	for _, want := range []string{
		"schemagate.yml:2: field rulez not found in section lint (did you mean rules?)",
		"schemagate.yml:5: field dirr not found in section snapshot (did you mean dir?)",
		"schemagate.yml:6: field windos not found in section environment (did you mean windows?)",
		"schemagate.yml:7: field unknown_key not found in section environment\n",
	} {
		if !strings.Contains(msg+"\n", want) {
			t.Errorf("problems lack %q:\n%s", want, msg)
		}
	}
}

// TestEnvironmentWithoutSnapshotDirLoads: snapshot.dir is a deploy's need (DeployProblems), not the
// file's: the window command and check read such a file.
func TestEnvironmentWithoutSnapshotDirLoads(t *testing.T) {
	t.Parallel()
	cfg := Default()
	if err := Parse("schemagate.yml", []byte("environments:\n  prod:\n    time_zone: UTC\n"), cfg); err != nil {
		t.Fatal(err)
	}
	ps := cfg.Place(cfg.Environments["prod"].DeployProblems("prod"))
	if len(ps) != 1 || ps[0].Error() != "schemagate.yml:2: environments.prod.snapshot.dir: missing (where pg_dump snapshots go)" {
		t.Errorf("deploy problems: %v", ps)
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"http://hookuser:hookPASS@127.0.0.1:9/maint?token=QUERYSECRET", "http://hookuser:***@127.0.0.1:9/maint?token=***"},
		{"https://hooks.example.com/services/T0/B0?a=1&b&c=#frag", "https://hooks.example.com/services/T0/B0?a=***&b&c=***"},
		{"https://user@ops.example.com/on", "https://user@ops.example.com/on"},
		{"https://ops.example.com/on", "https://ops.example.com/on"},
		{"http://u:p%zz@host/", "http: (a URL that does not parse)"},
	} {
		if got := RedactURL(c.in); got != c.want {
			t.Errorf("RedactURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	secrets := URLSecrets("http://u:pa%20ss@h/x?token=a%2Bb")
	for _, want := range []string{"pa ss", "a%2Bb", "a+b"} {
		found := false
		for _, s := range secrets {
			found = found || s == want
		}
		if !found {
			t.Errorf("URLSecrets lacks %q: %q", want, secrets)
		}
	}
}
