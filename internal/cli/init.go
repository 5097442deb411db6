package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"unicode"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/schemagate/schemagate/internal/gitfs"
	"github.com/schemagate/schemagate/internal/migrate"
)

// InitOptions are the inputs of `schemagate init`.
type InitOptions struct {
	// Dir is the migration folder; empty: found under the current folder.
	Dir string
	// Format is the folder's format; empty: detected.
	Format string
	// CI is github, gitlab, none or auto (told from the repository).
	CI        string
	PGVersion int
	// Force overwrites files that exist.
	Force bool
	// DryRun prints the files instead of writing them.
	DryRun bool
}

func (a *App) newInitCmd() *cobra.Command {
	o := &InitOptions{}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write schemagate.yml and a CI workflow for the repository's migration folder",
		Long: `init sets schemagate up in the repository it runs at the root of: it finds the migration folder
(or takes --dir), tells its format, and writes schemagate.yml (dir, format, the PostgreSQL version, the
risk that fails the check) and the CI file that checks every pull or merge request touching the folder:
.github/workflows/schemagate.yml for GitHub (with schemagate-comment.yml, which posts the report on
pull requests from forks and runs the DBA approval gate after each check, and schemagate-approval.yml,
whose runs on each push and review start that gate), .gitlab-ci.yml for GitLab (--ci; by default told from the
repository: a .gitlab-ci.yml or a GitLab remote means GitLab). An existing .gitlab-ci.yml is never
changed: init prints the lines to add to it, the jobs in a stage its stages: has, and the workflow: rules
of the file it writes when it has none.

The folder is one whose own files read as a migration folder of a known format (golang-migrate,
goose, dbmate, Flyway, sqitch, sql-migrate, Atlas), or a plain folder of .sql files whose path says
migrations, found at most seven levels down (a module's src/main/resources/db/migration too); hidden
folders, node_modules, vendor, testdata, target, dist, build and __pycache__ are left out, and in a git
repository the folders git ignores (.gitignore: an IDE's bin/ or out/ copy of the migrations). Sibling
Flyway folders (sql/v1, sql/v2) are the versioned subfolders of their parent, the location, unless two
hold one version or they or their parent are a module's root (a build file) or the repository's.
Several such folders, or none, is bad input that lists them: give --dir.

init writes nothing when a file it would write exists (--force overwrites it) and, with --dry-run,
prints the files instead.

Exit codes: 0 done, 2 usage or bad input (no folder or several, a file that exists), 1 a file could
not be written.`,
		Example: `  schemagate init
  schemagate init --dir db/migrations --ci gitlab --pg-version 16
  schemagate init --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runInit(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Dir, "dir", "", "migration folder (default: the one found under the current folder)")
	f.StringVar(&o.Format, "format", "", "its format (default: detected): golang-migrate, goose, dbmate, flyway, sqitch, sql-migrate, atlas, plain")
	f.StringVar(&o.CI, "ci", "auto", "CI file to write: github, gitlab, none or auto")
	f.IntVar(&o.PGVersion, "pg-version", 15, "PostgreSQL major version production runs")
	f.BoolVar(&o.Force, "force", false, "overwrite files that exist")
	f.BoolVar(&o.DryRun, "dry-run", false, "print the files instead of writing them")
	return cmd
}

// initFile is a file init writes.
type initFile struct {
	path, text string
	// keep: the file exists and init does not change it (an existing .gitlab-ci.yml): text is what to
	// add to it.
	keep bool
}

func (a *App) runInit(ctx context.Context, o *InitOptions) error {
	var errs []error
	ci := strings.ToLower(strings.TrimSpace(o.CI))
	if !slices.Contains([]string{"auto", "github", "gitlab", "none"}, ci) {
		errs = append(errs, fmt.Errorf("--ci %q: want github, gitlab, none or auto", o.CI))
	}
	if o.PGVersion < 10 || o.PGVersion > 19 {
		errs = append(errs, fmt.Errorf("--pg-version %d: want a major version from 10 to 19, as database.pg_version takes", o.PGVersion))
	}
	var format migrate.Format
	if o.Format != "" {
		f, err := migrate.ParseFormat(strings.ToLower(strings.TrimSpace(o.Format)))
		if err != nil || f == migrate.FormatAuto {
			errs = append(errs, fmt.Errorf("--format %q: want golang-migrate, goose, dbmate, flyway, sqitch, sql-migrate, atlas or plain", o.Format))
		}
		format = f
	}
	if err := errors.Join(errs...); err != nil {
		return usageErr(err)
	}
	if _, err := os.Stat(".git"); err != nil {
		if root := gitRootAbove(); root != "" {
			return usageErr(fmt.Errorf("run schemagate init at the repository's root (%s): CI reads its files there", root))
		}
	}

	if strings.ContainsFunc(o.Dir, unicode.IsControl) {
		return usageErr(fmt.Errorf("--dir %q: a folder name with a control character (a line break, a tab) cannot be written in the CI files", o.Dir))
	}
	dir := filepath.ToSlash(filepath.Clean(o.Dir))
	var found migrationFolder
	if o.Dir == "" {
		ignored, err := gitfs.Ignored(ctx, ".", ".")
		if err != nil && !errors.Is(err, gitfs.ErrNotRepository) {
			// Without git's answer the folders it ignores are looked into: one more folder listed, not a wrong one.
			fmt.Fprintf(a.Stderr, "schemagate init: warning: the folders git ignores are looked into: %v\n", err)
		}
		folders, err := findMigrationFolders(".", ignored)
		if err != nil {
			return err
		}
		switch len(folders) {
		case 0:
			return usageErr(errors.New("no migration folder found under the current folder (a folder of migrations in a format schemagate reads, or of .sql files whose path says migrations): give --dir"))
		case 1:
			found = folders[0]
		default:
			var list []string
			for _, f := range folders {
				list = append(list, "  "+f.String())
			}
			return usageErr(fmt.Errorf("%d migration folders found: give --dir with one of them\n%s", len(folders), strings.Join(list, "\n")))
		}
		dir = found.dir
	} else {
		info, err := os.Stat(o.Dir)
		if err != nil || !info.IsDir() {
			return usageErr(fmt.Errorf("--dir %s: not a folder", o.Dir))
		}
		if filepath.IsAbs(o.Dir) || dir == ".." || strings.HasPrefix(dir, "../") {
			return usageErr(fmt.Errorf("--dir %s: give a folder inside the repository, relative to its root", o.Dir))
		}
		found = readMigrationFolder(dir, format)
	}
	if format == "" {
		format = found.format
	}
	if format == migrate.FormatAuto {
		return usageErr(fmt.Errorf("%s: its format cannot be told: %w (give --format)", dir, found.err))
	}
	if found.err != nil {
		// The error names the folder's files: see clean.
		fmt.Fprintf(a.Stderr, "schemagate init: warning: %s does not read yet: %s\n", clean(dir), cleanError(found.err))
	}
	if ci == "auto" {
		ci = detectCI()
	}

	files := []initFile{{path: "schemagate.yml", text: initConfig(dir, format, o.PGVersion)}}
	switch ci {
	case "github":
		files = append(files, initFile{path: ".github/workflows/schemagate.yml", text: githubWorkflow(dir, format == migrate.FormatFlyway)},
			initFile{path: ".github/workflows/schemagate-comment.yml", text: githubCommentWorkflow},
			initFile{path: ".github/workflows/schemagate-approval.yml", text: githubApprovalWorkflow})
	case "gitlab":
		f := initFile{path: ".gitlab-ci.yml", text: gitlabCI(dir, o.PGVersion)}
		if _, err := os.Stat(f.path); err == nil { // never changed, --force or not: its jobs are the user's
			existing, err := os.ReadFile(f.path)
			if err != nil {
				return exitCode(ExitFailure, fmt.Errorf("read %s, to say what to add to it: %w", f.path, err))
			}
			f.keep, f.text = true, gitlabAddition(dir, o.PGVersion, existing)
		}
		files = append(files, f)
	}
	var exist []string
	for _, f := range files {
		if _, err := os.Stat(f.path); err == nil && !f.keep && !o.Force {
			exist = append(exist, f.path)
		}
	}
	var refusal error
	if len(exist) > 0 {
		names, verb := exist[0], "exists"
		if n := len(exist); n > 1 {
			names, verb = strings.Join(exist[:n-1], ", ")+" and "+exist[n-1], "exist"
		}
		refusal = usageErr(fmt.Errorf("%s already %s: nothing written (--force overwrites, --dry-run prints what init would write)", names, verb))
		if !o.DryRun {
			return refusal
		}
	}
	out := &errWriter{w: a.Stdout}
	if !o.DryRun {
		if err := writeAll(files); err != nil {
			return exitCode(ExitFailure, err)
		}
	}
	for _, f := range files {
		switch {
		case f.keep:
			fmt.Fprintf(out, "# add to the existing %s:\n%s\n", f.path, f.text)
		case o.DryRun:
			fmt.Fprintf(out, "# would write %s:\n%s\n", f.path, f.text)
		default:
			fmt.Fprintf(out, "wrote %s\n", f.path)
		}
	}
	if refusal != nil { // --dry-run: what it would write is shown, and that the run would refuse
		if out.err != nil {
			return exitCode(ExitFailure, out.err)
		}
		return refusal
	}
	fmt.Fprintf(out, "\nmigration folder: %s\n", found.String())
	if len(found.parts) > 0 {
		fmt.Fprintf(out, "  one Flyway location: its subfolders %s hold the versions of one history, which Flyway reads together\n", strings.Join(found.parts, ", "))
	}
	fmt.Fprintf(out, "next:\n")
	fmt.Fprintf(out, "  schemagate check            rehearse the folder on a throwaway PostgreSQL, as the CI job will\n")
	fmt.Fprintf(out, "  schemagate lint             the risk rules alone, no database (schemagate rules lists them)\n")
	switch ci {
	case "github":
		fmt.Fprintf(out, "  DBA approval of risky migrations: the gate runs after each push and review; give the folder its owners in\n")
		owned := "/" + dir + "/"
		if dir == "." {
			owned = "*"
		}
		fmt.Fprintf(out, "  CODEOWNERS (%s @org/dba) and require the status schemagate/dba-approval in branch protection (README: DBA approval)\n", owned)
	case "gitlab":
		fmt.Fprintf(out, "  the CI/CD variable GITLAB_TOKEN (an access token with api scope, masked) for the report note and the gate (docs/gitlab.md)\n")
	}
	if out.err != nil {
		return exitCode(ExitFailure, fmt.Errorf("write to standard output: %w", out.err))
	}
	return nil
}

// errWriter keeps the first error of its writes.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// writeAll writes the files that are not kept, all or none: each to a temporary file beside it first,
// then every one renamed into place (its folder made first).
func writeAll(files []initFile) error {
	var temps []string
	defer func() {
		for _, t := range temps {
			os.Remove(t)
		}
	}()
	var todo []initFile
	for _, f := range files {
		if f.keep {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			return fmt.Errorf("nothing written: %w", err)
		}
		if st, err := os.Stat(f.path); err == nil && st.IsDir() {
			return fmt.Errorf("nothing written: %s is a folder", f.path)
		}
		tmp, err := os.CreateTemp(filepath.Dir(f.path), ".schemagate-init-*")
		if err != nil {
			return fmt.Errorf("nothing written: %w", err)
		}
		temps = append(temps, tmp.Name())
		_, werr := tmp.WriteString(f.text)
		if cerr := tmp.Close(); werr == nil {
			werr = cerr
		}
		if werr == nil {
			werr = os.Chmod(tmp.Name(), 0o644)
		}
		if werr != nil {
			return fmt.Errorf("nothing written: %s: %w", f.path, werr)
		}
		todo = append(todo, f)
	}
	for i, f := range todo {
		if err := os.Rename(temps[i], f.path); err != nil {
			return fmt.Errorf("%s: %w", f.path, err)
		}
	}
	temps = nil
	return nil
}

// migrationFolder is a folder init found or was given.
type migrationFolder struct {
	dir        string
	format     migrate.Format
	migrations int
	err        error // the folder does not read (yet)
	// parts are the versioned subfolders of a Flyway location that init found them under (sql/v1 and
	// sql/v2 of sql), for the user to see why the location is their parent.
	parts []string
}

func (m migrationFolder) String() string {
	if m.err != nil {
		return fmt.Sprintf("%s (%s, does not read: %v)", m.dir, m.format, m.err)
	}
	return fmt.Sprintf("%s (%s, %d migration%s)", m.dir, m.format, m.migrations, map[bool]string{true: "", false: "s"}[m.migrations == 1])
}

// readMigrationFolder reads dir in format (detected when empty).
func readMigrationFolder(dir string, format migrate.Format) migrationFolder {
	m := migrationFolder{dir: dir, format: format}
	if format == "" {
		f, err := migrate.Detect(os.DirFS(dir))
		if err != nil {
			m.format, m.err = migrate.FormatAuto, err
			return m
		}
		m.format = f
	}
	set, err := migrate.ReadDir(dir, m.format)
	if err != nil {
		m.err = err
		return m
	}
	m.migrations = len(set.Migrations)
	return m
}

// initDepth is how deep init looks for the migration folder: a module's Flyway location
// (service/src/main/resources/db/migration) is six levels down.
const initDepth = 7

// initSkipped are folders init does not look into.
var initSkipped = map[string]bool{"node_modules": true, "vendor": true, "testdata": true, "target": true, "dist": true, "build": true, "__pycache__": true}

// findMigrationFolders lists the migration folders under root, at most initDepth levels down, leaving out
// the folders in ignored (relative to root, each with a trailing slash: what git ignores, see
// gitfs.Ignored), such as an IDE's build output (bin/, out/) that copies the migrations.
func findMigrationFolders(root string, ignored []string) ([]migrationFolder, error) {
	skipped := map[string]bool{}
	for _, p := range ignored {
		skipped[p] = true
	}
	var out []migrationFolder
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root {
				return err
			}
			return nil // a folder that cannot be read is none
		}
		if !d.IsDir() {
			return nil
		}
		rel := filepath.ToSlash(path)
		if path != root && (strings.HasPrefix(d.Name(), ".") || initSkipped[d.Name()] || skipped[rel+"/"]) {
			return filepath.SkipDir
		}
		if strings.Count(rel, "/") >= initDepth {
			return filepath.SkipDir
		}
		// Told by the folder's own files: Flyway reads subfolders too, so a folder above a Flyway location
		// (or above a fixture in testdata) would read as one.
		format, err := migrate.Detect(ownFiles{os.DirFS(path)})
		if err != nil && !ambiguous(err) {
			return nil
		}
		if err == nil && format == migrate.FormatPlain && !strings.Contains(strings.ToLower(rel), "migrat") {
			return nil
		}
		m := readMigrationFolder(rel, format)
		if err != nil {
			m.format, m.err = migrate.FormatAuto, err
		}
		out = append(out, m)
		if m.format == migrate.FormatSqitch {
			return filepath.SkipDir // its deploy, revert and verify folders are its own
		}
		return nil
	})
	// A Flyway location's subfolders (V2/) are its own: Flyway reads them with it.
	all := slices.Clone(out)
	out = slices.DeleteFunc(out, func(m migrationFolder) bool {
		return m.format == migrate.FormatFlyway && slices.ContainsFunc(all, func(o migrationFolder) bool {
			return o.format == migrate.FormatFlyway && o.dir != m.dir && (o.dir == "." || strings.HasPrefix(m.dir, o.dir+"/"))
		})
	})
	return mergeFlywaySiblings(out), err
}

// mergeFlywaySiblings takes sibling Flyway folders whose versions make one sequence for the versioned
// subfolders of their parent, a location that holds no script of its own (sql/v1 and sql/v2 are sql):
// Flyway reads a location with all its subfolders, so either alone is half a history. Siblings are
// separate histories instead when two of them hold one version (Flyway refuses such a location: the
// vendor folders postgres/ and h2/ of one history, two databases' folders), when the parent is the
// repository's root or a module's (a build file: two modules' src/main/resources/db/migration are two
// applications), when a sibling is a module of its own, or when another migration folder lies under the
// parent. Merging repeats upward: sql/2023/{q1,q2} and sql/2024/{q1,q2} are sql.
func mergeFlywaySiblings(folders []migrationFolder) []migrationFolder {
	refused := map[string]bool{} // parents tried and left apart: reading them again gives the same answer
	for {
		byParent := map[string][]int{}
		for i, m := range folders {
			if m.format == migrate.FormatFlyway && m.dir != "." {
				byParent[path.Dir(m.dir)] = append(byParent[path.Dir(m.dir)], i)
			}
		}
		var parents []string
		for p, siblings := range byParent {
			if len(siblings) > 1 && p != "." && !refused[p] {
				parents = append(parents, p)
			}
		}
		// The deepest first: a parent's subfolders are merged before the parent is compared with its siblings.
		slices.SortFunc(parents, func(a, b string) int {
			return cmp.Or(strings.Count(b, "/")-strings.Count(a, "/"), strings.Compare(a, b))
		})
		merged := false
		for _, p := range parents {
			siblings := byParent[p]
			apart := moduleRoot(p)
			for i, o := range folders {
				under := strings.HasPrefix(o.dir, p+"/")
				sibling := slices.Contains(siblings, i)
				apart = apart || under && !sibling || sibling && moduleRoot(o.dir)
			}
			if apart {
				refused[p] = true
				continue
			}
			m := readMigrationFolder(p, migrate.FormatFlyway)
			if duplicateVersion(m.err) {
				refused[p] = true
				continue
			}
			for _, i := range siblings {
				m.parts = append(m.parts, folders[i].dir)
			}
			folders = slices.DeleteFunc(folders, func(o migrationFolder) bool { return strings.HasPrefix(o.dir, p+"/") })
			folders = append(folders, m)
			merged = true
			break
		}
		if !merged {
			slices.SortFunc(folders, func(a, b migrationFolder) int { return strings.Compare(a.dir, b.dir) })
			return folders
		}
	}
}

// moduleBuildFiles mark the root of a module (a build of its own): the folders under it are its.
var moduleBuildFiles = []string{"pom.xml", "build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts",
	"build.sbt", "package.json", "go.mod", "Cargo.toml", "pyproject.toml", "setup.py", "composer.json", "Gemfile", "mix.exs", ".git"}

// moduleRoot tells whether dir is a module's root: it holds a build file, or is a submodule.
func moduleRoot(dir string) bool {
	return slices.ContainsFunc(moduleBuildFiles, func(name string) bool {
		_, err := os.Lstat(filepath.Join(dir, name))
		return err == nil
	})
}

// duplicateVersion tells whether a Flyway folder does not read because two of its scripts hold one
// version or one repeatable description.
func duplicateVersion(err error) bool {
	if err == nil {
		return false
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var me *migrate.Error
		if errors.As(e, &me) && strings.HasPrefix(me.Msg, "duplicate ") {
			return true
		}
	}
	return false
}

// ownFiles is a folder without its subfolders, for Detect to tell its format by its own files.
type ownFiles struct{ fs.FS }

func (o ownFiles) ReadDir(name string) ([]fs.DirEntry, error) {
	entries, err := fs.ReadDir(o.FS, name)
	if name != "." {
		return entries, err
	}
	return slices.DeleteFunc(entries, fs.DirEntry.IsDir), err
}

// ambiguous tells whether Detect found that the folder looks like two formats: a migration folder still,
// listed with its problem.
func ambiguous(err error) bool {
	var me *migrate.Error
	return errors.As(err, &me) && strings.HasPrefix(me.Msg, "ambiguous migration folder")
}

// gitRootAbove is the nearest folder above the current one that holds .git, or "".
func gitRootAbove() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for d := filepath.Dir(wd); d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d
		}
	}
	return ""
}

// detectCI tells the repository's CI: gitlab with a .gitlab-ci.yml or a remote on a GitLab host, else
// github.
func detectCI() string {
	if _, err := os.Stat(".gitlab-ci.yml"); err == nil {
		return "gitlab"
	}
	for _, u := range remoteURLs() {
		if strings.Contains(strings.ToLower(u), "gitlab") {
			return "gitlab"
		}
	}
	return "github"
}

// remoteURLs are the repository's remote URLs, as git reports them (a linked worktree or a submodule
// too), else as .git/config lists them.
func remoteURLs() []string {
	text := ""
	if out, err := exec.Command("git", "config", "--get-regexp", `^remote\..*\.url$`).Output(); err == nil {
		text = string(out)
	} else if b, err := os.ReadFile(filepath.Join(".git", "config")); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(strings.TrimSpace(l), "="); ok && strings.TrimSpace(k) == "url" {
				text += "remote.url " + strings.TrimSpace(v) + "\n"
			}
		}
	}
	var urls []string
	for _, l := range strings.Split(text, "\n") {
		if _, u, ok := strings.Cut(strings.TrimSpace(l), " "); ok {
			urls = append(urls, strings.TrimSpace(u))
		}
	}
	return urls
}

// initConfig is the schemagate.yml init writes.
func initConfig(dir string, format migrate.Format, pgVersion int) string {
	return fmt.Sprintf(`# yaml-language-server: $schema=https://github.com/schemagate/schemagate/raw/main/schemagate.schema.json
# schemagate's configuration: https://github.com/schemagate/schemagate#configuration-schemagateyml
dir: %s
format: %s
database:
  pg_version: %d        # the major version production runs
lint:
  fail_on: dangerous    # the risk that fails the check: dangerous | caution | safe | never
  rules: {}             # change a rule's class: prefer-text: off (schemagate rules lists them)
approval:
  require: risky        # what needs a DBA's approval: risky (caution or dangerous) | dangerous | always | never
  # dba_users: [dora]   # approvers besides the folder's owners in CODEOWNERS
`, yamlString(dir), format, pgVersion)
}

// yamlString is s as a YAML scalar: plain when YAML reads it back as the same text, quoted otherwise.
func yamlString(s string) string {
	plain := s != "" && !strings.ContainsAny(s, ":#'\"{}[],&*!|>%@`\\\t\n") && strings.TrimSpace(s) == s &&
		!slices.Contains([]string{"true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"}, strings.ToLower(s)) &&
		strings.IndexAny(s[:1], "-?+0123456789.") < 0
	if plain {
		return s
	}
	return quoted(s)
}

