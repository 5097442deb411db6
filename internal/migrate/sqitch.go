package migrate

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/schemagate/schemagate/internal/repofs"
)

// sqitch (sqitch.org): sqitch.plan lists changes in deploy order, each with deploy/, revert/ (our Down)
// and verify/ scripts named after the change. A change planned again after a tag (reworked) keeps its
// older scripts as deploy/{change}@{tag}.sql. sqitch.conf may move the plan and the scripts (top_dir,
// plan_file, deploy_dir...; see sqitchLayout), or the file $SQITCH_CONFIG names in its stead (see
// sqitchEnvConf); the user's and the system's sqitch.conf may too, and set variables (see
// sqitchOuterConf).

const sqitchPlan = "sqitch.plan"

var (
	sqitchTimestamp = `(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)`
	sqitchTail      = `\s+(.*?)\s*<([^>]*)>\s*(?:#(.*))?$`
	sqitchChangeRe  = regexp.MustCompile(`^([+-]?)([^\s\[\]@:#\\]+)\s*(?:\[([^\]]*)\])?\s*` + sqitchTimestamp + sqitchTail)
	sqitchTagRe     = regexp.MustCompile(`^@([^\s\[\]@:#/\\]+)\s+` + sqitchTimestamp + sqitchTail)
)

// sqitchPunct is sqitch's $punct (lib/App/Sqitch/Plan.pm): [:punct:] of ASCII without _.
const sqitchPunct = "-!\"#$%&'()*+,./:;<=>?@[\\]^`{|}~"

// sqitchReserved are the names sqitch keeps for itself (Plan.pm %reserved): symbolic references
// (@HEAD, @ROOT, and FIRST and LAST, which older plans used), for changes and tags alike.
var sqitchReserved = map[string]bool{"HEAD": true, "ROOT": true, "FIRST": true, "LAST": true}

// sqitchSHA1 is what sqitch takes for a change ID: a name starting with 40 lower-case hex digits
// would be read as one wherever a change is named (sqitch deploy --to, a dependency).
var sqitchSHA1 = regexp.MustCompile(`^[0-9a-f]{40}`)

// sqitchNameProblem says why sqitch's plan parser (Plan.pm _parse, with $name_re) refuses name, a change
// name or a tag name without its @, in sqitch's words; "" when it takes it. $name_re: the first and the
// last character are not punctuation (sqitchPunct), the last is a word character (\b), no character is
// a blank, :, @, # or \, and the name does not end in ~, /, =, % or ^ followed by digits (a symbolic
// reference: change^2, @tag~1). The name must not be reserved nor look like a SHA1 ID.
func sqitchNameProblem(name string, tag bool) string {
	first, _ := utf8.DecodeRuneInString(name)
	last, _ := utf8.DecodeLastRuneInString(name)
	word := func(r rune) bool { // Perl's \w
		return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Nl, r) || unicode.IsMark(r) || unicode.Is(unicode.Pc, r)
	}
	digits := strings.TrimRightFunc(name, unicode.IsDigit)
	symbolic := len(digits) < len(name) && digits != "" && strings.ContainsRune("~/=%^", rune(digits[len(digits)-1]))
	switch {
	case name == "" || strings.ContainsRune(sqitchPunct, first) || strings.ContainsRune(sqitchPunct, last) || !word(last) || symbolic ||
		strings.ContainsFunc(name, func(r rune) bool { return r == ' ' || r == '\t' || r == ':' || r == '@' || r == '#' || r == '\\' }):
		return `Invalid name; names must not begin with punctuation, contain "@", ":", "#", "\", or blanks, or end in punctuation or digits following punctuation`
	case sqitchReserved[name] && tag:
		return fmt.Sprintf("%q is a reserved name", "@"+name)
	case sqitchReserved[name]:
		return fmt.Sprintf("%q is a reserved name", name)
	case sqitchSHA1.MatchString(name):
		return fmt.Sprintf("%q is invalid because it could be confused with a SHA1 ID", name)
	}
	return ""
}

// sqitchNameHint is the hint for a name sqitch refuses.
const sqitchNameHint = "rename it: sqitch names start and end with a letter, digit or _ (not other punctuation), hold no blank, :, @, # or \\, do not end in ~, /, =, % or ^ and digits, and are not HEAD, ROOT, FIRST, LAST or 40 hex digits"

