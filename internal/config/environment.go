package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Environment is a deploy target (see the deploy package and docs/deploy.md).
type Environment struct {
	// DatabaseURLEnv names the environment variable holding the target's postgres:// URL; the URL itself
	// never sits in the file. Default SCHEMAGATE_<NAME>_DATABASE_URL.
	DatabaseURLEnv string `yaml:"database_url_env" json:"database_url_env,omitempty"`
	// TimeZone is the IANA zone of windows and blackouts that do not name their own (default UTC).
	TimeZone string `yaml:"time_zone" json:"time_zone,omitempty"`
	// Windows are the recurring maintenance windows; none means a deploy may run at any time.
	Windows []Window `yaml:"windows" json:"windows,omitempty"`
	// Blackouts are date ranges in which no window opens.
	Blackouts []Blackout `yaml:"blackouts" json:"blackouts,omitempty"`
	// OutsideWindow is what a deploy does outside a window: "fail" (default) or "wait".
	OutsideWindow string `yaml:"outside_window" json:"outside_window,omitempty"`
	// MaxWait is the longest a deploy waits for the next window (with outside_window: wait).
	MaxWait time.Duration `yaml:"max_wait" json:"max_wait,omitempty"`
	// MinWindowLeft is how much of the window must be left for a migration to start (0: any): a deploy
	// that finds less does not start (it waits for, or names, the next window), and a run stops before
	// the next migration as it does when the window closes.
	MinWindowLeft time.Duration `yaml:"min_window_left" json:"min_window_left,omitempty"`
	// LockWait is how long a deploy waits for another deploy of the same database (default 10m).
	LockWait time.Duration `yaml:"lock_wait" json:"lock_wait,omitempty"`
	// LockTimeout is PostgreSQL's lock_timeout for each migration statement (default 5s, or a lower one
	// the server gives the deploy's role, which the deploy keeps).
	LockTimeout time.Duration `yaml:"lock_timeout" json:"lock_timeout,omitempty"`
	// StatementTimeout is PostgreSQL's statement_timeout for each migration statement (0: none).
	StatementTimeout time.Duration `yaml:"statement_timeout" json:"statement_timeout,omitempty"`
	// Retries is how many times a migration is retried after a lock timeout (SQLSTATE 55P03, default 3).
	Retries *int `yaml:"retries" json:"retries,omitempty"`
	// RetryBackoff is the first pause between retries; it doubles each time (default 2s).
	RetryBackoff time.Duration `yaml:"retry_backoff" json:"retry_backoff,omitempty"`
	// HistorySchema holds schemagate_history, schemagate_runs and schemagate_lock (default "schemagate"): a
	// schema of its own, which snapshots leave out and restores keep as it is; not public,
	// information_schema or pg_*.
	HistorySchema string `yaml:"history_schema" json:"history_schema,omitempty"`
	// ImportHistory says where the first deploy to a database finds what another tool already applied:
	// "auto" (default: the folder's tool's own table, e.g. golang-migrate's schema_migrations), "none",
	// or a table name ([schema.]table) laid out as that tool lays it out. Later deploys read it again and
	// block on a migration the tool applied after the import.
	ImportHistory string `yaml:"import_history" json:"import_history,omitempty"`
	// ImportMissing says what the first deploy does with a migration the tool's history records as applied
	// and the folder no longer has: "block" (default: a wrong folder looks the same) or "accept" (the
	// migrations were deleted on purpose, as goose and dbmate allow: noted, and the deploy goes on).
	ImportMissing string `yaml:"import_missing" json:"import_missing,omitempty"`
	// Snapshot configures the backup taken before migrating.
	Snapshot Snapshot `yaml:"snapshot" json:"snapshot,omitempty"`
	// Maintenance switches the application's maintenance mode around the deploy.
	Maintenance Maintenance `yaml:"maintenance" json:"maintenance,omitempty"`
	// Verify configures the checks run after applying.
	Verify Verify `yaml:"verify" json:"verify,omitempty"`
	// RequireApproval makes the deploy check that the merged change's DBA approval covers exactly the
	// pending migrations' checksums.
	RequireApproval bool `yaml:"require_approval" json:"require_approval,omitempty"`
	// GeneratedDowns gives pending migrations that have no down script a generated one, proven on a
	// throwaway PostgreSQL before the deploy (as check --generate-down does), so that a rollback can
	// undo them without restoring the snapshot. Generated downs that would lose data are not used.
	GeneratedDowns bool `yaml:"generated_downs" json:"generated_downs,omitempty"`
	// Comment posts the deploy report on the merged change request (default true when a forge is known).
	Comment *bool `yaml:"comment" json:"comment,omitempty"`
}

