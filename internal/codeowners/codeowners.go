// Package codeowners parses CODEOWNERS files in GitHub's and GitLab's dialects and answers who owns a
// path. It reads no files itself: callers fetch the file (from the base branch, never the change's head)
// from one of Locations.
package codeowners

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Dialect is a code host's flavour of CODEOWNERS.
type Dialect int

// Dialects.
const (
	GitHub Dialect = iota
	GitLab
)

func (d Dialect) String() string {
	if d == GitLab {
		return "gitlab"
	}
	return "github"
}

// Locations are the places the platform looks for CODEOWNERS, in order; the first found is used.
func Locations(d Dialect) []string {
	if d == GitLab {
		return []string{"CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS"}
	}
	return []string{".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"}
}

// Problem is a line the platform would skip, with its 1-based line number.
type Problem struct {
	Line int
	Msg  string
	// Read says the line was read all the same (a byte-order mark before it); other problems' lines are
	// skipped.
	Read bool
}

func (p Problem) String() string { return fmt.Sprintf("line %d: %s", p.Line, p.Msg) }

// Rule is one pattern line.
type Rule struct {
	Pattern string
	// Owners are the line's owners as written ("@user", "@org/team", "a@b.c", GitLab "@@role"); on
	// GitLab a line without owners takes its section header's default owners.
	Owners []string
	Line   int
	// Exclude marks a GitLab "!pattern" line: matching paths are not owned in the section.
	Exclude bool

	pat *pattern
}

// Section is a GitLab section (GitHub files have one unnamed section).
type Section struct {
	// Name is the section's name as first written; "" for entries before any section header.
	Name string
	// Optional sections (^[Name]) do not block merge requests.
	Optional bool
	// Approvals is the section's required approval count ([Name][N]); 1 when not written.
	Approvals int
	Rules     []*Rule
	Line      int

	// entries is where each normalized pattern sits in Rules (GitLab): GitLab keeps a section's entries
	// in a Ruby Hash keyed by it, so a pattern written again replaces the earlier entry in its place.
	entries map[string]int
}

// File is a parsed CODEOWNERS file.
type File struct {
	Dialect  Dialect
	Sections []*Section
}

// Match is one section's owners of a path.
type Match struct {
	Section   string
	Optional  bool
	Approvals int
	// Rule is the pattern line that decided, nil when none matched.
	Rule *Rule
	// Owners owns the path in this section; empty means explicitly un-owned.
	Owners []string
}

var (
	// GitHub logins: letters, digits and inner hyphens; Enterprise Managed Users add _shortcode.
	userRe  = regexp.MustCompile(`^@[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?(?:\[bot\])?$`)
	teamRe  = regexp.MustCompile(`^@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?/[A-Za-z0-9_.-]+$`)
	groupRe = regexp.MustCompile(`^@[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*$`)
	roleRe  = regexp.MustCompile(`^@@(?:developer|developers|maintainer|maintainers|owner|owners)$`)
	emailRe = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	// escapedSpace is whitespace escaped in a GitLab pattern, which normalize_pattern makes one space.
	escapedSpace = regexp.MustCompile(`\\\s+`)
	sectionRe    = regexp.MustCompile(`^(\^)?\[([^\]]*)\](?:\[([^\]]*)\])?(?:\s+(.*))?$`)
)