const sqitchLineHint = "changes are written: name [dependencies] 2024-01-31T12:00:00Z Planner Name <planner@example.com> # note"

type sqitchChange struct {
	name      string
	line      int
	deps      []string
	conflicts []string // the change's !dependencies, without the !
	tags      []string // tags planned right after the change
	// entry is what sqitch's change ID covers of the line (see PlanEntry), the project and URI aside:
	// name, planner, date, dependencies and note, as written.
	entry string
	// afterUnread is set when a line that does not read as a change (malformed, or a -change) comes
	// between this change and the one read before it: sqitch's parent of the change is not known.
	afterUnread bool
}

// sqitchProjectRe is the %project pragma; sqitch's pragma grammar (lib/App/Sqitch/Plan.pm $pragma)
// allows blanks after %, around = and at the end: "%project = flipr" names the project flipr.
var sqitchProjectRe = regexp.MustCompile(`^%[ \t]*project[ \t]*=[ \t]*(.*?)[ \t]*$`)

// sqitchURIRe is the %uri pragma, part of every change's ID.
var sqitchURIRe = regexp.MustCompile(`^%[ \t]*uri[ \t]*=[ \t]*(.*?)[ \t]*$`)

func (r *reader) readSqitch() {
	lay := r.sqitchLayout()
	if lay == nil {
		return
	}
	planFile := lay.plan
	if !r.exists(planFile) {
		if lay.conf != nil && planFile != sqitchPlan {
			key, v := lay.conf.fetch("plan_file")
			if v.line == 0 {
				key, v = lay.conf.fetch("top_dir")
			}
			r.errorf(cmp.Or(v.file, lay.conf.file), v.line, "fix "+key+" in sqitch.conf, or create the plan with sqitch init",
				"no sqitch plan %s: sqitch.conf sets %s = %s", planFile, key, v.value)
		}
		return
	}
	src, ok := r.load(planFile)
	if !ok {
		return
	}
	var changes []*sqitchChange
	var uri string
	tags := map[string]int{}      // line of each tag
	tagChange := map[string]int{} // index in changes of the change each tag is on
	unread := false               // a line that may be a change did not read since the last change
	var refused []string          // change names sqitch refuses: their scripts are no strays
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
		case sqitchURIRe.MatchString(line):
			uri = sqitchURIRe.FindStringSubmatch(line)[1]
			continue
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "%"):
			continue
		case strings.HasPrefix(line, "@"):
			m := sqitchTagRe.FindStringSubmatch(line)
			switch {
			case m == nil:
				r.errorf(planFile, n, "tags are written: @name 2024-01-31T12:00:00Z Planner Name <planner@example.com> # note", "malformed sqitch tag line")
			case sqitchNameProblem(m[1], true) != "":
				r.errorf(planFile, n, sqitchNameHint, "invalid tag name @%s: sqitch refuses the plan (%s)", m[1], sqitchNameProblem(m[1], true))
			case len(changes) == 0:
				r.errorf(planFile, n, "plan a change before the first tag", "tag @%s before any change", m[1])
			case tags[m[1]] > 0:
				r.errorf(planFile, n, "give each tag its own name", "duplicate tag @%s (also line %d)", m[1], tags[m[1]])
			default:
				tags[m[1]] = n
				tagChange[m[1]] = len(changes) - 1
				last := changes[len(changes)-1]
				last.tags = append(last.tags, m[1])
			}
			continue
		}
		m := sqitchChangeRe.FindStringSubmatch(line)
		if m == nil {
			r.errorf(planFile, n, sqitchLineHint, "malformed sqitch change line")
			unread = true
			continue
		}
		if m[1] == "-" {
			r.errorf(planFile, n, "remove the change from the plan instead", "reverting a change in the plan (-%s) is not supported", m[2])
			unread = true
			continue
		}
		if problem := sqitchNameProblem(m[2], false); problem != "" {
			r.errorf(planFile, n, sqitchNameHint, "invalid change name %s: sqitch refuses the plan (%s)", m[2], problem)
			refused = append(refused, m[2])
			unread = true
			continue
		}
		c := &sqitchChange{name: m[2], line: n, entry: sqitchEntry(m), afterUnread: unread}
		unread = false
		seenDeps := map[string]bool{}
		for _, dep := range strings.Fields(m[3]) {
			if seenDeps[dep] {
				// Plan.pm _parse: each dependency as written, once ("Duplicate dependency").
				r.errorf(planFile, n, "write each dependency once", "change %s lists %s twice: sqitch refuses the plan (Duplicate dependency %q)", c.name, dep, dep)
				continue
			}
			seenDeps[dep] = true
			if conflict, ok := strings.CutPrefix(dep, "!"); ok {
				c.conflicts = append(c.conflicts, conflict)
				continue // checked once the whole plan is read: it may name a change planned later
			}
			c.deps = append(c.deps, dep)
			key, project := r.sqitchDependency(dep)
			if project != "" {
				r.warnf(planFile, n, fmt.Sprintf("sqitch refuses to deploy %s until %s is deployed: deploy project %s first", c.name, dep, project),
					"change %s requires %s, a change of project %s: schemagate cannot check that it is deployed", c.name, dep, project)
				continue
			}
			// name, name@tag (the change as of a tag) or @tag (whatever the plan holds up to the tag).
			depName, tag, hasTag := strings.Cut(key, "@")
			switch {
			case depName != "" && !sqitchPlanned(changes, depName):
				r.errorf(planFile, n, "plan "+depName+" before "+c.name, "change %s requires %s, which is not planned before it", c.name, dep)
			case hasTag && tag != "HEAD" && tag != "ROOT" && tags[tag] == 0:
				r.errorf(planFile, n, "tag @"+tag+" on a change planned before "+c.name, "change %s requires %s, but tag @%s is not planned before it", c.name, dep, tag)
			}
		}
		changes = append(changes, c)
	}
	r.sqitchConflicts(planFile, changes, tagChange)
	if len(changes) == 0 && planFile != sqitchPlan {
		r.errorf(planFile, 0, "plan one with sqitch add", "no change in %s", planFile)
	}
	vars := lay.conf.variables()
	used := map[string]bool{}
	for _, name := range refused {
		used[lay.script("deploy", false, name)] = true // the error is the name's, not the script's
	}
	planned := map[string]int{} // instances of each change name so far
	parent := ""                // the Key of the change planned before c
	for i, c := range changes {
		rework := planned[c.name]
		planned[c.name]++
		entry := &PlanEntry{File: planFile, Line: c.line, Info: "project " + r.project + "\n", Parent: parent}
		if uri != "" {
			entry.Info += "uri " + uri + "\n"
		}
		entry.Info += c.entry
		r.planned = append(r.planned, &PlannedChange{Name: c.name, Rework: rework, Requires: c.deps, Conflicts: c.conflicts,
			Entry: *entry, ParentUnread: c.afterUnread})
		parent = (&Migration{Version: c.name, Name: c.name, Rework: rework}).Key()
		version := c.name
		suffix, ok := r.sqitchReworkSuffix(lay, changes, i)
		if !ok {
			continue
		}
		if suffix != "" {
			version += "@" + suffix
		}
		reworked := suffix != ""
		deploy := lay.script("deploy", reworked, version)
		used[deploy] = true
		if !r.exists(deploy) {
			// An older instance of a reworked change keeps its script as name@tag, which sqitch rework
			// makes (a copy of the script as of the tag); sqitch add makes a new change's.
			how := "create it with sqitch add " + c.name
			if reworked {
				how = "rework a change with sqitch rework " + c.name + ", which copies " + lay.script("deploy", false, c.name) + " to " + deploy +
					" (the script as of tag @" + suffix + ", which databases deployed) and plans the change again"
			}
			r.errorf(planFile, c.line, how, "change %s has no deploy script %s", version, deploy)
			continue
		}
		upSrc, ok := r.load(deploy)
		if !ok {
			continue
		}
		m := &Migration{Version: version, Name: c.name, Requires: c.deps, Rework: rework, Plan: entry, Up: r.psqlScript(deploy, upSrc, vars["deploy"])}
		m.Down = r.optionalScript(lay.script("revert", reworked, version), vars["revert"])
		m.Verify = r.optionalScript(lay.script("verify", reworked, version), vars["verify"])
		r.checkEmpty(m, 0, "sqitch", "deploy script")
		r.migrations = append(r.migrations, m)
	}
	walked := map[string]bool{}
	for _, dir := range []string{lay.dirs["deploy"], lay.dirs["reworked_deploy"]} {
		if walked[dir] {
			continue
		}
		walked[dir] = true
		_ = fs.WalkDir(r.fsys, dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && strings.EqualFold(path.Ext(p), "."+lay.ext) && !used[p] && r.isFile(p, d) {
				// sqitch opens only the scripts its plan names: a script left over (a change removed
				// from the plan, one not planned yet) is never run, as other tools' stray files are not.
				r.warnf(p, 0, "plan it with sqitch add if it is meant to run, or delete it", "ignored: deploy script of no change in %s, which sqitch never runs", planFile)
			}
			return nil
		})
	}
}

