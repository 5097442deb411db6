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
			depName, _, _ := strings.Cut(dep, "@")
			if !sqitchPlanned(changes, depName) {
				r.errorf(sqitchPlan, n, "plan "+depName+" before "+c.name, "change %s requires %s, which is not planned before it", c.name, dep)
			}
		}
		changes = append(changes, c)
	}
	used := map[string]bool{}
	for i, c := range changes {
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
		m := &Migration{Version: version, Name: c.name, Requires: c.deps, Up: r.psqlScript(deploy, upSrc)}
		m.Down = r.optionalScript("revert/" + version + ".sql")
		m.Verify = r.optionalScript("verify/" + version + ".sql")
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
func (r *reader) optionalScript(name string) *Script {
	if !r.exists(name) {
		return nil
	}
	src, ok := r.load(name)
	if !ok {
		return nil
	}
	return r.psqlScript(name, src)
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
