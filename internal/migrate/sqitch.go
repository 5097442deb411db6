package migrate

import (
	"errors"
	"io/fs"
	"regexp"
	"strings"
)

// sqitch (sqitch.org): sqitch.plan lists changes in deploy order, each with deploy/, revert/ (our Down)
// and verify/ scripts named after the change. A change planned again after a tag (reworked) keeps its
// older scripts as deploy/{change}@{tag}.sql.

const sqitchPlan = "sqitch.plan"

var (
	sqitchTimestamp = `(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)`
	sqitchTail      = `\s+(.*?)\s*<([^>]*)>\s*(?:#(.*))?$`
	sqitchChangeRe  = regexp.MustCompile(`^([+-]?)([^\s\[\]@:#\\]+)\s*(?:\[([^\]]*)\])?\s*` + sqitchTimestamp + sqitchTail)
	sqitchTagRe     = regexp.MustCompile(`^@([^\s\[\]@:#/\\]+)\s+` + sqitchTimestamp + sqitchTail)
)

const sqitchLineHint = "changes are written: name [dependencies] 2024-01-31T12:00:00Z Planner Name <planner@example.com> # note"

type sqitchChange struct {
	name string
	line int
	deps []string
	tags []string // tags planned right after the change
}

// sqitchProjectRe is the %project pragma; sqitch's pragma grammar (lib/App/Sqitch/Plan.pm $pragma)
// allows blanks after %, around = and at the end: "%project = flipr" names the project flipr.
var sqitchProjectRe = regexp.MustCompile(`^%[ \t]*project[ \t]*=[ \t]*(.*?)[ \t]*$`)

func (r *reader) readSqitch() {
	if !r.exists(sqitchPlan) {
		return
	}
	src, ok := r.load(sqitchPlan)
	if !ok {
		return
	}
	var changes []*sqitchChange
	tags := map[string]int{}
	for i, line := range strings.Split(src, "\n") {
		n := i + 1
		line = strings.TrimSpace(line)
		if n == 1 {
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		switch {
		case sqitchProjectRe.MatchString(line):
			r.project = sqitchProjectRe.FindStringSubmatch(line)[1]
			continue
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "%"):
			continue
		case strings.HasPrefix(line, "@"):
			m := sqitchTagRe.FindStringSubmatch(line)
			switch {
			case m == nil:
				r.errorf(sqitchPlan, n, "tags are written: @name 2024-01-31T12:00:00Z Planner Name <planner@example.com> # note", "malformed sqitch tag line")
			case len(changes) == 0:
				r.errorf(sqitchPlan, n, "plan a change before the first tag", "tag @%s before any change", m[1])
			case tags[m[1]] > 0:
				r.errorf(sqitchPlan, n, "give each tag its own name", "duplicate tag @%s (also line %d)", m[1], tags[m[1]])
			default:
				tags[m[1]] = n
				last := changes[len(changes)-1]
				last.tags = append(last.tags, m[1])
			}
			continue
		}
		m := sqitchChangeRe.FindStringSubmatch(line)
		if m == nil {
			r.errorf(sqitchPlan, n, sqitchLineHint, "malformed sqitch change line")
			continue
		}
		if m[1] == "-" {
			r.errorf(sqitchPlan, n, "remove the change from the plan instead", "reverting a change in the plan (-%s) is not supported", m[2])
			continue
		}
		c := &sqitchChange{name: m[2], line: n}
		for _, dep := range strings.Fields(m[3]) {
			if strings.HasPrefix(dep, "!") {
				continue // a conflict, not a requirement
			}
			c.deps = append(c.deps, dep)
			if strings.Contains(dep, ":") {
				continue // another project's change
			}
			// name, name@tag (the change as of a tag) or @tag (whatever the plan holds up to the tag).
			depName, tag, hasTag := strings.Cut(dep, "@")
			switch {
			case depName != "" && !sqitchPlanned(changes, depName):
				r.errorf(sqitchPlan, n, "plan "+depName+" before "+c.name, "change %s requires %s, which is not planned before it", c.name, dep)
			case hasTag && tag != "HEAD" && tag != "ROOT" && tags[tag] == 0:
				r.errorf(sqitchPlan, n, "tag @"+tag+" on a change planned before "+c.name, "change %s requires %s, but tag @%s is not planned before it", c.name, dep, tag)
			}
		}
		changes = append(changes, c)
	}
	vars := r.sqitchVariables()
	used := map[string]bool{}
	planned := map[string]int{} // instances of each change name so far
	for i, c := range changes {
		rework := planned[c.name]
		planned[c.name]++
		version := c.name
		if suffix, ok := r.sqitchReworkSuffix(changes, i); !ok {
			continue
		} else if suffix != "" {
			version += "@" + suffix
		}
		deploy := "deploy/" + version + ".sql"
		used[deploy] = true
		if !r.exists(deploy) {
			r.errorf(sqitchPlan, c.line, "create it with sqitch add "+c.name, "change %s has no deploy script %s", version, deploy)
			continue
		}
		upSrc, ok := r.load(deploy)
		if !ok {
			continue
		}
		m := &Migration{Version: version, Name: c.name, Requires: c.deps, Rework: rework, Up: r.psqlScript(deploy, upSrc, vars["deploy"])}
		m.Down = r.optionalScript("revert/"+version+".sql", vars["revert"])
		m.Verify = r.optionalScript("verify/"+version+".sql", vars["verify"])
		r.checkEmpty(m, 0, "sqitch", "deploy script")
		r.migrations = append(r.migrations, m)
	}
	_ = fs.WalkDir(r.fsys, "deploy", func(p string, d fs.DirEntry, err error) error {
		if err == nil && isSQL(p) && !used[p] && r.isFile(p, d) {
			r.errorf(p, 0, "plan it with sqitch add, or delete it", "deploy script of no change in sqitch.plan")
		}
		return nil
	})
}