// sqitchEntry is what sqitch's change ID covers of a change line that sqitchChangeRe matched, the
// project and URI aside, in the order of App::Sqitch::Plan::Change info: name, planner, date, required
// and conflicting changes, note. Blanks around the parts do not count, as sqitch parses them away.
func sqitchEntry(m []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "change %s\nplanner %s <%s>\ndate %s", m[2], strings.TrimSpace(m[5]), strings.TrimSpace(m[6]), m[4])
	var reqs, confs []string
	for _, dep := range strings.Fields(m[3]) {
		if c, ok := strings.CutPrefix(dep, "!"); ok {
			confs = append(confs, c)
		} else {
			reqs = append(reqs, dep)
		}
	}
	if len(reqs) > 0 {
		b.WriteString("\nrequires\n  + " + strings.Join(reqs, "\n  + "))
	}
	if len(confs) > 0 {
		b.WriteString("\nconflicts\n  - " + strings.Join(confs, "\n  - "))
	}
	if note := strings.TrimSpace(m[7]); note != "" {
		b.WriteString("\n\n" + note)
	}
	return b.String()
}

// sqitchDependency splits a dependency (without its !) into the key sqitch looks it up by in the plan
// (name, name@tag or @tag) and, for a change of another project (project:change), that project. A
// dependency that names the plan's own project is the plan's (App::Sqitch::Plan::Depend).
func (r *reader) sqitchDependency(dep string) (key, project string) {
	project, key, found := strings.Cut(dep, ":")
	switch {
	case !found:
		return dep, ""
	case project == r.project:
		return key, ""
	}
	return key, project
}

