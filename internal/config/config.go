// Package config is schemagate's typed configuration: defaults < schemagate.yml < environment < flags.
// Validate reports every problem at once, each with its place in the file.
package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/schemagate/schemagate/internal/migrate"
)

// Config is the whole of schemagate.yml.
type Config struct {
	// Dir is the migration folder, relative to the folder that holds schemagate.yml.
	Dir string `yaml:"dir" json:"dir,omitempty"`
	// Format is the migration folder's format (auto by default).
	Format string `yaml:"format" json:"format,omitempty"`
	// GolangMigrate holds the settings golang-migrate takes from its database URL, which the migration
	// folder does not show: check and deploy run golang-migrate files as they run under them.
	GolangMigrate GolangMigrate `yaml:"golang_migrate" json:"golang_migrate,omitempty"`
	// Database configures the throwaway database of `check`.
	Database Database `yaml:"database" json:"database,omitempty"`
	// Lint configures the risk rules.
	Lint Lint `yaml:"lint" json:"lint,omitempty"`
	// Approval is the DBA approval policy.
	Approval Approval `yaml:"approval" json:"approval,omitempty"`
	// Rehearsal holds what `check` lets the migrations do in a CI job.
	Rehearsal Rehearsal `yaml:"rehearsal" json:"rehearsal,omitempty"`
	// Environments are the deploy targets, by name.
	Environments map[string]*Environment `yaml:"environments" json:"environments,omitempty"`

	// file, lines and places are where Parse read the settings: the file's name, and the line and the
	// place (line and column) of each dotted path.
	file   string
	lines  map[string]int
	places map[string]place
}

// Where is the place of a setting, by dotted path ("dir", "database.pg_version"), in the file Parse read
// it from: "schemagate.yml:3:6" (its value's line and column), or "" when the file does not set it.
func (c *Config) Where(path string) string {
	path = strings.NewReplacer("[", ".", "]", "").Replace(path)
	if p, ok := c.places[path]; ok && c.file != "" {
		return fmt.Sprintf("%s:%d:%d", c.file, p.line, p.col)
	}
	return ""
}

// PathAt is the dotted path of the innermost setting written at line of the file Parse read
// ("lint.rules.x"): it places a problem that names no setting (an unknown key) among the settings. It is
// "" when no setting starts there, or when the line holds settings of several branches ({a: 1, b: 2}).
func (c *Config) PathAt(line int) string {
	var at []string
	for path, l := range c.lines {
		if l == line {
			at = append(at, path)
		}
	}
	best := ""
	for _, p := range at {
		if len(p) > len(best) {
			best = p
		}
	}
	for _, p := range at {
		if p != best && !strings.HasPrefix(best, p+".") {
			return ""
		}
	}
	return best
}

// GolangMigrate is golang-migrate's database URL options that change how it runs a file.
type GolangMigrate struct {
	// MultiStatement says golang-migrate runs with x-multi-statement=true in its database URL: it then cuts each file at
	// every ';' (even one inside a function body, a string or a comment) and sends each piece as a
	// statement of its own, which commits by itself (default false: the whole file as one query, one
	// implicit transaction).
	MultiStatement bool `yaml:"multi_statement" json:"multi_statement,omitempty"`
	// MultiStatementMaxSize is the x-multi-statement-max-size of golang-migrate's database URL: the
	// longest piece, in bytes, it reads with multi_statement (default 10485760, 10 MiB); a longer one fails the file.
	MultiStatementMaxSize int `yaml:"multi_statement_max_size" json:"multi_statement_max_size,omitempty"`
}

// ReadOptions are the settings of the migration folder's tool that schemagate.yml holds, as the
// folder's reader takes them.
func (c *Config) ReadOptions() migrate.Options {
	return migrate.Options{MultiStatement: c.GolangMigrate.MultiStatement, MultiStatementMaxSize: c.GolangMigrate.MultiStatementMaxSize}
}

// Database configures the throwaway database.
type Database struct {
	// Provider is auto, local, docker or url.
	Provider string `yaml:"provider" json:"provider,omitempty"`
	// PGVersion is the PostgreSQL major version to rehearse on.
	PGVersion int `yaml:"pg_version" json:"pg_version,omitempty"`
	// Image is the container image of the docker provider (default postgres:<pg_version>).
	Image string `yaml:"image" json:"image,omitempty"`
	// URL is the existing server of the url provider.
	URL string `yaml:"url" json:"url,omitempty"`
	// Setup are SQL files run on the throwaway database before the history, statement by statement:
	// what production has that the migrations do not create, such as the roles they GRANT to, extensions
	// or schemas. Paths are relative to the folder that holds schemagate.yml. The deploy never runs them.
	Setup []string `yaml:"setup" json:"setup,omitempty"`
	// StatementTimeout is the longest one statement may run in the rehearsal before it is canceled and its
	// migration failed (default 10m; 0s: no limit). A statement that loops or sleeps would otherwise hold
	// the job until the CI platform's own timeout.
	StatementTimeout *time.Duration `yaml:"statement_timeout" json:"statement_timeout,omitempty"`
}

// RehearsalStatementTimeout is database.statement_timeout as rehearse.Options wants it: 0 for the
// default, negative for no limit.
func (d Database) RehearsalStatementTimeout() time.Duration {
	switch {
	case d.StatementTimeout == nil:
		return 0
	case *d.StatementTimeout == 0:
		return -1
	}
	return *d.StatementTimeout
}

// Rehearsal holds what the rehearsal of a CI job (GitHub Actions, GitLab CI) lets the migrations do.
type Rehearsal struct {
	// AllowServerAccess lets the migrations reach the files and programs of the rehearsal server's
	// machine in a CI job (COPY … PROGRAM or to and from a file, pg_read_file, lo_import, file_fdw,
	// adminpack, untrusted languages), which check refuses there by default: the server runs them as a
	// superuser beside the job's files, the clone's credentials among them. Only the base branch's
	// schemagate.yml can turn it on for a change (default false).
	AllowServerAccess bool `yaml:"allow_server_access" json:"allow_server_access,omitempty"`
}

// Lint configures the rules.
type Lint struct {
	// Rules changes a rule's class ("safe", "caution", "dangerous") or turns it off ("off").
	Rules map[string]string `yaml:"rules" json:"rules,omitempty"`
	// FailOn is the lowest risk that makes check exit non-zero: dangerous, caution, safe (any new
	// migration) or never (default: the
	// approval gate, not the check, handles risk).
	FailOn string `yaml:"fail_on" json:"fail_on,omitempty"`
	// DeployTimeouts counts the lock_timeout and statement_timeout that schemagate deploy sets (see
	// environments) as the migrations' own, so missing-lock-timeout and missing-statement-timeout are
	// safe where the deploy covers them (default true; set false when migrations also reach the
	// database another way).
	DeployTimeouts *bool `yaml:"deploy_timeouts" json:"deploy_timeouts,omitempty"`
}
