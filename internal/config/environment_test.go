package config

import (
	"strings"
	"testing"
	"time"
)

func TestEnvironmentYAML(t *testing.T) {
	t.Parallel()
	src := `
environments:
  production:
    database_url_env: PROD_URL
    time_zone: Europe/Berlin
    windows:
      - cron: "0 22 * * 1-4"
        duration: 2h
    blackouts:
      - {from: 2026-12-21, to: 2027-01-02, reason: freeze}
    outside_window: wait
    max_wait: 3h
    lock_timeout: 5s
    retries: 0
    snapshot: {dir: /backups, jobs: 2, compress: 0, keep: 3}
    maintenance:
      on: {webhook: {url: "https://ops.example.com/m", headers: {Authorization: OPS_TOKEN}}}
      off: {sql: "UPDATE s SET v = 'off'"}
    verify:
      checks:
        - {name: c, sql: "SELECT true"}
`
	cfg := Default()
	if err := Parse("schemagate.yml", []byte(src), cfg); err != nil {
		t.Fatal(err)
	}
	e := cfg.Environments["production"]
	if e == nil || e.Windows[0].Duration != 2*time.Hour || e.MaxWait != 3*time.Hour || *e.Retries != 0 ||
		*e.Snapshot.Compress != 0 || e.Maintenance.On.Webhook.Headers["Authorization"] != "OPS_TOKEN" {
		t.Fatalf("decoded %+v", e)
	}
	if err := e.Validate("production"); err != nil {
		t.Errorf("valid environment: %v", err)
	}
	if got := e.URLEnv("production"); got != "PROD_URL" {
		t.Errorf("URLEnv = %s", got)
	}
	if got := (&Environment{}).URLEnv("eu-west.prod"); got != "SCHEMAGATE_EU_WEST_PROD_DATABASE_URL" {
		t.Errorf("default URLEnv = %s", got)
	}
}

func TestEnvironmentValidate(t *testing.T) {
	t.Parallel()
	e := &Environment{
		TimeZone:      "Mars/Base",
		Windows:       []Window{{Cron: "", Duration: 0}},
		Blackouts:     []Blackout{{From: "2026-02-30", To: "2026-01-01"}},
		OutsideWindow: "maybe",
		Snapshot:      Snapshot{Kind: "command"},
		Maintenance:   Maintenance{On: Action{SQL: "x", Command: "y"}},
		ImportHistory: "schema_migrations; DROP TABLE x",
	}
	err := e.Validate("prod")
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"environments.prod.time_zone: ", "environments.prod.windows.0.cron: missing", "windows.0.duration",
		"blackouts.0.from", "outside_window", "kind command needs", "maintenance.on: set only one", "set both on and off",
		"import_history: want auto, none or a table name"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
