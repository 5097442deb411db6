package config

import (
	"strings"
	"testing"
)

// TestRuleClassesAnyCase: rule classes in schemagate.yml are read in any letter case, as --rule reads them.
func TestRuleClassesAnyCase(t *testing.T) {
	cfg := Default()
	if err := Parse("schemagate.yml", []byte("lint:\n  rules: {set-not-null: OFF, drop-column: Dangerous, truncate: ' caution ', Prefer-Text: off}\n"), cfg); err != nil {
		t.Fatal(err)
	}
	// The ids too: the rules look their class up by the lower-case id.
	for id, want := range map[string]string{"set-not-null": "off", "drop-column": "dangerous", "truncate": "caution", "prefer-text": "off"} {
		if got := cfg.Lint.Rules[id]; got != want {
			t.Errorf("%s: class %q, want %q", id, got, want)
		}
	}
}

// TestRuleIDTwiceInTwoCases: the same rule in two letter cases is set twice.
func TestRuleIDTwiceInTwoCases(t *testing.T) {
	err := Parse("schemagate.yml", []byte("lint:\n  rules:\n    prefer-text: dangerous\n    Prefer-Text: off\n"), Default())
	if err == nil || !strings.Contains(err.Error(), "schemagate.yml:4:5: lint.rules.Prefer-Text: rule prefer-text is set twice") {
		t.Errorf("err %v", err)
	}
}

// TestZeroDuration: a duration written as a bare 0 ("no limit", as the README writes it) reads as 0s,
// in block and flow style; other zeros stay integers.
func TestZeroDuration(t *testing.T) {
	cfg := Default()
	data := "database:\n  statement_timeout: 0 # no limit\nenvironments:\n  prod: {snapshot: {kind: none}, lock_timeout: 0, retries: 0}\n"
	if err := Parse("schemagate.yml", []byte(data), cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Database.StatementTimeout == nil || *cfg.Database.StatementTimeout != 0 {
		t.Errorf("statement_timeout %v, want 0", cfg.Database.StatementTimeout)
	}
	if env := cfg.Environments["prod"]; env == nil || env.LockTimeout != 0 {
		t.Errorf("prod: %+v", env)
	}
}

// TestChoicesAnyCase: the words a setting chooses from are read in any case; an unknown webhook
// method is an error at load time, not at the deploy.
func TestChoicesAnyCase(t *testing.T) {
	cfg := Default()
	data := "format: Golang-Migrate\ndatabase: {provider: LOCAL}\nlint: {fail_on: Dangerous}\nenvironments:\n" +
		"  prod:\n    outside_window: WAIT\n    max_wait: 2h\n    snapshot: {kind: NONE}\n    windows: [{cron: '0 2 * * *', duration: 1h}]\n" +
		"    maintenance:\n      on: {webhook: {url: 'https://ops.example/on', method: post}}\n      off: {webhook: {url: 'https://ops.example/off'}}\n"
	if err := Parse("schemagate.yml", []byte(data), cfg); err != nil {
		t.Fatal(err)
	}
	env := cfg.Environments["prod"]
	if cfg.Format != "golang-migrate" || cfg.Database.Provider != "local" || cfg.Lint.FailOn != "dangerous" ||
		env.OutsideWindow != "wait" || env.Snapshot.Kind != "none" || env.Maintenance.On.Webhook.Method != "POST" {
		t.Errorf("not normalised: %+v %+v", cfg, env)
	}
	bad := "environments:\n  prod:\n    snapshot: {kind: none}\n    maintenance:\n      on: {webhook: {url: 'https://x/on', method: HEAD}}\n      off: {sql: 'SELECT 1'}\n"
	if err := Parse("schemagate.yml", []byte(bad), Default()); err == nil || !strings.Contains(err.Error(), "webhook.method") {
		t.Errorf("HEAD: %v", err)
	}
}

// TestSecondDocument: settings after a second --- would be lost; they are an error with their line.
func TestSecondDocument(t *testing.T) {
	err := Parse("schemagate.yml", []byte("---\ndir: m\n---\nformat: plain\n"), Default())
	if err == nil || !strings.Contains(err.Error(), "schemagate.yml:3:1: ") || !strings.Contains(err.Error(), "second YAML document") {
		t.Errorf("error %v", err)
	}
	if err := Parse("schemagate.yml", []byte("---\ndir: m\n"), Default()); err != nil {
		t.Errorf("one document with a leading ---: %v", err)
	}
}

// TestFailOnSafe: lint.fail_on takes every value the --fail-on flags take, safe among them (any new
// migration fails).
func TestFailOnSafe(t *testing.T) {
	cfg := Default()
	if err := Parse("schemagate.yml", []byte("lint: {fail_on: safe}\n"), cfg); err != nil || cfg.Lint.FailOn != "safe" {
		t.Errorf("fail_on: safe: %v, %q", err, cfg.Lint.FailOn)
	}
}

// TestPGVersionWithMinor: pg_version takes a major version; 14.2 is an error at its line, not 14.
func TestPGVersionWithMinor(t *testing.T) {
	err := Parse("schemagate.yml", []byte("database:\n  pg_version: 14.2\n"), Default())
	if err == nil || !strings.Contains(err.Error(), "schemagate.yml:2:15: ") || !strings.Contains(err.Error(), "14.2 is not a major version (write 14)") {
		t.Errorf("error %v", err)
	}
	if err := Parse("schemagate.yml", []byte("database:\n  pg_version: 16\n"), Default()); err != nil {
		t.Errorf("16: %v", err)
	}
}

// TestPGVersionNotANumberOfAVersion: a pg_version YAML reads as a float that is no major.minor (1e1, .5,
// a number too large for an int) is refused as no major version, once, without advice to write it
// again as it is ("1e1 is not a major version (write 1e1)" before, and the decoder's error beside it).
func TestPGVersionNotANumberOfAVersion(t *testing.T) {
	for _, v := range []string{"1e1", ".5", "99999999999999999999"} {
		err := Parse("schemagate.yml", []byte("database:\n  pg_version: "+v+"\n"), Default())
		if err == nil || !strings.Contains(err.Error(), "schemagate.yml:2:15: database.pg_version: "+v+" is not a PostgreSQL major version such as 15") {
			t.Errorf("%s: %v", v, err)
			continue
		}
		if strings.Contains(err.Error(), "(write") || strings.Count(err.Error(), "schemagate.yml:2:15") != 1 {
			t.Errorf("%s: %v, want one problem without advice", v, err)
		}
	}
}
