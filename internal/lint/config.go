package lint

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/suggest"
)

// DefaultPGVersion is the server version assumed when Config.PGVersion is zero.
const DefaultPGVersion = 15

// Config tunes the analysis.
type Config struct {
	// PGVersion is the target server: a major version (15) or a server_version_num (140002 = 14.2).
	// Zero means DefaultPGVersion.
	PGVersion int
	// Rules maps a rule id to "safe", "caution", "dangerous" (override its class) or "off".
	Rules map[string]string
	// Schema is optional DDL of the database the migration runs against (for example the schema of
	// earlier migrations). Its objects count as pre-existing; it tells the rules column types,
	// nullability, indexes, CHECK constraints and domains that a lone migration cannot show. A
	// non-empty Schema (a comment alone will do) also says that an object it does not describe does
	// not exist, so CREATE … IF NOT EXISTS of such an object creates it; without a Schema the object
	// may exist, and the statement counts as creating nothing.
	Schema string
	// ChangeCreated maps the objects (tables, indexes, sequences, views …) that earlier new migrations
	// of the same change created, and that still exist, by schema-qualified name as PostgreSQL knows it
	// ("public.orders"), to the id of the migration that created each. schemagate deploy applies a
	// change's new migrations together, in order, before the application that uses what they create:
	// like an object the migration itself created, such an object is exempt from the lock and rewrite
	// rules, and a finding still raised on it says which migration created it. History migrations and
	// what Schema alone describes stay pre-existing.
	ChangeCreated map[string]string
	// Deploy, when set, says that schemagate deploy applies the migrations with session timeouts of its
	// own (schemagate.yml environments): a missing lock_timeout or statement_timeout is then covered, and
	// those findings are safe unless the script turns the deploy's timeout off.
	Deploy DeployTimeouts
	// NothingDone are the statements the rehearsal saw do nothing (see DidNothing): the rules judge
	// them so, where the schema left in doubt whether what they name exists.
	NothingDone []Position
	// Format is the format of the folder the scripts come from, whose tool runs them: it decides what
	// a script that ends inside a transaction it opened does (transaction-boundaries). Empty when
	// unknown; Analyze and Sequence.Analyze take the format they are given.
	Format migrate.Format
	// FormatHint, for scripts of no known format (Format empty), says how to tell their format (lint's
	// "--format or format in schemagate.yml"): a statement that refuses a transaction block, flagged only
	// because such a script is taken to run in its tool's transaction, says so and gives it.
	FormatHint string
}

// Position is where a statement starts: its file, line and column.
type Position struct {
	File         string
	Line, Column int
}

// sawNothingDone tells whether the rehearsal saw the statement at line and column of file do nothing.
func (c Config) sawNothingDone(file string, line, column int) bool {
	return slices.Contains(c.NothingDone, Position{file, line, column})
}

// DeployTimeouts are the timeouts schemagate deploy sets before it applies each migration, by environment.
type DeployTimeouts []DeployEnvironment

// DeployEnvironment is one deploy target's timeouts (zero: none).
type DeployEnvironment struct {
	Name                          string
	LockTimeout, StatementTimeout time.Duration
}

// Validate reports every unknown rule id and bad class at once.
func (c Config) Validate() error {
	var errs []error
	if c.PGVersion < 0 || (c.PGVersion > 0 && c.PGVersion < 9) || (c.PGVersion >= 100 && c.PGVersion < 90000) {
		errs = append(errs, fmt.Errorf("pg version %d: want a major version (9-30) or a server_version_num such as 140002", c.PGVersion))
	}
	ids := make([]string, 0, len(c.Rules))
	for id := range c.Rules {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		class := c.Rules[id]
		if _, ok := Lookup(id); !ok {
			errs = append(errs, fmt.Errorf("rule %q: unknown rule id%s", id, nearest(id)))
		}
		if strings.EqualFold(class, "off") {
			continue
		}
		if _, err := ParseRisk(class); err != nil {
			errs = append(errs, fmt.Errorf("rule %q: unknown class %q (want safe, caution, dangerous or off)", id, class))
		}
	}
	return errors.Join(errs...)
}

// ParseVersion reads a PostgreSQL version as a user writes it ("15", "14.2", "9.6") into the form
// Config.PGVersion takes (a major version, or a server_version_num when a minor is given).
func ParseVersion(s string) (int, error) {
	var major, minor int
	s = strings.TrimSpace(s)
	if n, err := fmt.Sscanf(s, "%d.%d", &major, &minor); err == nil && n == 2 && fmt.Sprintf("%d.%d", major, minor) == s {
		if major < 9 || major > 30 || minor < 0 {
			return 0, fmt.Errorf("PostgreSQL version %s is not supported (want 9 to 30, such as 15 or 14.2)", s)
		}
		if major < 10 {
			return major*10000 + minor*100, nil
		}
		return major*10000 + minor, nil
	}
	if n, err := fmt.Sscanf(s, "%d", &major); err == nil && n == 1 && fmt.Sprint(major) == s {
		if major >= 9 && major <= 30 {
			return major, nil
		}
		if major >= 90000 && major < 310000 {
			return major, nil
		}
		return 0, fmt.Errorf("PostgreSQL version %s is not supported (want 9 to 30, such as 15 or 14.2)", s)
	}
	return 0, fmt.Errorf("pg version %q: want a version such as 15 or 14.2", s)
}

// versionNum returns the configured version as a server_version_num (minor 0 when only a major is known,
// except that an unknown minor counts as the latest for bug gating).
func (c Config) versionNum() (num int, minorKnown bool) {
	v := c.PGVersion
	if v == 0 {
		v = DefaultPGVersion
	}
	if v < 100 {
		return v * 10000, false
	}
	return v, true
}

// Major is the target server's major version (DefaultPGVersion when PGVersion is zero).
func (c Config) Major() int {
	n, _ := c.versionNum()
	if n < 100000 {
		return n / 100 / 100 // 9.6 -> 9
	}
	return n / 10000
}

// nearest suggests a rule id close to a misspelt one.
// DidYouMean is a hint naming the rule id closest to an unknown one (" (did you mean x?)"), or "".
func DidYouMean(id string) string { return nearest(id) }

func nearest(id string) string {
	best, bestD := "", 4
	for _, r := range allRules {
		if d := suggest.Distance(id, r.ID); d < bestD {
			best, bestD = r.ID, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}