// plainIdent is an identifier that needs no quotes but may have capitals (schemagate quotes it).
var plainIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]*$`)

// envVarName is a name a shell, a CI platform's variables and the environment of a process all take.
var envVarName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// plainTableName is an unquoted, optionally schema-qualified table name.
var plainTableName = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_$]*\.)?[A-Za-z_][A-Za-z0-9_$]*$`)

// DefaultLockTimeout is the lock_timeout of a deploy whose environment sets none.
const DefaultLockTimeout = 5 * time.Second

// DeployLockTimeout is the lock_timeout the deploy sets on each migration statement.
func (e *Environment) DeployLockTimeout() time.Duration {
	if e == nil || e.LockTimeout <= 0 {
		return DefaultLockTimeout
	}
	return e.LockTimeout
}

// DeployStatementTimeout is the statement_timeout the deploy sets on each migration statement (0: none).
func (e *Environment) DeployStatementTimeout() time.Duration {
	if e == nil || e.StatementTimeout <= 0 {
		return 0
	}
	return e.StatementTimeout
}

// Window is one recurring maintenance window.
type Window struct {
	// Cron is a five-field cron expression (or @daily, @weekly, ...) for the window's start.
	Cron string `yaml:"cron" json:"cron"`
	// Duration is how long the window stays open, in elapsed time.
	Duration time.Duration `yaml:"duration" json:"duration"`
	// TimeZone overrides the environment's zone.
	TimeZone string `yaml:"time_zone" json:"time_zone,omitempty"`
}

// Blackout is a range of whole days, both ends included, in the environment's zone.
type Blackout struct {
	// From is the first day of the blackout, YYYY-MM-DD.
	From string `yaml:"from" json:"from"`
	// To is the last day of the blackout, YYYY-MM-DD (included).
	To string `yaml:"to" json:"to"`
	// Reason is shown when a deploy is refused during the blackout.
	Reason string `yaml:"reason" json:"reason,omitempty"`
}

// Snapshot configures the backup.
type Snapshot struct {
	// Kind is "pg_dump" (default), "command" or "none".
	Kind string `yaml:"kind" json:"kind,omitempty"`
	// Dir is where pg_dump snapshots go (one folder per run with a manifest.json).
	Dir string `yaml:"dir" json:"dir,omitempty"`
	// Jobs is pg_dump's and pg_restore's parallelism (default 2).
	Jobs int `yaml:"jobs" json:"jobs,omitempty"`
	// Compress is pg_dump's compression level 0-9 (default: pg_dump's own, gzip 6 in PostgreSQL 15). 0 dumps
	// about four times faster and twice as large: shorter maintenance mode for more disk.
	Compress *int `yaml:"compress" json:"compress,omitempty"`
	// Keep is how many snapshots to keep (0: no limit by count).
	Keep int `yaml:"keep" json:"keep,omitempty"`
	// KeepDays removes snapshots older than this many days (0: no limit by age).
	KeepDays int `yaml:"keep_days" json:"keep_days,omitempty"`
	// PGBin is the folder holding pg_dump, pg_restore and psql, used whatever their version (default: the
	// installed client of the server's major version, else the next newer one, from PATH's pg_dump and
	// /usr/lib/postgresql/<major>/bin).
	PGBin string `yaml:"pg_bin" json:"pg_bin,omitempty"`
	// Command takes a platform snapshot and prints its id on the last line of its output.
	Command string `yaml:"command" json:"command,omitempty"`
	// RestoreCommand restores a platform snapshot; it gets the id in SCHEMAGATE_SNAPSHOT_ID.
	RestoreCommand string `yaml:"restore_command" json:"restore_command,omitempty"`
	// BeforeMaintenance takes the snapshot before maintenance mode goes on (shorter maintenance); writes
	// in between are detected and forbid an automatic restore.
	BeforeMaintenance bool `yaml:"before_maintenance" json:"before_maintenance,omitempty"`
	// Timeout bounds taking the snapshot (pg_dump and its checks, or the command), which is stopped when
	// it is reached and the deploy blocked, nothing changed (default: 1h for a command, none of its own
	// for pg_dump). Whatever it says, a snapshot is stopped when the maintenance window (less
	// min_window_left) ends: no migration could start after it.
	Timeout time.Duration `yaml:"timeout" json:"timeout,omitempty"`
}

