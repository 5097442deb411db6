package codeowners

import (
	"slices"
	"strings"
	"testing"
)

// githubDocExample is the example file of GitHub's "About code owners" page, rule by rule in the same
// order, with its documented effect checked in TestGitHubDocumentedExample. The last four rules are the
// page's separate examples about un-owning (/apps/github without owners) and re-owning a subfolder.
const githubDocExample = `# This is a comment.
# Each line is a file pattern followed by one or more owners.

*       @global-owner1 @global-owner2
*.js    @js-owner #This is an inline comment.
*.go docs@example.com
*.txt @octo-org/octocats
/build/logs/ @doctocat
docs/*  docs@example.com
apps/ @octocat
/docs/ @doctocat
/scripts/ @doctocat @octocat
**/logs @octocat
/apps/ @octocat
/apps/github
`

func owners(t *testing.T, f *File, path string) string {
	t.Helper()
	ms := f.Owners(path)
	var parts []string
	for _, m := range ms {
		s := strings.Join(m.Owners, " ")
		if m.Section != "" {
			s = "[" + m.Section + "] " + s
		}
		if s == "" {
			s = "(unowned)"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " | ")
}

func TestGitHubDocumentedExample(t *testing.T) {
	f, probs := Parse(GitHub, []byte(githubDocExample))
	if len(probs) != 0 {
		t.Fatalf("problems: %v", probs)
	}
	tests := []struct {
		name, path, want string
	}{
		{"global owners by default", "README.md", "@global-owner1 @global-owner2"},
		{"js anywhere, inline comment dropped", "src/app/main.js", "@js-owner"},
		{"email owner", "cmd/main.go", "docs@example.com"},
		{"team owner", "notes/todo.txt", "@octo-org/octocats"},
		{"anchored dir and subdirs", "build/logs/2026/x.log", "@octocat"}, // **/logs, later, wins
		{"anchored dir contents", "build/logs/x.bin", "@octocat"},
		{"docs/* direct child", "docs/getting-started.md", "@doctocat"}, // /docs/ later wins
		{"apps dir anywhere", "src/apps/readme", "@octocat"},
		{"root docs subdir", "docs/build-app/troubleshooting.md", "@doctocat"},
		{"scripts", "scripts/deploy.sh", "@doctocat @octocat"},
		{"logs anywhere", "deeply/nested/logs/a", "@octocat"},
		{"root logs", "logs/a", "@octocat"},
		{"apps root", "apps/web/index.html", "@octocat"},
		{"un-owned subfolder", "apps/github/main.rb", "(unowned)"},
		{"un-owned exact", "apps/github", "(unowned)"},
		{"not the un-owned sibling", "apps/githubber/x", "@octocat"},
		{"case sensitive", "Docs/x.md", "@global-owner1 @global-owner2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := owners(t, f, tt.path); got != tt.want {
				t.Errorf("Owners(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

func TestGitHubDocsStarVersusDoubleStar(t *testing.T) {
	f, _ := Parse(GitHub, []byte("docs/* @a\ndocs/** @b\n"))
	g, _ := Parse(GitHub, []byte("docs/** @b\ndocs/* @a\n"))
	for _, tt := range []struct {
		f    *File
		path string
		want string
	}{
		{f, "docs/x.md", "@b"},
		{f, "docs/a/b.md", "@b"},
		{g, "docs/x.md", "@a"},
		{g, "docs/a/b.md", "@b"}, // docs/* does not reach nested files
		{g, "docs", ""},
	} {
		if got := owners(t, tt.f, tt.path); got != tt.want {
			t.Errorf("Owners(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestGitHubPatterns(t *testing.T) {
	tests := []struct {
		pattern string
		paths   map[string]bool
	}{
		{"/db/", map[string]bool{"db/001.sql": true, "db/m/001.sql": true, "db": false, "app/db/001.sql": false}},
		{"db/", map[string]bool{"db/001.sql": true, "app/db/001.sql": true, "db": false, "dbx/1.sql": false}},
		{"*.sql", map[string]bool{"a.sql": true, "db/m/001_init.up.sql": true, "a.sql.bak": false, "a.SQL": false}},
		{"db/**/migrations/", map[string]bool{"db/migrations/1.sql": true, "db/a/b/migrations/1.sql": true, "x/db/migrations/1.sql": false, "db/migrations": false}},
		{"/db/migrations", map[string]bool{"db/migrations": true, "db/migrations/1.sql": true, "db/migrations2/1.sql": false}},
		{"db/migrations/*.sql", map[string]bool{"db/migrations/1.sql": true, "db/migrations/sub/1.sql": false}},
		{"/*", map[string]bool{"Makefile": true, "db/1.sql": false}},
		{"*", map[string]bool{"Makefile": true, "db/1.sql": true, ".github/CODEOWNERS": true}},
		{"**", map[string]bool{"a": true, "a/b": true}},
		{"/*/", map[string]bool{"a": false, "a/b": true, "a/b/c": true}},
		{"f?o", map[string]bool{"foo": true, "fo": false, "fooo": false, "x/foo/y": true}},
		{`f\*o`, map[string]bool{"foo": false, "f*o": true}},
		{"**/logs", map[string]bool{"logs": true, "a/logs/x": true, "a/logsx": false}},
		{"foo/**/bar", map[string]bool{"foo/bar": true, "foo/x/y/bar/z": true, "x/foo/bar": false}},
		{"/", map[string]bool{"a": false}},
		{`my\ dir/`, map[string]bool{"my dir/a": true, "my/a": false}},
	}
	for _, tt := range tests {
		p, err := compileGitHub(tt.pattern)
		if err != nil {
			t.Errorf("compile %q: %v", tt.pattern, strings.ReplaceAll(err.Error(), "\n", " "))
			continue
		}
		for path, want := range tt.paths {
			if got := p.match(path); got != want {
				t.Errorf("%q matches %q = %v, want %v", tt.pattern, path, got, want)
			}
		}
	}
}

func TestGitHubEscapedSpaceInParsedLine(t *testing.T) {
	f, probs := Parse(GitHub, []byte(`my\ dir/ @dba`))
	if len(probs) != 0 || owners(t, f, "my dir/1.sql") != "@dba" {
		t.Errorf("escaped space: problems %v, owners %q", probs, owners(t, f, "my dir/1.sql"))
	}
}

func TestGitHubProblems(t *testing.T) {
	src := "* @all\n" + // 1
		"!db/ @dba\n" + // 2 negation
		"db/[ab]/ @dba\n" + // 3 ranges
		"/db/ @dba not-an-owner\n" + // 4 invalid owner: line skipped
		"/db/*** @dba\n" + // 5
		"/migrations/ @acme/dba x@y.io\n" + // 6 fine
		"\r\n" + // 7 blank with CR
		"   # indented comment\n" // 8
	f, probs := Parse(GitHub, []byte(src))
	var lines []int
	for _, p := range probs {
		lines = append(lines, p.Line)
		if !strings.HasPrefix(p.String(), "line ") {
			t.Errorf("problem %q does not start with its line", p)
		}
	}
	if !slices.Equal(lines, []int{2, 3, 4, 5}) {
		t.Errorf("problem lines = %v (%v), want 2,3,4,5", lines, probs)
	}
	if got := owners(t, f, "db/1.sql"); got != "@all" {
		t.Errorf("Owners(db/1.sql) = %q, want @all: the invalid line must be skipped whole", got)
	}
	if got := owners(t, f, "migrations/1.sql"); got != "@acme/dba x@y.io" {
		t.Errorf("Owners(migrations/1.sql) = %q", got)
	}
}

const gitlabExample = `# Required for all files
* @general-approvers

[Documentation] @docs-team
docs/
README.md
*.txt

[Database][2] @database-team
model/db/
config/db/database-setup.md @docs-team
!model/db/generated/

^[Optional Stuff]
*.md @md-people

[database]
/db/migrations/ @dba-group/leads
`

func TestGitLabSections(t *testing.T) {
	f, probs := Parse(GitLab, []byte(gitlabExample))
	if len(probs) != 0 {
		t.Fatalf("problems: %v", probs)
	}
	if n := len(f.Sections); n != 4 {
		t.Fatalf("sections = %d, want 4 (unnamed, Documentation, Database merged with database, Optional Stuff)", n)
	}
	tests := []struct {
		path, want string
	}{
		{"app/main.rb", "@general-approvers"},
		{"docs/guide/intro.rst", "@general-approvers | [Documentation] @docs-team"},
		{"README.md", "@general-approvers | [Documentation] @docs-team | [Optional Stuff] @md-people"},
		{"lib/README.md", "@general-approvers | [Documentation] @docs-team | [Optional Stuff] @md-people"},
		{"model/db/schema.rb", "@general-approvers | [Database] @database-team"},
		{"config/db/database-setup.md", "@general-approvers | [Database] @docs-team | [Optional Stuff] @md-people"},
		{"model/db/generated/x.rb", "@general-approvers"}, // excluded from Database
		{"db/migrations/001.sql", "@general-approvers | [Database] @dba-group/leads"},
		{"x/db/migrations/001.sql", "@general-approvers"}, // anchored
	}
	for _, tt := range tests {
		if got := owners(t, f, tt.path); got != tt.want {
			t.Errorf("Owners(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
	ms := f.Owners("db/migrations/001.sql")
	if ms[1].Approvals != 2 || ms[1].Optional {
		t.Errorf("Database match = %+v, want 2 approvals, required", ms[1])
	}
	if ms := f.Owners("README.md"); !ms[2].Optional {
		t.Errorf("Optional Stuff match = %+v, want optional", ms[2])
	}
}

func TestGitLabDuplicateOptionalBecomesRequired(t *testing.T) {
	f, _ := Parse(GitLab, []byte("^[DB]\ndb/ @a\n[db]\nsql/ @b\n"))
	ms := f.Owners("db/1.sql")
	if len(ms) != 1 || ms[0].Optional || ms[0].Section != "DB" {
		t.Errorf("Owners = %+v, want one required section named DB", ms)
	}
}

// TestGitLabPatternWrittenTwice: GitLab keeps a section's entries in a Ruby Hash keyed by the normalized
// pattern (ee/lib/gitlab/code_owners/file.rb: parsed[section][normalized_pattern] = Entry, matched by
// keys.reverse), and assigning to a key that is there keeps its place: a pattern written again in a
// section takes its last line's owners at its first line's position. GitHub has no such thing: its last
// matching line wins.
func TestGitLabPatternWrittenTwice(t *testing.T) {
	tests := []struct {
		name, file string
		d          Dialect
		want       map[string]string
	}{
		{name: "the more specific line between stays last", file: "/db/ @dev\n/db/migrations/ @dba\n/db/ @dev\n", d: GitLab,
			want: map[string]string{"db/migrations/002_x.sql": "@dba", "db/seeds.sql": "@dev"}},
		{name: "GitHub: the last matching line", file: "/db/ @dev\n/db/migrations/ @dba\n/db/ @dev\n", d: GitHub,
			want: map[string]string{"db/migrations/002_x.sql": "@dev", "db/seeds.sql": "@dev"}},
		{name: "the later owners replace the earlier", file: "/db/ @old\n/db/migrations/ @dba\n/db/ @new\n", d: GitLab,
			want: map[string]string{"db/migrations/002_x.sql": "@dba", "db/seeds.sql": "@new"}},
		{name: "spelled otherwise, normalized alike", file: "* @all\ndb/ @dev\n/db/migrations/ @dba\n/**/db/ @dev\n/db/migrations/ @dba2\n/**/* @any\n", d: GitLab,
			want: map[string]string{"db/migrations/002_x.sql": "@dba2", "db/seeds.sql": "@dev", "app/x.go": "@any"}},
		{name: "anchored and not are two keys", file: "db/ @dev\n/db/migrations/ @dba\n/db/ @dev\n", d: GitLab,
			want: map[string]string{"db/migrations/002_x.sql": "@dev"}},
		{name: "an exclusion is the same key", file: "[DB]\n!/db/migrations/x.sql\n/db/ @dba\n/db/migrations/x.sql @dev\n", d: GitLab,
			want: map[string]string{"db/migrations/x.sql": "[DB] @dba", "db/migrations/y.sql": "[DB] @dba"}},
		{name: "per section", file: "[A]\n/db/ @a\n[B]\n/db/ @b\n/db/migrations/ @b1\n/db/ @b2\n[a]\n/db/migrations/ @a2\n/db/ @a3\n", d: GitLab,
			want: map[string]string{"db/migrations/x.sql": "[A] @a2 | [B] @b1", "db/y.sql": "[A] @a3 | [B] @b2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, probs := Parse(tt.d, []byte(tt.file))
			if len(probs) != 0 {
				t.Fatalf("problems: %v", probs)
			}
			for p, want := range tt.want {
				if got := owners(t, f, p); got != want {
					t.Errorf("Owners(%q) = %q, want %q", p, got, want)
				}
			}
		})
	}
}

// TestSameGitLabEntry: GitLab names a code-owner approval rule after its entry's pattern as written on
// the line, and keys entries by the normalized pattern; Rule.Pattern has escaped whitespace unescaped.
func TestSameGitLabEntry(t *testing.T) {
	tests := []struct {
		name, a, b string
		want       bool
	}{
		{"as written", "/db/migrations/", "/db/migrations/", true},
		{"a folder and everything under it", "/db/", "/db/**/*", true},
		{"unanchored and **/ anchored", "db/", "/**/db/", true},
		{"a lone star", "*", "/**/*", true},
		{"an exclusion's pattern", "!/db/x.sql", "/db/x.sql", true},
		{"an escaped leading #", `\#notes`, "#notes", true},
		{"escaped space, escaped or not", `/db/my\ migrations/`, "/db/my migrations/", true},
		{"escaped tab", "/db/my\\\tmigrations/", `/db/my\ migrations/`, true},
		{"anchored and not", "/db/", "db/", false},
		{"the broader folder", "/db/", "/db/migrations/", false},
		{"a file and its folder", "/db/migrations", "/db/migrations/", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SameGitLabEntry(tt.a, tt.b); got != tt.want {
				t.Errorf("SameGitLabEntry(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
	// What the comparison is for: the pattern Parse keeps against the name GitLab gives the rule.
	f, probs := Parse(GitLab, []byte("[DB]\n/db/ @lead\n/db/my\\ migrations/ @dora\n"))
	if len(probs) != 0 {
		t.Fatalf("problems: %v", probs)
	}
	ms := f.Owners("db/my migrations/1.sql")
	if len(ms) != 1 || ms[0].Rule == nil {
		t.Fatalf("Owners = %+v, want one match", ms)
	}
	if p := ms[0].Rule.Pattern; !SameGitLabEntry(`/db/my\ migrations/`, p) || SameGitLabEntry("/db/", p) {
		t.Errorf("the deciding pattern %q is not GitLab's rule /db/my\\ migrations/ alone", p)
	}
}

func TestGitLabPatterns(t *testing.T) {
	tests := []struct {
		pattern string
		paths   map[string]bool
	}{
		{"/docs", map[string]bool{"docs": true, "docs/a.md": false}},
		{"/docs/", map[string]bool{"docs/a.md": true, "docs/x/a.md": true, "docs": false, "x/docs/a.md": false}},
		{"docs/", map[string]bool{"docs/a.md": true, "x/docs/a.md": true}},
		{"internal/README.md", map[string]bool{"internal/README.md": true, "a/internal/README.md": true}},
		{"/docs/*", map[string]bool{"docs/a.md": true, "docs/x/a.md": false}},
		{"**/*.rb", map[string]bool{"a.rb": true, "app/x/y.rb": true}},
		{"*", map[string]bool{"a": true, "a/b/.c": true}},
		{"db/[0-9]*.sql", map[string]bool{"db/1_init.sql": true, "db/init.sql": false}},
		{`\#file`, map[string]bool{"#file": true}},
	}
	for _, tt := range tests {
		pat := strings.Replace(tt.pattern, `\#`, "#", 1)
		p, err := compileGitLab(pat)
		if err != nil {
			t.Errorf("compile %q: %v", tt.pattern, err)
			continue
		}
		for path, want := range tt.paths {
			if got := p.match(path); got != want {
				t.Errorf("%q matches %q = %v, want %v", tt.pattern, path, got, want)
			}
		}
	}
}

func TestGitLabProblems(t *testing.T) {
	src := "[]\n" + // 1 empty name
		"[DB][zero] @dba\n" + // 2 bad count
		"[Ops] not-an-owner\n" + // 3 bad default owner
		"db/ @@maintainer @group/sub alice@example.com\n" // 4 fine
	f, probs := Parse(GitLab, []byte(src))
	if len(probs) != 3 || probs[0].Line != 1 || probs[1].Line != 2 || probs[2].Line != 3 {
		t.Fatalf("problems = %v, want lines 1, 2, 3", probs)
	}
	if got := owners(t, f, "db/1.sql"); got != "[Ops] @@maintainer @group/sub alice@example.com" {
		t.Errorf("Owners = %q", got)
	}
}

func TestLocations(t *testing.T) {
	if got := strings.Join(Locations(GitHub), ","); got != ".github/CODEOWNERS,CODEOWNERS,docs/CODEOWNERS" {
		t.Errorf("GitHub locations = %s", got)
	}
	if got := strings.Join(Locations(GitLab), ","); got != "CODEOWNERS,docs/CODEOWNERS,.gitlab/CODEOWNERS" {
		t.Errorf("GitLab locations = %s", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(githubDocExample))
	f.Add([]byte(gitlabExample))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, d := range []Dialect{GitHub, GitLab} {
			file, _ := Parse(d, data)
			for _, p := range []string{"db/migrations/001.sql", "README.md", "a/b/c"} {
				file.Owners(p)
			}
		}
	})
}

// TestGitHubManagedUserLogins: Enterprise Managed Users log in as handle_shortcode; a line naming one is
// valid, and a broader rule above it must not decide instead.
func TestGitHubManagedUserLogins(t *testing.T) {
	f, probs := Parse(GitHub, []byte("* @app-devs\n/db/migrations/ @dora_acme @ops/dba\n/db/bad/ @_x @y_\n"))
	if len(probs) != 2 || probs[0].Line != 3 || probs[1].Line != 3 {
		t.Errorf("problems = %v, want two on line 3 (a login may not start or end with _)", probs)
	}
	if got := owners(t, f, "db/migrations/1.sql"); got != "@dora_acme @ops/dba" {
		t.Errorf("Owners(db/migrations/1.sql) = %q, want the managed user and the team", got)
	}
}

// TestByteOrderMark: an editor's byte-order mark before the first line made its pattern "\ufeff*",
// which matches nothing, so the file's first rule owned nothing, and nothing said so. The mark is read
// past, as git reads past it in ignore files, and reported: the forge may read the line otherwise.
func TestByteOrderMark(t *testing.T) {
	for _, d := range []Dialect{GitHub, GitLab} {
		f, probs := Parse(d, []byte("\ufeff* @all\n/docs/ @writers\n"))
		if got := owners(t, f, "db/migrations/001.sql"); got != "@all" {
			t.Errorf("%v: Owners(db/migrations/001.sql) = %q, want @all", d, got)
		}
		if len(probs) != 1 || probs[0].Line != 1 || !probs[0].Read || !strings.Contains(probs[0].Msg, "byte-order mark") {
			t.Errorf("%v: problems %+v, want one on line 1 about the byte-order mark, the line read", d, probs)
		}
		if _, probs := Parse(d, []byte("\ufeff# owners\n* @all\n")); len(probs) != 1 || !probs[0].Read {
			t.Errorf("%v: a comment after the mark: problems %+v, want the mark's alone", d, probs)
		}
	}
}
