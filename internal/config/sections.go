package config

import "sort"

// validateSections collects the problems of the sections other files own (approval, environments).
func (c *Config) validateSections() Problems {
	ps := c.Approval.Validate()
	names := make([]string, 0, len(c.Environments))
	for name := range c.Environments {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		env := c.Environments[name]
		if env == nil {
			ps = append(ps, Problem{Path: "environments." + name, Msg: "empty environment (give at least database_url_env or windows)"})
			continue
		}
		ps = append(ps, env.Problems(name)...)
	}
	return ps
}