// Maintenance configures maintenance mode.
type Maintenance struct {
	// On switches maintenance mode on before the snapshot (or before the migrations).
	On Action `yaml:"on" json:"on,omitempty"`
	// Off switches maintenance mode off; it always runs, also after failures.
	Off Action `yaml:"off" json:"off,omitempty"`
	// Timeout bounds each action (default 30s).
	Timeout time.Duration `yaml:"timeout" json:"timeout,omitempty"`
}

// Action is one way to switch maintenance mode: exactly one of its fields is set.
type Action struct {
	// Command is run with sh -c.
	Command string `yaml:"command" json:"command,omitempty"`
	// Webhook is an HTTP request.
	Webhook *Webhook `yaml:"webhook" json:"webhook,omitempty"`
	// SQL runs on the target database.
	SQL string `yaml:"sql" json:"sql,omitempty"`
}

// IsZero reports whether the action does nothing.
func (a Action) IsZero() bool { return a.Command == "" && a.Webhook == nil && a.SQL == "" }

// RedactURL is a URL as messages and reports may show it: the password of its user part and every value
// of its query written as ***, its fragment left out. Webhooks commonly carry their secret there
// (https://user:pass@host/..., ?token=...). What does not parse as a URL is shown as its scheme alone.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		scheme, _, _ := strings.Cut(raw, ":")
		if scheme == "" || strings.ContainsAny(scheme, "/@?#") {
			return "(a URL that does not parse)"
		}
		return scheme + ": (a URL that does not parse)"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "***")
		}
	}
	u.Fragment, u.RawFragment = "", ""
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			if k, _, ok := strings.Cut(p, "="); ok {
				parts[i] = k + "=***"
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	// String would percent-encode the stars of the password.
	return strings.Replace(u.String(), ":%2A%2A%2A@", ":***@", 1)
}

// URLSecrets are the secrets a URL carries, for masking in text that may quote them (the output of a
// hook): the password of its user part and the values of its query, as written and decoded.
func URLSecrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	var out []string
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			out = append(out, p)
		}
	}
	for _, part := range strings.Split(u.RawQuery, "&") {
		if _, v, ok := strings.Cut(part, "="); ok && v != "" {
			out = append(out, v)
			if d, err := url.QueryUnescape(v); err == nil {
				out = append(out, d)
			}
		}
	}
	return out
}

// Webhook is an HTTP request; a 2xx answer is success.
type Webhook struct {
	// Method is the HTTP method (default POST).
	Method string `yaml:"method" json:"method,omitempty"`
	// URL is the endpoint to call.
	URL string `yaml:"url" json:"url"`
	// Headers maps a header name to the name of the environment variable holding its value.
	Headers map[string]string `yaml:"headers" json:"headers,omitempty"`
	// Body is the request body, sent as is.
	Body string `yaml:"body" json:"body,omitempty"`
}

// Verify configures the post-apply checks.
type Verify struct {
	// RowCounts checks that pre-existing tables keep their row count unless a migration inserts or
	// deletes (default true).
	RowCounts *bool `yaml:"row_counts" json:"row_counts,omitempty"`
	// ForeignKeys checks that foreign keys of touched tables hold (default true).
	ForeignKeys *bool `yaml:"foreign_keys" json:"foreign_keys,omitempty"`
	// Checks are user checks.
	Checks []Check `yaml:"checks" json:"checks,omitempty"`
}

// Check is a user check: SQL whose single value must be true, or whose rows must equal Rows.
type Check struct {
	// Name identifies the check in the report.
	Name string `yaml:"name" json:"name"`
	// SQL is the query run on the target after the migrations.
	SQL string `yaml:"sql" json:"sql"`
	// Rows are the expected rows, each a list of values compared as text; nil means "one row, true".
	Rows [][]string `yaml:"rows" json:"rows,omitempty"`
}

// Location loads the environment's time zone (UTC when empty).
func (e *Environment) Location() (*time.Location, error) {
	return LoadZone(e.TimeZone)
}

