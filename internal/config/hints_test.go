package config

import (
	"fmt"
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
		"schemagate.yml:2:3: field rulez not found in section lint (did you mean rules?)",
		"schemagate.yml:5:28: field dirr not found in section snapshot (did you mean dir?)",
		"schemagate.yml:6:5: field windos not found in section environment (did you mean windows?)",
		"schemagate.yml:7:5: field unknown_key not found in section environment\n",
	} {
		if !strings.Contains(msg+"\n", want) {
			t.Errorf("problems lack %q:\n%s", want, msg)
		}
	}
}

// TestUnknownKeySlipsAndMisplacedKeys: in every section, a key with a swapped, missing or extra letter or
// another letter case gets its section's key (short keys such as windw and rulse got none); a key that
// belongs to another section names its path there; every problem still comes at once, with its line.
func TestUnknownKeySlipsAndMisplacedKeys(t *testing.T) {
	t.Parallel()
	src := "lint:\n  rulse: {}\n  Fail_On: never\n  pg_version: 15\n" +
		"environments:\n  prod:\n    windw: []\n    snapshot: {knd: none, keepdays: 2}\n    retires: 2\n    maintenance: {onn: {sql: x}}\n" +
		"approval: {requre: always, dba: [x]}\n" +
		"rules: {}\ndeploy: {windw: x}\nwindos: []\n"
	err := Parse("schemagate.yml", []byte(src), Default())
	if err == nil {
		t.Fatal("want problems")
	}
	want := []string{
		"schemagate.yml:2:3: field rulse not found in section lint (did you mean rules?)",
		"schemagate.yml:3:3: field Fail_On not found in section lint (did you mean fail_on?)",
		"schemagate.yml:4:3: field pg_version not found in section lint (did you mean database.pg_version?)",
		"schemagate.yml:7:5: field windw not found in section environment (did you mean windows?)",
		"schemagate.yml:8:16: field knd not found in section snapshot (did you mean kind?)",
		"schemagate.yml:8:27: field keepdays not found in section snapshot (did you mean keep_days?)",
		"schemagate.yml:9:5: field retires not found in section environment (did you mean retries?)",
		"schemagate.yml:10:19: field onn not found in section maintenance (did you mean on?)",
		"schemagate.yml:11:12: field requre not found in section approval (did you mean require?)",
		"schemagate.yml:11:28: field dba not found in section approval\n", // dba_users or dba_teams: no guess
		"schemagate.yml:12:1: field rules not found at the top level (did you mean lint.rules?)",
		"schemagate.yml:13:1: field deploy not found at the top level (a deploy's settings go under environments.<name>, e.g. environments.prod.windows)",
		"schemagate.yml:14:1: field windos not found at the top level (did you mean environments.<name>.windows?)",
	}
	msg := err.Error() + "\n"
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("problems lack %q:\n%s", w, msg)
		}
	}
	if !strings.HasPrefix(msg, fmt.Sprintf("invalid configuration (%d problems):", len(want))) {
		t.Errorf("want %d problems at once:\n%s", len(want), msg)
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
	if len(ps) != 1 || ps[0].Error() != "schemagate.yml:2:3: environments.prod.snapshot.dir: missing (where pg_dump snapshots go)" {
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