// sqitchConflicts reports the changes sqitch refuses to deploy for a conflict. sqitch deploy checks every
// change's conflicts before it deploys anything (App::Sqitch::Engine check_deploy_dependencies): a
// conflict is one with a change deployed earlier in the same run or already in the registry, that is,
// with a change planned before it (a deploy reverts nothing, and schemagate refuses a plan's -change
// lines). The conflict names a change of the plan as Plan::Depend finds it (ChangeList find): name is
// the change's first instance, name@tag its last instance up to the tag (HEAD: the plan's last change,
// ROOT: its first), @tag the change the tag is on; a name the plan does not hold fails the deploy.
// Another project's change cannot be checked: a warning says so.
func (r *reader) sqitchConflicts(planFile string, changes []*sqitchChange, tagChange map[string]int) {
	tagIndex := func(tag string) (int, bool) {
		switch tag {
		case "HEAD":
			return len(changes) - 1, true
		case "ROOT":
			return 0, true
		}
		i, ok := tagChange[tag]
		return i, ok
	}
	for i, c := range changes {
		for _, dep := range c.conflicts {
			key, project := r.sqitchDependency(dep)
			if project != "" {
				r.warnf(planFile, c.line, fmt.Sprintf("sqitch refuses to deploy %s while %s is deployed", c.name, dep),
					"change %s conflicts with %s, a change of project %s: schemagate cannot check that it is not deployed", c.name, dep, project)
				continue
			}
			name, tag, hasTag := strings.Cut(key, "@")
			at := -1
			switch {
			case !hasTag:
				for j, o := range changes {
					if o.name == name {
						at = j
						break
					}
				}
			case name == "":
				if j, ok := tagIndex(tag); ok {
					at = j
				}
			default:
				j, ok := tagIndex(tag)
				if !ok {
					r.errorf(planFile, c.line, "name a tag of the plan (sqitch fails the deploy: Unknown tag)",
						"change %s conflicts with %s, but tag @%s is not in the plan", c.name, dep, tag)
					continue
				}
				for k := j; k >= 0; k-- {
					if changes[k].name == name {
						at = k
						break
					}
				}
			}
			switch {
			case at < 0:
				r.errorf(planFile, c.line, "name a change of the plan, or another project's as project:change (sqitch fails the deploy: Unable to find change)",
					"change %s conflicts with %s, which is not in the plan", c.name, dep)
			case at < i:
				where := fmt.Sprintf("line %d", changes[at].line)
				if key != changes[at].name {
					where = changes[at].name + ", " + where
				}
				r.errorf(planFile, c.line, fmt.Sprintf("sqitch deploys no change while a change it conflicts with is deployed: drop !%s, or rework %s instead", dep, changes[at].name),
					"sqitch refuses to deploy %s: it conflicts with %s, which the plan deploys before it (%s)", c.name, key, where)
			}
		}
	}
}