// LoadZone loads an IANA zone; "" is UTC. "Local", which Go's time.LoadLocation takes for the machine's
// own zone, is refused: the same schemagate.yml would open its windows at other instants on a laptop
// and on a CI runner (mostly UTC).
func LoadZone(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	if name == "Local" {
		return nil, fmt.Errorf("time zone %q is the zone of the machine that runs schemagate, which differs between a laptop and a CI runner: name an IANA zone such as Europe/Berlin, or UTC", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("load time zone %q: %w", name, err)
	}
	return loc, nil
}

// URLEnv is the environment variable that holds the database URL of environment name.
func (e *Environment) URLEnv(name string) string {
	if e.DatabaseURLEnv != "" {
		return e.DatabaseURLEnv
	}
	up := strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(name))
	return "SCHEMAGATE_" + up + "_DATABASE_URL"
}

// Problems reports every problem of environment name at once, each with its dotted path
// (environments.NAME.windows.0.cron) so that the loader can place it on its line.
func (e *Environment) Problems(name string) Problems {
	var ps Problems
	bad := func(path, format string, args ...any) {
		ps = append(ps, Problem{Path: "environments." + name + "." + path, Msg: fmt.Sprintf(format, args...)})
	}
	// The deploy reads the URL from this variable: one no shell or CI platform can set would only be
	// found missing then.
	if v := e.DatabaseURLEnv; v != "" && !envVarName.MatchString(v) {
		bad("database_url_env", "%q is not a variable name (letters, digits and _, not starting with a digit)", v)
	} else if v := e.URLEnv(name); !envVarName.MatchString(v) {
		ps = append(ps, Problem{Path: "environments." + name,
			Msg: fmt.Sprintf("the deploy would read the URL from %q, which is no variable name: give database_url_env, or name the environment with letters, digits, - . and _", v)})
	}
	if _, err := LoadZone(e.TimeZone); err != nil {
		bad("time_zone", "%v", err)
	}
	for i, w := range e.Windows {
		if strings.TrimSpace(w.Cron) == "" {
			bad(fmt.Sprintf("windows.%d.cron", i), "missing")
		} else if _, err := ParseCron(w.Cron); err != nil {
			bad(fmt.Sprintf("windows.%d.cron", i), "%q: %v", w.Cron, err)
		}
		if w.Duration <= 0 {
			bad(fmt.Sprintf("windows.%d.duration", i), "must be positive (e.g. 2h)")
		}
		if _, err := LoadZone(w.TimeZone); err != nil {
			bad(fmt.Sprintf("windows.%d.time_zone", i), "%v", err)
		}
		if w.Duration > 0 && e.MinWindowLeft >= w.Duration {
			bad("min_window_left", "%s leaves no time to start a migration in windows.%d, which lasts %s", e.MinWindowLeft, i, w.Duration)
		}
	}
	if e.MinWindowLeft < 0 {
		bad("min_window_left", "must not be negative")
	}
	for i, b := range e.Blackouts {
		from, err1 := time.Parse(time.DateOnly, b.From)
		to, err2 := time.Parse(time.DateOnly, b.To)
		if err1 != nil {
			bad(fmt.Sprintf("blackouts.%d.from", i), "want YYYY-MM-DD, got %q", b.From)
		}
		if err2 != nil {
			bad(fmt.Sprintf("blackouts.%d.to", i), "want YYYY-MM-DD, got %q", b.To)
		}
		if err1 == nil && err2 == nil && to.Before(from) {
			bad(fmt.Sprintf("blackouts.%d", i), "to %s is before from %s", b.To, b.From)
		}
	}
	switch e.OutsideWindow {
	case "", "fail", "wait":
	default:
		bad("outside_window", "want fail or wait, got %q", e.OutsideWindow)
	}
	if e.OutsideWindow == "wait" && e.MaxWait <= 0 {
		bad("max_wait", "must be positive with outside_window: wait")
	}
	for _, d := range []struct {
		key string
		v   time.Duration
		ms  bool // a PostgreSQL setting, in milliseconds
	}{{"max_wait", e.MaxWait, false}, {"lock_wait", e.LockWait, false}, {"lock_timeout", e.LockTimeout, true},
		{"statement_timeout", e.StatementTimeout, true}, {"retry_backoff", e.RetryBackoff, false},
		{"snapshot.timeout", e.Snapshot.Timeout, false}} {
		switch {
		case d.v < 0:
			bad(d.key, "must not be negative, got %s", d.v)
		case d.ms && d.v > 0 && d.v < time.Millisecond:
			bad(d.key, "%s is below PostgreSQL's resolution of 1ms (it would turn the timeout off)", d.v)
		}
	}
	if e.Retries != nil && *e.Retries < 0 {
		bad("retries", "must not be negative")
	}
	switch e.Snapshot.Kind {
	case "", "pg_dump": // snapshot.dir is needed by a deploy only: see DeployProblems
	case "command":
		if e.Snapshot.Command == "" || e.Snapshot.RestoreCommand == "" {
			bad("snapshot", "kind command needs command and restore_command")
		}
	case "none":
	default:
		bad("snapshot.kind", "want pg_dump, command or none, got %q", e.Snapshot.Kind)
	}
	if c := e.Snapshot.Compress; c != nil && (*c < 0 || *c > 9) {
		bad("snapshot.compress", "want 0 to 9, got %d", *c)
	}
	if e.Snapshot.Jobs < 0 || e.Snapshot.Keep < 0 || e.Snapshot.KeepDays < 0 {
		bad("snapshot", "jobs, keep and keep_days must not be negative")
	}
	for _, p := range []struct {
		where string
		a     Action
	}{{"maintenance.on", e.Maintenance.On}, {"maintenance.off", e.Maintenance.Off}} {
		n := 0
		if p.a.Command != "" {
			n++
		}
		if p.a.SQL != "" {
			n++
		}
		if p.a.Webhook != nil {
			n++
			if u, err := url.Parse(p.a.Webhook.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
				bad(p.where+".webhook.url", "want an http(s) URL, got %q", RedactURL(p.a.Webhook.URL))
			}
			switch p.a.Webhook.Method {
			case "", "GET", "POST", "PUT", "PATCH", "DELETE":
			default:
				bad(p.where+".webhook.method", "unknown method %q (want GET, POST, PUT, PATCH or DELETE)", p.a.Webhook.Method)
			}
		}
		if n > 1 {
			bad(p.where, "set only one of command, webhook, sql")
		}
	}
	if e.Maintenance.On.IsZero() != e.Maintenance.Off.IsZero() {
		bad("maintenance", "set both on and off, or neither")
	}
	for i, c := range e.Verify.Checks {
		if strings.TrimSpace(c.SQL) == "" {
			bad(fmt.Sprintf("verify.checks.%d.sql", i), "missing")
		}
	}
	if h := e.HistorySchema; h != "" {
		switch {
		case !plainIdent.MatchString(h) || len(h) > 63:
			bad("history_schema", "%q is not a plain identifier (letters, digits, _ and $, at most 63 bytes)", h)
		case strings.EqualFold(h, "public") || strings.EqualFold(h, "information_schema") || strings.HasPrefix(strings.ToLower(h), "pg_"):
			// Snapshots leave the history schema out and restores keep it as it is: the application's
			// objects must never live there.
			bad("history_schema", "%q holds application or system objects; give schemagate a schema of its own (default schemagate)", h)
		}
	}
	if v := e.ImportHistory; v != "" && v != "auto" && v != "none" && !plainTableName.MatchString(v) {
		bad("import_history", "want auto, none or a table name ([schema.]table), got %q", v)
	}
	if v := e.ImportMissing; v != "" && v != "block" && v != "accept" {
		bad("import_missing", "want block or accept, got %q", v)
	}
	return ps
}

// DeployProblems reports what environment name lacks for a deploy, beyond Problems: the settings that
// only a deploy uses, which other commands (window) do not ask for.
func (e *Environment) DeployProblems(name string) Problems {
	var ps Problems
	if (e.Snapshot.Kind == "" || e.Snapshot.Kind == "pg_dump") && e.Snapshot.Dir == "" {
		ps = append(ps, Problem{Path: "environments." + name + ".snapshot.dir", Msg: "missing (where pg_dump snapshots go)"})
	}
	return ps
}

// Place gives problems found after Parse (DeployProblems) the file, line and column of their setting, or of the
// closest setting that holds it.
func (c *Config) Place(ps Problems) Problems {
	for i := range ps {
		if ps[i].File == "" {
			ps[i].File = c.file
		}
		if ps[i].Line == 0 {
			ps[i].Line, ps[i].Column = placeOf(c.places, ps[i].Path, ps[i].atKey)
		}
	}
	return ps
}

// Validate is Problems as an error; nil when the environment is valid.
func (e *Environment) Validate(name string) error {
	if ps := e.Problems(name); len(ps) > 0 {
		return ps
	}
	return nil
}