// Parse parses a CODEOWNERS file. Lines the platform would skip are reported as problems, never fatal.
func Parse(d Dialect, data []byte) (*File, []Problem) {
	f := &File{Dialect: d}
	var probs []Problem
	cur := &Section{Approvals: 1}
	f.Sections = append(f.Sections, cur)
	var defaults []string
	if rest, ok := bytes.CutPrefix(data, []byte("\uFEFF")); ok {
		// An editor's byte-order mark: git reads past it in ignore files, which CODEOWNERS patterns follow;
		// kept, it would make the first pattern match nothing. Read past it, and say so: the forge may not.
		data = rest
		probs = append(probs, Problem{Line: 1, Read: true, Msg: "the file starts with a byte-order mark (U+FEFF), read past here; " +
			"the forge may take it for part of the first line's pattern, which then owns nothing: save the file without it"})
	}
	for i, raw := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		n := i + 1
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if d == GitLab && (strings.HasPrefix(line, "[") || strings.HasPrefix(line, "^[")) {
			if m := sectionRe.FindStringSubmatch(line); m != nil {
				sec, defs, problems := parseSection(m, n)
				probs = append(probs, problems...)
				if sec == nil {
					continue
				}
				cur, defaults = f.mergeSection(sec), defs
				continue
			}
			if !strings.Contains(line, " ") || strings.HasPrefix(line, "^") {
				probs = append(probs, Problem{Line: n, Msg: fmt.Sprintf("malformed section header %q", line)})
				continue
			}
		}
		fields := splitFields(line, d == GitHub)
		pat := fields[0]
		rule := &Rule{Pattern: pat, Line: n}
		if d == GitLab {
			pat = strings.Replace(pat, `\#`, "#", 1)
			if rest, ok := strings.CutPrefix(pat, "!"); ok {
				rule.Exclude, pat = true, rest
			}
		}
		var err error
		if d == GitLab {
			rule.pat, err = compileGitLab(pat)
		} else {
			rule.pat, err = compileGitHub(pat)
		}
		if err != nil {
			probs = append(probs, Problem{Line: n, Msg: fmt.Sprintf("pattern %q: %v", fields[0], err)})
			continue
		}
		bad := false
		for _, o := range fields[1:] {
			if !validOwner(d, o) {
				probs = append(probs, Problem{Line: n, Msg: fmt.Sprintf("owner %q is not a @user, @org/team or e-mail address", o)})
				bad = true
				continue
			}
			rule.Owners = append(rule.Owners, o)
		}
		if bad && d == GitHub {
			// GitHub skips the whole line when an owner is invalid.
			continue
		}
		if len(rule.Owners) == 0 && !rule.Exclude {
			rule.Owners = slices.Clone(defaults)
		}
		if d == GitLab {
			cur.add(gitlabKey(pat), rule)
			continue
		}
		cur.Rules = append(cur.Rules, rule)
	}
	return f, probs
}

func parseSection(m []string, line int) (*Section, []string, []Problem) {
	var probs []Problem
	name := strings.TrimSpace(m[2])
	if name == "" {
		return nil, nil, []Problem{{Line: line, Msg: "section header with an empty name"}}
	}
	sec := &Section{Name: name, Optional: m[1] == "^", Approvals: 1, Line: line}
	if m[3] != "" {
		n, err := strconv.Atoi(strings.TrimSpace(m[3]))
		if err != nil || n < 1 {
			probs = append(probs, Problem{Line: line, Msg: fmt.Sprintf("section %q: approval count %q is not a positive number", name, m[3])})
		} else {
			sec.Approvals = n
		}
	}
	var defs []string
	for _, o := range splitFields(m[4], false) {
		if o == "" {
			continue
		}
		if !validOwner(GitLab, o) {
			probs = append(probs, Problem{Line: line, Msg: fmt.Sprintf("section %q: default owner %q is not a @user, @group or e-mail address", name, o)})
			continue
		}
		defs = append(defs, o)
	}
	return sec, defs, probs
}

// add appends rule to the section, or, when a rule of the same key is there already, puts it in that
// rule's place. GitLab (ee/lib/gitlab/code_owners/file.rb) stores each section's entries as
// parsed[section][normalized_pattern] = Entry in a Ruby Hash, and assigning to a key that is there keeps
// its position, then reads keys.reverse: a pattern written again within a section takes the owners of
// its last line at the position of its first. So with /db/ @dev, /db/migrations/ @dba and /db/ @dev
// again, db/migrations/x.sql is @dba's on GitLab, where on GitHub the last matching line (@dev) wins.
func (s *Section) add(key string, rule *Rule) {
	if i, ok := s.entries[key]; ok {
		s.Rules[i] = rule
		return
	}
	if s.entries == nil {
		s.entries = map[string]int{}
	}
	s.entries[key] = len(s.Rules)
	s.Rules = append(s.Rules, rule)
}

