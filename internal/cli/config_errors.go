package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/schemagate/schemagate/internal/config"
)

// flagProblems names the flag or environment variable that set each of ps, where one did: the file's
// own problems were reported when it was read, so these come from over it, and "invalid configuration:
// database.pg_version" would send the user to a file that does not say 99.
func (a *App) flagProblems(ps config.Problems, o *CheckOptions) error {
	rules := map[string]bool{}
	order := map[string]int{} // the --rule flag's place on the command line, by path: its problems go in that order
	for i, r := range o.Rules {
		id, _, _ := ruleFlag(r)
		rules["lint.rules."+id] = true
		order["lint.rules."+id] = i
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
		case strings.HasPrefix(path, "database.setup[") && len(o.Setup) > 0:
			return "--setup" // the flag replaced the file's list
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
	var ruleProbs []config.Problem
	for _, p := range ps {
		if from := source(p.Path); from == "--rule" {
			if len(ruleProbs) == 0 {
				errs = append(errs, nil) // the --rule problems go here, in the flags' order
			}
			ruleProbs = append(ruleProbs, p)
			continue
		} else if from != "" {
			errs = append(errs, fmt.Errorf("%s: %s", from, p.Msg))
			continue
		}
		rest = append(rest, p)
	}
	if len(ruleProbs) > 0 {
		slices.SortStableFunc(ruleProbs, func(a, b config.Problem) int { return order[a.Path] - order[b.Path] })
		i := slices.Index(errs, nil)
		var re []error
		for _, p := range ruleProbs {
			re = append(re, fmt.Errorf("--rule: %s", p.Msg))
		}
		errs = slices.Insert(slices.Delete(errs, i, i+1), i, re...)
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

// statementTimeoutFrom says where the rehearsal's statement timeout was set (see
// rehearse.Options.StatementTimeoutFrom): "" when it is the default.
func (o *CheckOptions) statementTimeoutFrom(cfg *config.Config) string {
	switch {
	case o.set["statement-timeout"]:
		return "--statement-timeout"
	case cfg.Database.StatementTimeout != nil:
		return "database.statement_timeout"
	}
	return ""
}
