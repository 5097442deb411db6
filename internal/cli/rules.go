package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/report"
)

// RulesOptions are the inputs of `schemagate rules`.
type RulesOptions struct {
	// IDs are the rules whose pages to print; none lists every rule.
	IDs []string
	// ConfigFile is schemagate.yml (default ./schemagate.yml when present): its lint.rules classes show.
	ConfigFile string
	// Rules are --rule id=class flags, over the file's classes, as lint and check take them.
	Rules []string
	// Class lists only the rules of this class as configured: dangerous, caution, safe or off.
	Class string
	JSON  bool
}

func (a *App) newRulesCmd() *cobra.Command {
	o := &RulesOptions{}
	cmd := &cobra.Command{
		Use:   "rules [RULE...]",
		Short: "List the risk rules, or print a rule's page: what it detects, why, and the safer form",
		Long: `rules lists every risk rule that lint, check and the pull request report use: its id (what
--rule, lint.rules in schemagate.yml and schemagate:ignore comments name), its class in this
repository, where it is raised from, and what it detects. With RULE arguments it prints
each rule's page instead (the page docs/rules/<id>.md holds): what it detects, why it matters,
example SQL that triggers it and its safer form, and how to suppress it.

The class shown is the one findings get here: the rule's default, or the class that lint.rules in
schemagate.yml (default ./schemagate.yml when present) or a --rule flag gives it; "off" for a rule
turned off, or an opt-in rule nothing turned on. A rule raised from the rehearsal's trace (FROM
trace) or by comparing the folder with check --base (FROM history) is never raised by lint alone.

Exit codes: 0 done, 2 usage or bad input (an unknown rule id, a broken schemagate.yml).`,
		Example: `  schemagate rules
  schemagate rules set-not-null
  schemagate rules --class dangerous
  schemagate rules --json | jq -r '.rules[] | select(.class == "off") | .id'`,
		RunE: func(_ *cobra.Command, args []string) error {
			o.IDs = args
			return a.runRules(o)
		},
		// Shell completion offers the rule ids.
		ValidArgsFunction: func(_ *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
			var ids []string
			for _, r := range lint.Rules() {
				if strings.HasPrefix(r.ID, prefix) {
					ids = append(ids, r.ID+"\t"+r.Summary)
				}
			}
			return ids, cobra.ShellCompDirectiveNoFileComp
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.ConfigFile, "config", "", "configuration file (default ./schemagate.yml when present): its lint.rules classes show")
	f.StringArrayVar(&o.Rules, "rule", nil, "change a rule's class as lint and check would: id=safe|caution|dangerous|off (repeatable)")
	f.StringVar(&o.Class, "class", "", "list only the rules of this class here: dangerous, caution, safe or off")
	f.BoolVar(&o.JSON, "json", false, `print {"rules": [...]} as JSON`)
	return cmd
}

// ruleClass is a rule as this repository has it.
type ruleClass struct {
	lint.Rule
	// Class is what its findings are here: a risk, or "off".
	Class string
	// Where says what set Class other than the rule's default: "schemagate.yml:12:5", "--rule"; "" for
	// the default.
	Where string
}

func (r ruleClass) source() string {
	switch {
	case r.Dynamic:
		return "trace"
	case r.History:
		return "history"
	}
	return "parse"
}

func (a *App) runRules(o *RulesOptions) error {
	classes, err := a.ruleClasses(o)
	if err != nil {
		return err
	}
	var errs []error
	var shown []ruleClass
	for _, id := range o.IDs {
		r, ok := classes[strings.ToLower(strings.TrimSpace(id))]
		if !ok {
			errs = append(errs, fmt.Errorf("unknown rule id %q%s", id, lint.DidYouMean(strings.ToLower(strings.TrimSpace(id)))))
			continue
		}
		shown = append(shown, r)
	}
	class := strings.ToLower(strings.TrimSpace(o.Class))
	if class != "" {
		if _, err := lint.ParseRisk(class); err != nil && class != "off" {
			errs = append(errs, fmt.Errorf("--class %q: want dangerous, caution, safe or off", o.Class))
		}
		if len(o.IDs) > 0 {
			errs = append(errs, errors.New("give RULE arguments or --class, not both"))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return usageErr(err)
	}
	if len(o.IDs) == 0 {
		for _, id := range slices.Sorted(maps.Keys(classes)) {
			if r := classes[id]; class == "" || r.Class == class {
				shown = append(shown, r)
			}
		}
	}
	switch {
	case o.JSON:
		return a.writeRulesJSON(shown)
	case len(o.IDs) > 0:
		out := &errWriter{w: a.Stdout}
		for i, r := range shown {
			if i > 0 {
				fmt.Fprintln(out)
			}
			out.Write(r.Doc())
			if r.Where != "" {
				fmt.Fprintf(out, "\n## In this repository\n\n%s (set by %s; the rule's default is %s).\n", r.Class, r.Where, r.defaultClass())
			}
		}
		if out.err != nil {
			return exitCode(ExitFailure, fmt.Errorf("write to standard output: %w", out.err))
		}
		return nil
	}
	tw := tabwriter.NewWriter(a.Stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tCLASS\tFROM\tDETECTS")
	count := map[string]int{}
	for _, r := range shown {
		c := r.Class
		if r.Where != "" {
			c += " *"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, c, r.source(), r.Summary)
		count[r.Class]++
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var parts []string
	for _, c := range []string{"dangerous", "caution", "safe", "off"} {
		if count[c] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[c], c))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(a.Stdout, "\n%d rule%s (%s).", len(shown), report.Plural(len(shown)), strings.Join(parts, ", "))
	} else {
		fmt.Fprintf(a.Stdout, "\nNo rule is %s here.", class)
	}
	if slices.ContainsFunc(shown, func(r ruleClass) bool { return r.Where != "" }) {
		fmt.Fprint(a.Stdout, " * class set by schemagate.yml or --rule.")
	}
	fmt.Fprint(a.Stdout, "\n`schemagate rules RULE` prints a rule's page; lint.rules in schemagate.yml or --rule id=class changes a class.\n")
	return nil
}

func (r ruleClass) defaultClass() string {
	if r.Off {
		return "off (opt-in)"
	}
	return r.Risk.String()
}

// ruleClasses reads every rule's class here: the default, then schemagate.yml's lint.rules, then the
// --rule flags, each checked as lint checks it.
func (a *App) ruleClasses(o *RulesOptions) (map[string]ruleClass, error) {
	cfg := config.Default()
	file, err := a.loadConfigOver(o.ConfigFile, cfg)
	if err != nil {
		return nil, err
	}
	out := map[string]ruleClass{}
	for _, r := range lint.Rules() {
		rc := ruleClass{Rule: r, Class: r.Risk.String()}
		if r.Off {
			rc.Class = "off"
		}
		out[r.ID] = rc
	}
	set := func(id, class, where string) {
		rc := out[id]
		rc.Class, rc.Where = class, where
		out[id] = rc
	}
	for id, class := range cfg.Lint.Rules { // lower-cased by the loader
		where := cfg.Where("lint.rules." + id)
		if where == "" {
			where = file + ": lint.rules." + id
		}
		set(id, class, where)
	}
	var errs []error
	for _, r := range o.Rules {
		id, class, bad := checkRuleFlag(r)
		if bad != nil {
			errs = append(errs, bad...)
			continue
		}
		set(id, class, "--rule")
	}
	if err := errors.Join(errs...); err != nil {
		return nil, usageErr(err)
	}
	return out, nil
}

func (a *App) writeRulesJSON(rules []ruleClass) error {
	type jsonRule struct {
		ID           string `json:"id"`
		Class        string `json:"class"`
		DefaultClass string `json:"default_class"`
		SetBy        string `json:"set_by,omitempty"`
		OptIn        bool   `json:"opt_in"`
		From         string `json:"from"`
		Lock         string `json:"lock"`
		Rewrite      bool   `json:"rewrite"`
		Scan         bool   `json:"scan"`
		Summary      string `json:"summary"`
		Suggestion   string `json:"suggestion,omitempty"`
		Why          string `json:"why"`
		Given        string `json:"given,omitempty"`
		Triggers     string `json:"triggers"`
		// Safer is the example the page calls the safer form; DoesNotTrigger is the example that does not
		// raise the rule, which is the same but for rules whose page names no safer form (see
		// lint.Rule.HasSaferForm): a safe rule's advice, or change-column-type-coercible's shrink.
		Safer          string `json:"safer,omitempty"`
		DoesNotTrigger string `json:"does_not_trigger"`
		Notes          string `json:"notes,omitempty"`
		URL            string `json:"url"`
	}
	doc := struct {
		Rules []jsonRule `json:"rules"`
	}{Rules: []jsonRule{}}
	for _, r := range rules {
		def := r.Risk.String()
		if r.Off {
			def = "off"
		}
		safer := ""
		if r.HasSaferForm() {
			safer = r.Good
		}
		doc.Rules = append(doc.Rules, jsonRule{ID: r.ID, Class: r.Class, DefaultClass: def, SetBy: r.Where, OptIn: r.Off,
			From: r.source(), Lock: r.Lock, Rewrite: r.Rewrite, Scan: r.Scan, Summary: r.Summary, Suggestion: r.Suggestion,
			Why: r.Why, Given: r.Given, Triggers: r.Bad, Safer: safer, DoesNotTrigger: r.Good, Notes: r.Notes, URL: r.URL()})
	}
	enc := json.NewEncoder(a.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}