// sqitchReworkSuffix returns the tag whose name an older instance of a reworked change carries in its
// file names ("" for the last instance). Like sqitch, it takes the first tag between this instance and
// the next whose deploy script exists, else the first tag. ok is false when no tag separates them.
func (r *reader) sqitchReworkSuffix(lay *sqitchLayout, changes []*sqitchChange, i int) (string, bool) {
	var between []string
	for _, later := range changes[i:] {
		if later != changes[i] && later.name == changes[i].name {
			if len(between) == 0 {
				r.errorf(lay.plan, later.line, "tag the plan (sqitch tag) before reworking a change",
					"change %s is planned again without a tag since line %d", later.name, changes[i].line)
				return "", false
			}
			for _, t := range between {
				if r.exists(lay.script("deploy", true, changes[i].name+"@"+t)) {
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

// sqitchConf is sqitch's project configuration file. sqitch reads ./sqitch.conf of the folder it runs
// in (App::Sqitch::Config local_file), over the user's and the system's (sqitchOuterConf).
const sqitchConf = "sqitch.conf"

// sqitchConfig is what schemagate reads of a sqitch.conf, which is in Git's configuration format.
type sqitchConfig struct {
	file   string // its name for messages, relative to the migration folder
	values map[sqitchKey]sqitchValue
	vars   map[string]map[string]string // psql variables by section: core, deploy, revert, verify, engine
}

// sqitchKey is a key of sqitch.conf: section and name in lower case (Git compares them so), the
// subsection as written ([engine "pg"]).
type sqitchKey struct{ section, sub, name string }

type sqitchValue struct {
	value string
	file  string // the file that sets it, for messages
	line  int
}

// parseSqitchConf reads a sqitch.conf; malformed section headers are errors at their line.
func (r *reader) parseSqitchConf(file, src string) *sqitchConfig {
	c := &sqitchConfig{file: file, values: map[sqitchKey]sqitchValue{}, vars: map[string]map[string]string{}}
	var section, sub string
	var current map[string]string
	for i, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(line, "\uFEFF"))
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			continue
		case line[0] == '[':
			m := gitConfigSection.FindStringSubmatch(line)
			section, sub, current = "", "", nil
			if m == nil {
				r.errorf(file, i+1, `sections are written [name] or [name "subsection"]`, "malformed section header in sqitch.conf")
				continue
			}
			if m[3] != "" {
				continue
			}
			section, sub = strings.ToLower(m[1]), m[2]
			if lsub := strings.ToLower(sub); lsub == "variables" || m[1] == "engine" && lsub == "pg.variables" {
				if c.vars[section] == nil {
					c.vars[section] = map[string]string{}
				}
				current = c.vars[section]
			}
		case section != "":
			key, value, found := strings.Cut(line, "=")
			if !found {
				value = "true" // Git's shorthand for a boolean
			}
			key, value = strings.TrimSpace(key), gitConfigValue(strings.TrimSpace(value))
			if current != nil {
				current[key] = value
				continue
			}
			c.values[sqitchKey{section, sub, strings.ToLower(key)}] = sqitchValue{value, file, i + 1}
		}
	}
	return c
}

// over is c read over lower, as Config::GitLike reads sqitch's files one after the other: each key
// (and each variable) c sets replaces lower's. Either may be nil.
func (c *sqitchConfig) over(lower *sqitchConfig) *sqitchConfig {
	if lower == nil {
		return c
	}
	if c == nil {
		return lower
	}
	out := &sqitchConfig{file: c.file, values: maps.Clone(lower.values), vars: map[string]map[string]string{}}
	maps.Copy(out.values, c.values)
	for _, from := range []*sqitchConfig{lower, c} {
		for section, vars := range from.vars {
			if out.vars[section] == nil {
				out.vars[section] = map[string]string{}
			}
			maps.Copy(out.vars[section], vars)
		}
	}
	return out
}

// fetch is sqitch's App::Sqitch::Target _fetch: the target's setting, else the engine's (pg), else the
// core one. It returns the key for messages (top_dir for core's, engine.pg.top_dir) and its value; a
// zero value when none is set. The target is core.target, else engine.pg.target, when it names a
// [target "..."] section rather than a URI.
func (c *sqitchConfig) fetch(name string) (string, sqitchValue) {
	if c == nil {
		return name, sqitchValue{}
	}
	target := c.values[sqitchKey{"core", "", "target"}].value
	if target == "" {
		target = c.values[sqitchKey{"engine", "pg", "target"}].value
	}
	for _, k := range []sqitchKey{{"target", target, name}, {"engine", "pg", name}, {"core", "", name}} {
		if k.section == "target" && (target == "" || strings.Contains(target, ":")) {
			continue
		}
		if v, ok := c.values[k]; ok && v.value != "" {
			switch k.section {
			case "core":
				return name, v
			case "engine":
				return "engine.pg." + name, v
			}
			return "target." + target + "." + name, v
		}
	}
	return name, sqitchValue{}
}

// variables are the psql variables sqitch sets for each kind of script ("deploy", "revert", "verify"),
// in sqitch's order of precedence: [core "variables"], [deploy "variables"], for revert and verify
// scripts [revert "variables"] or [verify "variables"], then the PostgreSQL engine's
// [engine "pg.variables"]. (Target sections and --set are not read.) A nil configuration sets none.
func (c *sqitchConfig) variables() map[string]map[string]string {
	out := map[string]map[string]string{"deploy": {}, "revert": {}, "verify": {}}
	if c == nil {
		return out
	}
	for kind, vars := range out {
		for _, section := range []string{"core", "deploy", kind, "engine"} {
			for k, v := range c.vars[section] {
				vars[k] = v
			}
		}
	}
	return out
}

// sqitchLayout is where sqitch finds the plan and the scripts of the migration folder, as paths in it.
type sqitchLayout struct {
	conf *sqitchConfig // the sqitch.conf read, nil when none
	plan string
	dirs map[string]string // deploy, revert, verify, reworked_deploy, reworked_revert, reworked_verify
	ext  string            // the scripts' extension, without the dot
}

// script is the path of a change's script of the given kind ("deploy"); an older instance of a reworked
// change (version name@tag) keeps its scripts in the reworked folders.
func (l *sqitchLayout) script(kind string, reworked bool, version string) string {
	dir := l.dirs[kind]
	if reworked {
		dir = l.dirs["reworked_"+kind]
	}
	return path.Join(dir, version+"."+l.ext)
}

// sqitchLayout reads where sqitch keeps the plan and the scripts (App::Sqitch::Target): plan_file
// (default {top_dir}/sqitch.plan), deploy_dir, revert_dir, verify_dir (default {top_dir}/deploy...),
// reworked_dir (default top_dir) and its reworked_deploy_dir..., extension (default sql), each from the
// target's section, the engine's ([engine "pg"]) or [core]; top_dir defaults to the folder sqitch runs in.
//
// sqitch reads ./sqitch.conf where it runs. A migration folder that holds sqitch.conf is such a folder.
// One that does not may be the top_dir of the sqitch.conf in the working directory (sqitch run from
// there, schemagate too: check --dir db): that sqitch.conf is read when its plan is this folder's (the
// same %project). nil when a path of sqitch.conf leads out of the folder (an error says so).
//
// $SQITCH_CONFIG, when set, names the file sqitch reads instead of ./sqitch.conf (sqitchEnvConf).
//
// Under the sqitch.conf read (or none) lie the user's and the system's (sqitchOuterConf), whose paths are
// relative to the folder sqitch runs in too.
func (r *reader) sqitchLayout() *sqitchLayout {
	if name, ok := sqitchConfigEnv(); ok {
		conf, top := r.sqitchEnvConf(name)
		return r.sqitchLayoutOf(conf.over(r.sqitchOuterConf()), top)
	}
	if r.exists(sqitchConf) {
		src, ok := r.loadText(sqitchConf)
		if !ok {
			return nil
		}
		return r.sqitchLayoutOf(r.parseSqitchConf(sqitchConf, src).over(r.sqitchOuterConf()), ".")
	}
	if conf, top := r.sqitchWorkingConf(); conf != nil {
		return r.sqitchLayoutOf(conf.over(r.sqitchOuterConf()), top)
	}
	return r.sqitchLayoutOf(r.sqitchOuterConf(), ".")
}

// sqitchLayoutOf is the layout conf sets, its paths relative to the folder sqitch runs in, whose
// top_dir is the migration folder (base: "." when it is the folder itself).
func (r *reader) sqitchLayoutOf(conf *sqitchConfig, base string) *sqitchLayout {
	lay := &sqitchLayout{conf: conf, dirs: map[string]string{}, ext: "sql"}
	bad := false
	get := func(name, def string) string {
		key, v := conf.fetch(name)
		if v.value == "" {
			return def
		}
		p, ok := sqitchPath(base, v.value)
		if !ok {
			bad = true
			r.errorf(v.file, v.line, "run schemagate with --dir at the folder that holds sqitch.conf and the plan and scripts",
				"%s %s leads out of the migration folder", key, v.value)
			return def
		}
		return p
	}
	top := "."
	if base == "." {
		top = get("top_dir", ".")
	}
	lay.plan = get("plan_file", path.Join(top, sqitchPlan))
	for _, kind := range []string{"deploy", "revert", "verify"} {
		lay.dirs[kind] = get(kind+"_dir", path.Join(top, kind))
	}
	reworked := get("reworked_dir", top)
	for _, kind := range []string{"deploy", "revert", "verify"} {
		lay.dirs["reworked_"+kind] = get("reworked_"+kind+"_dir", path.Join(reworked, kind))
	}
	if _, v := conf.fetch("extension"); v.value != "" {
		lay.ext = strings.TrimPrefix(v.value, ".")
	}
	if bad {
		return nil
	}
	return lay
}

// sqitchPath turns a path of sqitch.conf, relative to the folder sqitch runs in, into a path of the
// migration folder, which is base in it; ok is false when it leads out of the migration folder.
func sqitchPath(base, p string) (string, bool) {
	if filepath.IsAbs(p) {
		wd, err := os.Getwd()
		if err != nil || base == "." {
			return "", false
		}
		if p, err = filepath.Rel(wd, p); err != nil {
			return "", false
		}
	}
	rel, err := filepath.Rel(filepath.FromSlash(base), filepath.FromSlash(path.Clean(filepath.ToSlash(p))))
	if err != nil {
		return "", false
	}
	rel = filepath.ToSlash(rel)
	if rel == ".." || strings.HasPrefix(rel, "../") || path.IsAbs(rel) {
		return "", false
	}
	return rel, true
}

// sqitchWorkingConf is the working directory's sqitch.conf when its top_dir is the migration folder:
// its plan (plan_file, default {top_dir}/sqitch.plan) is the folder's, of the same %project. top is
// top_dir, relative to the working directory.
func (r *reader) sqitchWorkingConf() (conf *sqitchConfig, top string) {
	b, err := repofs.ReadFile(sqitchConf)
	if err != nil || !utf8.Valid(b) {
		return nil, ""
	}
	top, ok := r.sqitchWorkingTop(string(b))
	if !ok {
		return nil, ""
	}
	// Messages name it from the migration folder: ../sqitch.conf for top_dir db.
	up := strings.Repeat("../", strings.Count(top, "/")+1)
	if strings.HasPrefix(top, "..") {
		if wd, err := os.Getwd(); err == nil {
			up = filepath.ToSlash(filepath.Join(wd, sqitchConf))
			return r.parseSqitchConf(up, string(b)), top
		}
	}
	return r.parseSqitchConf(up+sqitchConf, string(b)), top
}

// sqitchWorkingTop is the top_dir, relative to the working directory, of src, a configuration file that
// sqitch reads where it runs, when that top_dir is the migration folder: its plan (plan_file, default
// {top_dir}/sqitch.plan, relative to the working directory) is the folder's, of the same %project.
func (r *reader) sqitchWorkingTop(src string) (string, bool) {
	c := (&reader{fsys: r.fsys}).parseSqitchConf(sqitchConf, src)
	_, v := c.fetch("top_dir")
	top := path.Clean(filepath.ToSlash(v.value))
	if filepath.IsAbs(v.value) {
		wd, err := os.Getwd()
		if err != nil {
			return "", false
		}
		if rel, err := filepath.Rel(wd, v.value); err == nil {
			top = filepath.ToSlash(rel)
		}
	}
	if v.value == "" || top == "." {
		return "", false // the project is the working directory: not this folder, which has no configuration of its own
	}
	plan := path.Join(top, sqitchPlan)
	if _, pv := c.fetch("plan_file"); pv.value != "" {
		plan = filepath.ToSlash(pv.value)
	}
	inFolder, ok := sqitchPath(top, plan)
	if !ok {
		return "", false
	}
	onDisk, err := repofs.ReadFile(filepath.FromSlash(path.Clean(plan)))
	if err != nil {
		return "", false
	}
	here, err := fs.ReadFile(r.fsys, inFolder)
	if err != nil {
		return "", false
	}
	if p := sqitchPlanProject(string(here)); p == "" || p != sqitchPlanProject(string(onDisk)) {
		return "", false
	}
	return top, true
}

// sqitchPlanProject is the %project a plan names, "" when none.
func sqitchPlanProject(src string) string {
	for _, line := range strings.Split(src, "\n") {
		if m := sqitchProjectRe.FindStringSubmatch(strings.TrimSpace(strings.TrimPrefix(line, "\uFEFF"))); m != nil {
			return m[1]
		}
	}
	return ""
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

// folderSqitchLayout is the layout the migration folder's own sqitch.conf sets (problems left to
// Read), nil when the folder holds none.
func folderSqitchLayout(fsys fs.FS) *sqitchLayout {
	scratch := &reader{fsys: fsys}
	b, err := fs.ReadFile(fsys, sqitchConf)
	if err != nil {
		return nil
	}
	return scratch.sqitchLayoutOf(scratch.parseSqitchConf(sqitchConf, string(b)), ".")
}

// sqitchParentConf says when a sqitch folder is read without the sqitch.conf that sqitch would read: the
// folder dir holds none, and the nearest sqitch.conf in a folder above it (up to the top of the
// repository that holds dir) sets top_dir to dir. sqitch runs in that folder and reads that sqitch.conf
// (its variables, plan_file, script folders); Read reads it only when it is the working directory's
// (sqitchWorkingConf). nil otherwise. It is a warning: the folder still reads, as sqitch.plan and the
// scripts are there. ReadDir adds it to the set's warnings.
func sqitchParentConf(dir string) *Error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil
	}
	if _, err := os.Stat(filepath.Join(abs, sqitchConf)); err == nil {
		return nil
	}
	wd, _ := os.Getwd()
	top := repofs.Top(abs)
	for p := filepath.Dir(abs); ; p = filepath.Dir(p) {
		conf := filepath.Join(p, sqitchConf)
		if b, err := repofs.ReadFile(conf); err == nil {
			_, v := (&reader{}).parseSqitchConf(sqitchConf, string(b)).fetch("top_dir")
			topDir := v.value
			if topDir != "" && !filepath.IsAbs(topDir) {
				topDir = filepath.Join(p, topDir)
			}
			if topDir == "" || filepath.Clean(topDir) != abs || p == wd {
				return nil
			}
			rel, err := filepath.Rel(abs, conf)
			if err != nil {
				rel = conf
			}
			return &Error{File: filepath.ToSlash(rel), Line: v.line,
				Msg: fmt.Sprintf("ignored: sqitch.conf in %s sets top_dir = %s, this folder; sqitch runs there and reads it (variables, plan_file, script folders), schemagate only when it is in the migration folder or the working directory",
					p, v.value),
				Hint: "run schemagate with --dir " + p + ", or from " + p}
		}
		if p == top || p == filepath.Dir(p) {
			return nil
		}
	}
}
