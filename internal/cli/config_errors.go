package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/schemagate/schemagate/internal/config"
)

// flagProblems names the flag or environment variable that set each of ps, where one did: the file's
// own problems were reported when it was read, so these come from over it, and "invalid configuration:
// database.pg_version" would send the user to a file that does not say 99.
func (a *App) flagProblems(ps config.Problems, o *CheckOptions) error {
	rules := map[string]bool{}
	for _, r := range o.Rules {
		id, _, _ := strings.Cut(r, "=")
		rules["lint.rules."+id] = true
	}
	type setting struct {
		flag  string
		given bool
		env   string
	}
	settings := map[string]setting{
		"format":              {"--format", o.Format != "", "SCHEMAGATE_FORMAT"},
		"database.provider":   {"--provider", o.Provider != "", "SCHEMAGATE_PROVIDER"},
		"database.pg_version": {"--pg-version", o.PGVersion != 0, "SCHEMAGATE_PG_VERSION"},
		"database.url":        {"--provider", o.Provider != "", "SCHEMAGATE_PROVIDER"}, // "provider url needs database.url"
	}
	source := func(path string) string {
		s, ok := settings[path]
		switch {
		case rules[path]:
			return "--rule"
		case !ok:
			return ""
		case s.given:
			return s.flag
		case a.Getenv(s.env) != "":
			return s.env
		}
		return ""
	}
	var errs []error
	var rest config.Problems
	for _, p := range ps {
		if from := source(p.Path); from != "" {
			errs = append(errs, fmt.Errorf("%s: %s", from, p.Msg))
			continue
		}
		rest = append(rest, p)
	}
	if len(rest) > 0 {
		errs = append(errs, rest)
	}
	return errors.Join(errs...)
}

// setupFrom is "--setup" when the flag replaced database.setup, for readSetup's messages.
func (o *CheckOptions) setupFrom() string {
	if len(o.Setup) > 0 {
		return "--setup"
	}
	return ""
}