// gitlabKey is GitLab's normalize_pattern: the key a section's entry is stored under. p is the pattern
// as compileGitLab takes it (a leading \# unescaped, an exclusion's ! removed: GitLab strips it before
// it normalizes, so !/x and /x are one key). Whitespace after a backslash is a space, a * alone is /**/*, a pattern without a leading / gets
// /**/ in front, and one ending in / gets **/* after.
func gitlabKey(p string) string {
	p = escapedSpace.ReplaceAllString(p, " ")
	switch {
	case p == "*":
		return "/**/*"
	case !strings.HasPrefix(p, "/"):
		p = "/**/" + p
	}
	if strings.HasSuffix(p, "/") {
		p += "**/*"
	}
	return p
}

// SameGitLabEntry reports whether two patterns, as written on a GitLab CODEOWNERS line (an exclusion's !
// and a leading \# escape included, escaped whitespace escaped or not), are one entry of a section:
// GitLab keys a section's entries by normalize_pattern (ee/lib/gitlab/code_owners/file.rb), so /db/ and
// /db/**/* are one entry, db/ and /**/db/ another. GitLab names a merge request's code-owner approval
// rule after the pattern of the entry's line as written (Entry#pattern in
// ApprovalMergeRequestRule.find_or_create_code_owner_rule), where Rule.Pattern has its escaped
// whitespace unescaped: comparing the two needs this, not ==.
func SameGitLabEntry(a, b string) bool {
	return entryKey(a) == entryKey(b)
}

func entryKey(p string) string {
	p = strings.TrimPrefix(p, "!")
	if rest, ok := strings.CutPrefix(p, `\#`); ok {
		p = "#" + rest
	}
	// GitLab splits a line on unescaped whitespace, so whitespace in a pattern was escaped: GitLab makes
	// it a space, whatever it was.
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, gitlabKey(p))
}

// mergeSection returns the existing section of the same name (case-insensitive), merged, or adds sec.
// A section written once as required and once as optional is required.
func (f *File) mergeSection(sec *Section) *Section {
	for _, s := range f.Sections[1:] {
		if strings.EqualFold(s.Name, sec.Name) {
			s.Optional = s.Optional && sec.Optional
			s.Approvals = max(s.Approvals, sec.Approvals)
			return s
		}
	}
	f.Sections = append(f.Sections, sec)
	return sec
}

// splitFields splits a line on unescaped whitespace; with comments, an unescaped " #" starts one.
func splitFields(line string, comments bool) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			out = append(out, b.String())
			b.Reset()
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\' && i+1 < len(line) && (line[i+1] == ' ' || line[i+1] == '\t'):
			b.WriteByte(line[i+1])
			i++
		case c == ' ' || c == '\t':
			flush()
		case c == '#' && comments && b.Len() == 0 && len(out) > 0:
			flush()
			return out
		default:
			b.WriteByte(c)
		}
	}
	flush()
	if len(out) == 0 {
		out = []string{""}
	}
	return out
}

func validOwner(d Dialect, o string) bool {
	if emailRe.MatchString(o) {
		return true
	}
	if d == GitLab {
		return roleRe.MatchString(o) || groupRe.MatchString(o)
	}
	return userRe.MatchString(o) || teamRe.MatchString(o)
}

// Owners returns who owns path, one Match per section that has a say: on GitHub the last matching
// line (none when nothing matches); on GitLab the last matching entry of every section whose
// exclusions do not cover the path, the unnamed section first, where a pattern written twice in a
// section keeps the place of its first line with the owners of its last (see Section.add). A Match with no owners means the
// path is explicitly un-owned. path is relative to the repository root.
func (f *File) Owners(path string) []Match {
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var out []Match
	for _, s := range f.Sections {
		var hit *Rule
		excluded := false
		for _, r := range s.Rules {
			if !r.pat.matchParts(parts) {
				continue
			}
			if r.Exclude {
				excluded = true
				continue
			}
			hit = r
		}
		if hit == nil || excluded {
			continue
		}
		out = append(out, Match{Section: s.Name, Optional: s.Optional, Approvals: s.Approvals, Rule: hit, Owners: hit.Owners})
	}
	return out
}

// Match reports whether the rule's pattern matches path.
func (r *Rule) Match(path string) bool {
	return r.pat != nil && r.pat.match(strings.TrimPrefix(path, "/"))
}
