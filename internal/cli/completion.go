package cli

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
)

// registerCompletions has the shell complete the values of the flags that take words: --format,
// --provider, --fail-on, --class, --ci, --rule (a rule id, then its class) and --env (the environments of
// ./schemagate.yml), on every command that has them.
func registerCompletions(root *cobra.Command) {
	words := func(ws ...string) cobra.CompletionFunc {
		return func(_ *cobra.Command, _ []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
			var out []cobra.Completion
			for _, w := range ws {
				if strings.HasPrefix(w, prefix) {
					out = append(out, w)
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		}
	}
	formats := []string{"auto"}
	for _, f := range migrate.Formats {
		formats = append(formats, string(f))
	}
	byFlag := map[string]cobra.CompletionFunc{
		"format":   words(formats...),
		"provider": words("auto", "local", "docker", "url"),
		"fail-on":  words("dangerous", "caution", "safe", "never"),
		"class":    words("dangerous", "caution", "safe", "off"),
		"ci":       words("github", "gitlab", "none", "auto"),
		"rule":     completeRule,
		"env":      completeEnv,
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for name, fn := range byFlag {
			if name == "format" && c.Name() == "init" {
				fn = words(formats[1:]...) // init writes the format it found or was told, not auto
			}
			if c.Flags().Lookup(name) != nil {
				_ = c.RegisterFlagCompletionFunc(name, fn)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// completeRule completes --rule id=class: the rule ids (with their summaries) before the =, the classes after.
func completeRule(_ *cobra.Command, _ []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	if id, class, ok := strings.Cut(prefix, "="); ok {
		for _, c := range []string{"safe", "caution", "dangerous", "off"} {
			if strings.HasPrefix(c, class) {
				out = append(out, id+"="+c)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
	for _, r := range lint.Rules() {
		if strings.HasPrefix(r.ID, prefix) {
			out = append(out, cobra.CompletionWithDesc(r.ID+"=", r.Summary))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// completeEnv completes --env with the environments of the schemagate.yml --config names (default
// ./schemagate.yml); none when it does not read.
func completeEnv(cmd *cobra.Command, _ []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	file := config.DefaultFile
	if f := cmd.Flags().Lookup("config"); f != nil && f.Value.String() != "" {
		file = f.Value.String()
	}
	cfg := config.Default()
	if err := config.LoadOver(file, false, cfg); err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for name := range cfg.Environments {
		if strings.HasPrefix(name, prefix) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, cobra.ShellCompDirectiveNoFileComp
}