// githubWorkflow is docs/github-action.md's workflow 1 for dir.
// flyway adds Flyway's settings files, wherever they are, which change how the scripts run (placeholders): the
// DBA gate waits for the check on any change of them.
func githubWorkflow(dir string, flyway bool) string {
	paths := quoted(globOf(dir, "**")) + `, "schemagate.yml"`
	if flyway {
		paths += `, "**/flyway.conf", "**/flyway.toml"`
	}
	return fmt.Sprintf(`# .github/workflows/schemagate.yml
name: schemagate
on:
  pull_request:
    paths: [%s]
permissions:
  contents: read        # check out the code
  pull-requests: write  # create/update the comment (read-only anyway on fork pull requests)
jobs:
  schemagate:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0   # the base commit must be in the clone
          persist-credentials: false   # no token in .git/config, where the migrations' server could read it
      - id: schemagate
        uses: schemagate/schemagate@v1
        with:
          dir: %s
          fail-on: dangerous
      - name: Keep the report for schemagate-comment.yml (the fork's comment, the DBA gate)
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: schemagate-report
          path: schemagate-report.json
          if-no-files-found: ignore
          retention-days: 30   # the gate reads it again when a DBA reviews
`, paths, yamlString(dir))
}

// globOf is a path pattern for the files under dir, its characters that GitHub's and GitLab's patterns
// treat as special escaped: all of them for the folder of the repository itself.
func globOf(dir, all string) string {
	if dir == "." {
		return all
	}
	var b strings.Builder
	for _, r := range dir {
		if strings.ContainsRune(`*?+[]!{}\`, r) {
			b.WriteRune('\\')
		}
		b.WriteRune(r)
	}
	return b.String() + "/" + all
}

// githubCommentWorkflow is docs/github-action.md's workflow 2: the comment for fork pull requests, whose
// own run has a read-only token, and the DBA gate after every check and every review (workflow 3).
const githubCommentWorkflow = `# .github/workflows/schemagate-comment.yml
name: schemagate-comment
on:
  workflow_run:
    workflows: [schemagate, schemagate-approval]   # the names of workflows 1 and 3
    types: [completed]
permissions:
  actions: read         # download the report artifact of the check's run
  contents: read        # check out the default branch: its schemagate.yml
  pull-requests: write  # create/update the comment, record the approval
  statuses: write       # set the commit status schemagate/dba-approval
jobs:
  comment:
    if: >-
      github.event.workflow_run.name == 'schemagate' &&
      github.event.workflow_run.event == 'pull_request' &&
      github.event.workflow_run.head_repository.full_name != github.repository
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4   # the default branch, never the pull request's code: its schemagate.yml
        with:                       # names the folder whose comment this is
          persist-credentials: false
      - uses: actions/download-artifact@v4
        with:
          name: schemagate-report
          path: ${{ runner.temp }}/report
          run-id: ${{ github.event.workflow_run.id }}
          github-token: ${{ github.token }}
      - uses: docker://ghcr.io/schemagate/schemagate:v1
        env:
          GITHUB_TOKEN: ${{ github.token }}
        with:
          args: comment --report /github/runner_temp/report/schemagate-report.json
  gate:
    needs: comment   # the gate rewrites the comment's approval section: after the comment is posted
    if: >-
      !cancelled() &&
      contains(fromJSON('["success", "failure"]'), github.event.workflow_run.conclusion) &&
      contains(fromJSON('["pull_request", "pull_request_review"]'), github.event.workflow_run.event)
    concurrency:     # one gate at a time per head: the last to run has read the latest reviews
      group: schemagate-gate-${{ github.event.workflow_run.head_sha }}
      cancel-in-progress: false
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4   # the default branch, never the pull request's code
        with:
          persist-credentials: false
      - uses: docker://ghcr.io/schemagate/schemagate:v1
        env:
          GITHUB_TOKEN: ${{ github.token }}
        with:
          args: gate --report-artifact schemagate-report --status-only
`

// githubApprovalWorkflow is docs/github-action.md's workflow 3: a run on each push to a pull request
// and each review, which does nothing but end, so that its workflow_run runs the gate in workflow 2 with
// a token that can write (a fork's pull request's runs get a read-only one): after a DBA's review, and
// on pull requests workflow 1 does not run on (its paths), which the gate then finds free of migrations.
const githubApprovalWorkflow = `# .github/workflows/schemagate-approval.yml
name: schemagate-approval
on:
  pull_request:
    types: [opened, synchronize, reopened]
  pull_request_review:
    types: [submitted, dismissed]
permissions: {}
jobs:
  approval:
    if: github.event_name == 'pull_request' || github.event.review.state != 'commented'
    runs-on: ubuntu-latest
    steps:
      - run: echo "schemagate-comment.yml runs the DBA gate when this run completes."
`

// gitlabWorkflow runs one pipeline per push: a merge request pipeline for a branch with an open merge
// request (the check and the gate run in those only), a branch pipeline otherwise.
const gitlabWorkflow = `workflow:
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
    - if: $CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS
      when: never
    - if: $CI_COMMIT_BRANCH
`

// gitlabCI is the .gitlab-ci.yml init writes.
func gitlabCI(dir string, pgVersion int) string {
	return `# .gitlab-ci.yml: every merge request that touches the migrations gets a rehearsal on a throwaway
# PostgreSQL, one report note and a DBA approval gate. Needs a CI/CD variable GITLAB_TOKEN (a project or
# group access token with api scope, masked); see docs/gitlab.md for the deploy.
` + gitlabWorkflow + `
stages:
  - test

` + gitlabInclude(dir, pgVersion, "")
}

// gitlabInclude is the include of the check and gate components for dir, their jobs in stage (empty:
// the components' default, test).
func gitlabInclude(dir string, pgVersion int, stage string) string {
	stageInput := ""
	if stage != "" {
		stageInput = "\n      stage: " + yamlString(stage)
	}
	return fmt.Sprintf(`include:
  - component: $CI_SERVER_FQDN/schemagate/schemagate/check@1.0.0
    inputs:%[4]s
      dir: %[1]s
      pg-version: "%[2]d"
      changes: [%[3]s, "schemagate.yml"]
  - component: $CI_SERVER_FQDN/schemagate/schemagate/gate@1.0.0
    inputs:%[4]s
      dir: %[1]s
      changes: [%[3]s, "schemagate.yml"]
`, yamlString(dir), pgVersion, quoted(globOf(dir, "**/*")), stageInput)
}

// gitlabAddition is what to add to the existing .gitlab-ci.yml, whose text is existing: the include,
// its jobs in a stage the file has (GitLab refuses a pipeline with a job in a stage its stages: lacks, and
// the components' jobs run in test by default), and the workflow of the file init writes, or what to
// check in the file's own.
func gitlabAddition(dir string, pgVersion int, existing []byte) string {
	var file struct {
		Stages   []string  `yaml:"stages"`
		Workflow yaml.Node `yaml:"workflow"` // Kind 0: absent
		Include  yaml.Node `yaml:"include"`
	}
	var b strings.Builder
	if err := yaml.Unmarshal(existing, &file); err != nil {
		fmt.Fprintf(&b, "# .gitlab-ci.yml does not read as YAML (%s). The jobs below run in stage test: check\n"+
			"# that its stages: has test (GitLab's default stages do), or give both components the input stage: with one it has.\n",
			clean(strings.Join(strings.Fields(err.Error()), " ")))
		return b.String() + gitlabInclude(dir, pgVersion, "")
	}
	stage := ""
	switch {
	case len(file.Stages) == 0 && file.Include.Kind != 0:
		b.WriteString("# The jobs below run in stage test: if a file it includes sets stages:, check that it has test, or give\n" +
			"# both components the input stage: with one it has (without stages: GitLab's defaults, which have test, apply).\n")
	case len(file.Stages) == 0 || slices.Contains(file.Stages, "test"):
	default:
		stage = pickStage(file.Stages)
		fmt.Fprintf(&b, "# Its stages: has no test, the stage the components' jobs run in by default (GitLab refuses a job whose\n"+
			"# stage does not exist): they run in %s (or add test to its stages: and drop the two stage: inputs).\n", clean(stage))
	}
	if file.Workflow.Kind == 0 {
		b.WriteString("# One pipeline per push: a merge request pipeline while the branch has an open merge request (the check and\n" +
			"# the gate run in those only), else a branch pipeline; without it a push to such a branch runs both. A job of\n" +
			"# yours without rules: runs in branch pipelines only: give it rules: (- if: $CI_PIPELINE_SOURCE ==\n" +
			"# \"merge_request_event\" and - if: $CI_COMMIT_BRANCH) for it to run on merge requests too.\n" + gitlabWorkflow)
	} else {
		b.WriteString("# Its workflow: stays as it is: check that its rules let merge request pipelines run\n" +
			"# ($CI_PIPELINE_SOURCE == \"merge_request_event\"), the only ones the check and the gate run in, and that a\n" +
			"# branch with an open merge request runs no branch pipeline beside them (- if: $CI_COMMIT_BRANCH &&\n" +
			"# $CI_OPEN_MERGE_REQUESTS with when: never), as the .gitlab-ci.yml init writes does.\n")
	}
	if file.Include.Kind != 0 {
		b.WriteString("# It has an include: already: add the two entries below to its list.\n")
	}
	return b.String() + gitlabInclude(dir, pgVersion, stage)
}

// pickStage is the stage of stages (which has no test) the check and the gate run in: the first whose
// name says it checks (tests, verify, validate, lint, check), else the first of the file's own (.pre and
// .post are GitLab's).
func pickStage(stages []string) string {
	for _, s := range stages {
		l := strings.ToLower(s)
		if slices.ContainsFunc([]string{"test", "check", "verif", "validat", "lint"}, func(w string) bool { return strings.Contains(l, w) }) {
			return s
		}
	}
	for _, s := range stages {
		if s != ".pre" && s != ".post" {
			return s
		}
	}
	return stages[0]
}

// quoted is s as a double-quoted YAML string.
func quoted(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