// sqitchReworkSuffix returns the tag whose name an older instance of a reworked change carries in its
// file names ("" for the last instance). Like sqitch, it takes the first tag between this instance and
// the next whose deploy script exists, else the first tag. ok is false when no tag separates them.
func (r *reader) sqitchReworkSuffix(changes []*sqitchChange, i int) (string, bool) {
	var between []string
	for _, later := range changes[i:] {
		if later != changes[i] && later.name == changes[i].name {
			if len(between) == 0 {
				r.errorf(sqitchPlan, later.line, "tag the plan (sqitch tag) before reworking a change",
					"change %s is planned again without a tag since line %d", later.name, changes[i].line)
				return "", false
			}
			for _, t := range between {
				if r.exists("deploy/" + changes[i].name + "@" + t + ".sql") {
					return t, true
				}
			}
			return between[0], true
		}
		between = append(between, later.tags...)
	}
	return "", true
}

func sqitchPlanned(changes []*sqitchChange, name string) bool {
	for _, c := range changes {
		if c.name == name {
			return true
		}
	}
	return false
}

// optionalScript reads a script that may be missing (a sqitch revert or verify script), which psql runs.
func (r *reader) optionalScript(name string, vars map[string]string) *Script {
	if !r.exists(name) {
		return nil
	}
	src, ok := r.load(name)
	if !ok {
		return nil
	}
	return r.psqlScript(name, src, vars)
}

func (r *reader) exists(name string) bool {
	info, err := fs.Stat(r.fsys, name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		r.errorf(name, 0, "", "%v", err)
	}
	return err == nil && info.Mode().IsRegular()
}

// sqitchConf is sqitch's project configuration file, next to sqitch.plan.
const sqitchConf = "sqitch.conf"

// sqitchVariables reads the psql variables sqitch sets for each kind of script ("deploy", "revert",
// "verify") from sqitch.conf, in sqitch's order of precedence: [core "variables"], [deploy "variables"],
// for revert and verify scripts [revert "variables"] or [verify "variables"], then the PostgreSQL
// engine's [engine "pg.variables"]. sqitch.conf is in Git's configuration format. (Target sections,
// the user's and the system's sqitch.conf and --set are not read.)
func (r *reader) sqitchVariables() map[string]map[string]string {
	out := map[string]map[string]string{"deploy": {}, "revert": {}, "verify": {}}
	if !r.exists(sqitchConf) {
		return out
	}
	src, ok := r.load(sqitchConf)
	if !ok {
		return out
	}
	sections := map[string]map[string]string{}
	var current map[string]string
	for i, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(line, "\uFEFF"))
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			continue
		case line[0] == '[':
			m := gitConfigSection.FindStringSubmatch(line)
			if m == nil {
				r.errorf(sqitchConf, i+1, `sections are written [name] or [name "subsection"]`, "malformed section header in sqitch.conf")
				current = nil
				continue
			}
			current = nil
			if sub := strings.ToLower(m[2]); (sub == "variables" || m[1] == "engine" && sub == "pg.variables") && m[3] == "" {
				key := strings.ToLower(m[1])
				if sections[key] == nil {
					sections[key] = map[string]string{}
				}
				current = sections[key]
			}
		case current != nil:
			key, value, found := strings.Cut(line, "=")
			if !found {
				value = "true" // Git's shorthand for a boolean
			}
			current[strings.TrimSpace(key)] = gitConfigValue(strings.TrimSpace(value))
		}
	}
	for kind, vars := range out {
		for _, section := range []string{"core", "deploy", kind, "engine"} {
			for k, v := range sections[section] {
				vars[k] = v
			}
		}
	}
	return out
}

// gitConfigSection matches [section] and [section "subsection"], with the subsection's inner part
// in m[2] (and m[3] set when something follows the closing bracket).
var gitConfigSection = regexp.MustCompile(`^\[\s*([A-Za-z0-9.-]+)\s*(?:"((?:[^"\\]|\\.)*)")?\s*\](\s*[^\s#;].*)?`)

// gitConfigValue reads a Git configuration value: comments after # or ; outside double quotes are
// dropped, double quotes removed, \" \\ \n \t unescaped.
func gitConfigValue(v string) string {
	var b strings.Builder
	quoted := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"':
			quoted = !quoted
		case (c == '#' || c == ';') && !quoted:
			return strings.TrimSpace(b.String())
		case c == '\\' && i+1 < len(v):
			i++
			switch v[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteByte(v[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
