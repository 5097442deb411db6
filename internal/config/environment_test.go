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

func TestEnvironmentHistorySchemaAndDurations(t *testing.T) {
	for _, c := range []struct {
		schema string
		want   string // "" for valid
	}{
		{"schemagate", ""}, {"SchemaGate", ""}, {"ops_deploy$1", ""},
		{"public", "holds application or system objects"}, {"PUBLIC", "holds application or system objects"},
		{"pg_catalog", "holds application or system objects"}, {"information_schema", "holds application or system objects"},
		{"a b", "not a plain identifier"}, {`x";DROP`, "not a plain identifier"}, {"sg.*", "not a plain identifier"},
		{strings.Repeat("s", 64), "not a plain identifier"},
	} {
		e := &Environment{HistorySchema: c.schema, Snapshot: Snapshot{Kind: "none"}}
		err := e.Validate("prod")
		switch {
		case c.want == "" && err != nil:
			t.Errorf("history_schema %q: %v", c.schema, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), "environments.prod.history_schema: ") || !strings.Contains(err.Error(), c.want)):
			t.Errorf("history_schema %q: got %v, want %q", c.schema, err, c.want)
		}
	}
	e := &Environment{Snapshot: Snapshot{Kind: "none"}, LockTimeout: 500 * time.Microsecond, StatementTimeout: -time.Second,
		LockWait: -time.Minute, RetryBackoff: -time.Second, MaxWait: -time.Hour}
	e.Snapshot.Timeout = -time.Minute
	err := e.Validate("prod")
	if err == nil {
		t.Fatal("bad durations accepted")
	}
	for _, want := range []string{"lock_timeout: 500µs is below PostgreSQL's resolution", "statement_timeout: must not be negative",
		"lock_wait: must not be negative", "retry_backoff: must not be negative", "max_wait: must not be negative",
		"snapshot.timeout: must not be negative"} {
		if !strings.Contains(err.Error(), "environments.prod."+want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestParseCron(t *testing.T) {
	for _, c := range []struct {
		expr string
		want string // "" for valid
	}{
		{"0 22 * * 1-5", ""}, {"0 22 * * 7", ""}, {"0 22 * * 5-7", ""}, {"0 22 * * SAT,SUN", ""}, {"@daily", ""},
		{"0 22 29 2 *", ""}, {"0 22 31 * *", ""}, {"0 22 31 2 1", ""}, // with a day of week, either matches
		{"0 25 * * *", "above maximum"}, {"0 22 31 2 *", "matches no date"}, {"0 22 30,31 2 *", "matches no date"}, {"0 22 31 4,6 *", "matches no date"},
		{"@every 1h", "not a calendar schedule"}, {"TZ=UTC 0 22 * * *", "time_zone"}, {"0 22 * * 8", "above maximum"},
		{"0 22 * * 0-7/2", "step over 0-6"}, {"x y", "expected exactly 5 fields"},
		{"0 2 * * 7/2", "a step from 7 matches Sunday alone"}, {"0 2 * * 1,7/3", "a step from 7"},
	} {
		spec, err := ParseCron(c.expr)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.expr, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q: got %v, want an error with %q", c.expr, err, c.want)
		case c.want == "" && strings.HasSuffix(c.expr, "7") && spec.Dow&1 == 0:
			t.Errorf("%q: Sunday (7) not in the day-of-week set %b", c.expr, spec.Dow)
		}
	}
	e := &Environment{Snapshot: Snapshot{Kind: "none"}, Windows: []Window{{Cron: "0 25 * * *", Duration: time.Hour}}}
	if err := e.Validate("prod"); err == nil || !strings.Contains(err.Error(), `environments.prod.windows.0.cron: "0 25 * * *": `) {
		t.Errorf("bad cron in an environment: %v", err)
	}
}

// TestEnvironmentLocalZoneRefused: "Local" (Go's name for the machine's zone) made the same file open its
// windows at other instants on a laptop and on a CI runner; it is refused where it is written, as the
// environment's zone and as a window's.
func TestEnvironmentLocalZoneRefused(t *testing.T) {
	t.Parallel()
	for _, e := range []*Environment{
		{TimeZone: "Local", Snapshot: Snapshot{Kind: "none"}, Windows: []Window{{Cron: "0 2 * * *", Duration: time.Hour}}},
		{TimeZone: "UTC", Snapshot: Snapshot{Kind: "none"}, Windows: []Window{{Cron: "0 2 * * *", Duration: time.Hour, TimeZone: "Local"}}},
	} {
		err := e.Validate("prod")
		if err == nil || !strings.Contains(err.Error(), "the zone of the machine that runs schemagate") {
			t.Errorf("time zones %q / %q: %v; want Local refused", e.TimeZone, e.Windows[0].TimeZone, err)
		}
	}
	if _, err := LoadZone("Europe/Berlin"); err != nil {
		t.Errorf("LoadZone(Europe/Berlin): %v", err)
	}
}

// TestEnvironmentMinWindowLeft: min_window_left must leave time to start in every window, and not be
// negative; each problem names its key.
func TestEnvironmentMinWindowLeft(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		left time.Duration
		want string // "" for valid
	}{
		{0, ""},
		{15 * time.Minute, ""},
		{2 * time.Hour, "environments.prod.min_window_left: 2h0m0s leaves no time to start a migration in windows.1, which lasts 1h0m0s"},
		{-time.Minute, "environments.prod.min_window_left: must not be negative"},
	} {
		e := &Environment{Windows: []Window{{Cron: "0 2 * * *", Duration: 3 * time.Hour}, {Cron: "0 22 * * *", Duration: time.Hour}}, MinWindowLeft: c.left}
		err := e.Validate("prod")
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("min_window_left %s: %v; want %q", c.left, err, c.want)
		}
	}
}

// TestEnvironmentURLVariableName: the variable the deploy reads the URL from must be one a shell or a
// CI platform can set. An environment named "my prod" used to pass and its deploy then asked for
// SCHEMAGATE_MY PROD_DATABASE_URL.
func TestEnvironmentURLVariableName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src, want string
	}{
		{name: "space in the name", src: "environments:\n  my prod:\n    snapshot: {kind: none}\n",
			want: `schemagate.yml:2:3: environments.my prod: the deploy would read the URL from "SCHEMAGATE_MY PROD_DATABASE_URL", which is no variable name`},
		{name: "bad database_url_env", src: "environments:\n  prod:\n    database_url_env: prod url\n",
			want: `schemagate.yml:3:23: environments.prod.database_url_env: "prod url" is not a variable name`},
		{name: "a name with database_url_env", src: "environments:\n  my prod:\n    database_url_env: MY_PROD_URL\n"},
		{name: "dashes and dots", src: "environments:\n  prod-eu.1:\n    snapshot: {kind: none}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Parse("schemagate.yml", []byte(tc.src), Default())
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v\nwant %s", err, tc.want)
			}
		})
	}
}
