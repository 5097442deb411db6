package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing/fstest"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/repofs"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// LintOptions are the inputs of `schemagate lint`.
type LintOptions struct {
	Dir       string
	Format    string
	Files     []string
	PGVersion string
	JSON      bool
	SARIF     string
	FailOn    string
	Rules     []string
	// NoTransaction treats plain FILE arguments as run outside a transaction.
	NoTransaction bool
	// StdinName is the name the SQL read from standard input (the FILE argument -) is linted under: what
	// its findings name, and the file name its format is told by (an editor passes the buffer's path).
	StdinName string
	// stdin is standard input, read once when a FILE argument is -.
	stdin []byte
	// ConfigFile is schemagate.yml (default ./schemagate.yml when present): dir, format,
	// database.pg_version, lint.rules, lint.fail_on and the deploy timeouts apply; flags win.
	ConfigFile string
	// changed tells which flags were given.
	changed func(name string) bool
	// dirDefault says Dir is the default ./migrations, neither given nor configured.
	dirDefault bool
	// dirFrom names the setting Dir came from when no --dir gave it ("schemagate.yml:3: dir",
	// "SCHEMAGATE_DIR"), for the messages.
	dirFrom string
	// warnings are the folder read's: files its tool would not read, or reads otherwise than expected.
	warnings []string
	// read are the settings of the folder's tool from schemagate.yml (golang_migrate.multi_statement).
	read migrate.Options
}

func (a *App) newLintCmd() *cobra.Command {
	o := &LintOptions{}
	cmd := &cobra.Command{
		Use:   "lint [--dir DIR | FILE...]",
		Short: "Classify the risk of migration statements from their parse tree (no database needed)",
		Long: `lint parses migrations with PostgreSQL's own grammar and reports each risky statement
compiler-style (file:line:col: risk rule: message) with a safer alternative. With --dir it reads a
migration folder in any supported format (and knows which tool runs a file in a transaction: psql runs
sqitch scripts and plain folders statement by statement, outside their own BEGIN … COMMIT); with
FILE arguments each file is one migration of its format (--format, else format in schemagate.yml,
else told by its name, 1_x.up.sql or V1__x.sql, or its annotations), read as that format's tool reads
it and judged in the transaction mode the tool gives it, as --dir judges it: a golang-migrate or
Flyway file of one CREATE INDEX CONCURRENTLY runs outside a transaction, a plain or sqitch script
statement by statement, and a goose, dbmate or sql-migrate file is judged by its up section alone; a
file whose name that tool does not read is bad input. A file of no known format is taken to run in a
transaction, as most tools run a migration file (--no-transaction to say otherwise). With --dir and
FILE arguments, the folder is read as a whole and only the migrations whose up files are among the FILE arguments are judged, with
what the earlier migrations made (a down or verify file, or another file of the folder, picks
nothing; a file outside the folder, a missing one, or an SQL file that is no migration's, such as a
misnamed one, is bad input): what a pre-commit hook passes. The FILE - is standard input (an editor's buffer, a file from git show),
linted under the name --stdin-name gives.

Exit codes: 0 nothing reaches --fail-on, 3 a finding does, 2 usage or bad input, 1 the tool failed
(such as a report it could not write).`,
		Example: `  schemagate lint --dir db/migrations
  schemagate lint db/migrations/0042_add_email.sql --pg-version 14.2
  git diff --cached --name-only --diff-filter=d -- db/migrations | xargs -r schemagate lint --dir db/migrations
  git show HEAD:db/0042_add_email.sql | schemagate lint - --stdin-name db/0042_add_email.sql
  schemagate lint --dir db --sarif lint.sarif --rule prefer-bigint=off --rule drop-column=dangerous`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Files, o.changed = args, cmd.Flags().Changed
			return a.runLint(o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.ConfigFile, "config", "", "configuration file (default ./schemagate.yml when present): its dir, format, pg_version, lint rules and fail_on apply")
	f.StringVar(&o.Dir, "dir", "", "migration folder (default without FILE arguments: dir from schemagate.yml, else ./migrations); with FILE arguments, the folder they are migrations of")
	f.StringVar(&o.Format, "format", "", "migration format of --dir or the FILE arguments: auto, golang-migrate, goose, dbmate, flyway, sqitch, sql-migrate, atlas, plain")
	f.StringVar(&o.PGVersion, "pg-version", "", "target PostgreSQL version, e.g. 15 or 14.2 (default 15)")
	f.BoolVar(&o.JSON, "json", false, `print {"findings": [...]} as JSON instead of text`)
	f.StringVar(&o.SARIF, "sarif", "", "also write a SARIF 2.1.0 log to this file")
	f.StringVar(&o.FailOn, "fail-on", "dangerous", "lowest risk that makes lint exit 3: dangerous, caution, safe or never")
	f.StringArrayVar(&o.Rules, "rule", nil, "change a rule's class: id=safe|caution|dangerous|off (repeatable)")
	f.BoolVar(&o.NoTransaction, "no-transaction", false, "FILE arguments run outside a transaction")
	f.StringVar(&o.StdinName, "stdin-name", "", `the name findings give the SQL read from standard input (FILE -), whose file name also tells its format (default "<stdin>")`)
	return cmd
}

// lintUnit is one script to analyse and the name its findings carry.
type lintUnit struct {
	script *migrate.Script
	inTx   bool
	// format is the format the script was read in ("" when unknown): its tool decides what a script
	// left inside a transaction block does (lint.Config.Format).
	format migrate.Format
	// extra are the findings of the migration's tool (lint.ToolFindings).
	extra []lint.Finding
	// quiet units are analysed for what the later ones see, their findings not reported (lint --dir
	// with FILE arguments).
	quiet bool
}

func (a *App) runLint(o *LintOptions) error {
	deploy, err := a.lintFileConfig(o)
	if err != nil {
		return err
	}
	cfg, failOn, err := lintConfig(o)
	cfg.Deploy = deploy
	cfg.FormatHint = "if its tool runs it outside one, give lint the format with --format (golang-migrate, flyway, plain...) or format in schemagate.yml, or pass --no-transaction"
	if err != nil {
		return usageErr(err)
	}
	// A SARIF log that cannot be written, or would overwrite a migration, is found now, not after the work.
	if err := outputsApart(o.Dir, output{"--sarif", o.SARIF}); err != nil {
		return usageErr(err)
	}
	if err := outputsNotInputs([]input{{"configuration file", firstNonEmpty(o.ConfigFile, config.DefaultFile)}}, output{"--sarif", o.SARIF}); err != nil {
		return usageErr(err)
	}
	if err := writable(o.SARIF); err != nil {
		return usageErr(fmt.Errorf("--sarif %s: %w", o.SARIF, err))
	}
	if err := a.readLintStdin(o); err != nil {
		return err
	}
	units, err := lintUnits(o, cfg)
	if err != nil {
		return err
	}
	for _, w := range o.warnings {
		fmt.Fprintf(a.Stderr, "note: %s\n", clean(w)) // as check's notes: no error's "schemagate: "
	}
	// Findings are written as the scripts' analyses complete, in order, and then dropped: a folder of
	// thousands of migrations has tens of thousands of findings, and holding them all would cost more
	// memory than the parse trees (only --sarif keeps them, to write its log at the end).
	results := make([]chan []lint.Finding, len(units))
	for i := range results {
		results[i] = make(chan []lint.Finding, 1)
	}
	next := make(chan int)
	analyze := func(u lintUnit) []lint.Finding {
		c := cfg
		c.Format = u.format
		return lint.AnalyzeScript(u.script, u.inTx, c)
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), len(units)))
	if o.Dir != "" {
		// A folder's migrations build on each other, as check replays them: judge them in order, each
		// seeing what the earlier ones made (a CHECK validated two migrations back proves a SET NOT NULL).
		seqCfg := cfg
		if len(units) > 0 {
			seqCfg.Format = units[0].format // one folder, one format
		}
		seq := lint.NewSequence(seqCfg)
		analyze = func(u lintUnit) []lint.Finding { return seq.AnalyzeScript(u.script, u.inTx) }
		workers = 1
	}
	for range workers {
		go func() {
			for i := range next {
				results[i] <- append(analyze(units[i]), units[i].extra...)
				units[i].script = nil // its parse trees are no longer needed
			}
		}()
	}
	go func() {
		for i := range units {
			next <- i
		}
		close(next)
	}()
	out := bufio.NewWriterSize(a.Stdout, 64<<10)
	var (
		tally   report.Tally
		files   int
		sarif   []lint.Finding
		blocked bool
		first   = true
	)
	if o.JSON {
		out.WriteString("{\n  \"findings\": [")
	}
	for i := range units {
		// A script that repeats one statement (a seed of 200,000 UPDATEs) gets one finding for them, as in
		// check's report, not one each.
		fs := lint.Fold(<-results[i])
		if units[i].quiet {
			continue
		}
		files++
		tally.Add(fs)
		for _, f := range fs {
			blocked = blocked || (failOn >= 0 && !f.Ignored && f.Risk >= failOn)
		}
		if o.SARIF != "" {
			sarif = append(sarif, fs...)
		}
		if !o.JSON {
			if err := report.WriteText(out, cleanFindings(fs)); err != nil { // see clean
				return exitCode(ExitFailure, fmt.Errorf("write findings: %w", err))
			}
			continue
		}
		for _, f := range fs {
			b, err := json.MarshalIndent(f, "    ", "  ")
			if err != nil {
				return exitCode(ExitFailure, fmt.Errorf("write json: %w", err))
			}
			if !first {
				out.WriteByte(',')
			}
			first = false
			out.WriteString("\n    ")
			out.Write(b)
		}
	}
	if o.JSON {
		if !first {
			out.WriteString("\n  ")
		}
		out.WriteString("]\n}\n")
	}
	if err := out.Flush(); err != nil {
		return exitCode(ExitFailure, fmt.Errorf("write findings: %w", err))
	}
	if o.SARIF != "" {
		if sarif == nil {
			sarif = []lint.Finding{}
		}
		if err := a.writeSARIF(context.Background(), o.SARIF, sarif); err != nil {
			return exitCode(ExitFailure, err)
		}
	}
	fmt.Fprintf(a.Stderr, "schemagate lint: %d file%s, %s\n", files, report.Plural(files), tally.String())
	if blocked {
		return exitCode(ExitBlocked, nil)
	}
	return nil
}

// lintConfig validates the flags; failOn is -1 for "never".
// lintFileConfig merges schemagate.yml into o under the flags, the way check reads it, so that lint
// and check classify alike. It returns the deploy timeouts the rules count (see deployTimeouts).
func (a *App) lintFileConfig(o *LintOptions) (lint.DeployTimeouts, error) {
	cfg := config.Default()
	cfg.Lint.FailOn = "" // lint's own default (dangerous) stands unless the file sets one
	if _, err := a.loadConfigOver(o.ConfigFile, cfg); err != nil {
		return nil, err
	}
	changed := o.changed
	if changed == nil {
		changed = func(string) bool { return false }
	}
	if o.Dir == "" && len(o.Files) == 0 && cfg.Dir != "" {
		o.Dir, o.dirFrom = cfg.Dir, "SCHEMAGATE_DIR"
		if a.Getenv("SCHEMAGATE_DIR") == "" {
			o.dirFrom = "dir"
			if where := cfg.Where("dir"); where != "" {
				o.dirFrom = where + ": dir"
			}
		}
	}
	if o.Dir == "" && len(o.Files) == 0 {
		o.Dir, o.dirDefault = "migrations", true // as check, gate and deploy do
	}
	if o.Format == "" {
		o.Format = cfg.Format
	}
	o.read = cfg.ReadOptions()
	o.Format = strings.ToLower(strings.TrimSpace(o.Format)) // --format GOOSE: as the file's is read
	if o.PGVersion == "" && cfg.Database.PGVersion != 0 {
		o.PGVersion = fmt.Sprint(cfg.Database.PGVersion)
	}
	if !changed("fail-on") && cfg.Lint.FailOn != "" {
		o.FailOn = cfg.Lint.FailOn
	}
	// The file's classes first, the --rule flags over them.
	var rules []string
	for _, id := range slices.Sorted(maps.Keys(cfg.Lint.Rules)) {
		rules = append(rules, id+"="+cfg.Lint.Rules[id])
	}
	o.Rules = append(rules, o.Rules...)
	return deployTimeouts(cfg), nil
}

// ruleFlag reads a --rule id=class in any letter case (OFF, Dangerous, Prefer-Text), as schemagate.yml's
// lint.rules are read: both lower-cased, since the rules look their class up by the lower-case id and
// the policy ranks the lower-case classes. ok is false without an = or an id.
func ruleFlag(r string) (id, class string, ok bool) {
	id, class, ok = strings.Cut(r, "=")
	id, class = strings.ToLower(strings.TrimSpace(id)), strings.ToLower(strings.TrimSpace(class))
	return id, class, ok && id != ""
}

// checkRuleFlag reads a --rule id=class and checks it as check checks the configuration's lint.rules,
// its problems in check's words.
func checkRuleFlag(r string) (id, class string, errs []error) {
	id, class, ok := ruleFlag(r)
	if !ok {
		return "", "", []error{fmt.Errorf("--rule %q: want id=class", r)}
	}
	one := config.Default()
	one.Lint.Rules = map[string]string{id: class}
	for _, p := range one.Validate() {
		if p.Path == "lint.rules."+id {
			errs = append(errs, fmt.Errorf("--rule: %s", p.Msg))
		}
	}
	return id, class, errs
}

func lintConfig(o *LintOptions) (lint.Config, lint.Risk, error) {
	var cfg lint.Config
	var errs []error
	if o.PGVersion != "" {
		v, err := lint.ParseVersion(o.PGVersion)
		if err != nil {
			errs = append(errs, fmt.Errorf("--pg-version: %w", err))
		}
		cfg.PGVersion = v
	}
	// Each --rule is checked as check checks it (the configuration's lint.rules), in the order given, its
	// problems in check's words. (The file's rules come first in o.Rules: Parse has checked them.)
	for _, r := range o.Rules {
		id, class, bad := checkRuleFlag(r)
		if bad != nil {
			errs = append(errs, bad...)
			continue
		}
		if cfg.Rules == nil {
			cfg.Rules = map[string]string{}
		}
		cfg.Rules[id] = class
	}
	failOn := lint.Risk(-1)
	if !strings.EqualFold(strings.TrimSpace(o.FailOn), "never") {
		r, err := lint.ParseRisk(strings.TrimSpace(o.FailOn))
		if err != nil {
			errs = append(errs, fmt.Errorf("--fail-on %q: want dangerous, caution, safe or never", o.FailOn))
		}
		failOn = r
	}
	if o.Dir != "" && slices.Contains(o.Files, "-") {
		errs = append(errs, errors.New("give --dir or the FILE - (standard input), not both"))
	}
	if o.Dir != "" && len(o.Files) > 0 && o.NoTransaction {
		errs = append(errs, errors.New("--no-transaction is for FILE arguments without --dir: a folder's migrations run as its tool runs them"))
	}
	if o.Dir == "" && len(o.Files) == 0 {
		errs = append(errs, errors.New("nothing to lint: give --dir DIR or FILE arguments"))
	}
	if _, err := migrate.ParseFormat(o.Format); err != nil {
		if o.changed != nil && o.changed("format") {
			errs = append(errs, fmt.Errorf("--format: %w", err))
		} else {
			errs = append(errs, fmt.Errorf("format (schemagate.yml or SCHEMAGATE_FORMAT): %w", err))
		}
	}
	return cfg, failOn, errors.Join(errs...)
}

func lintUnits(o *LintOptions, lintCfg lint.Config) ([]lintUnit, error) {
	if o.Dir != "" {
		format, err := migrate.ParseFormat(o.Format)
		if err != nil {
			return nil, usageErr(err)
		}
		if st, err := os.Stat(o.Dir); o.dirDefault && (err != nil || !st.IsDir()) {
			return nil, usageErr(errors.New("nothing to lint: no ./migrations folder here; give --dir DIR or FILE arguments (or set dir in schemagate.yml)"))
		} else if err != nil || !st.IsDir() {
			from := "--dir"
			if o.dirFrom != "" {
				from = o.dirFrom
			}
			return nil, usageErr(fmt.Errorf("%s %s: not a directory", from, o.Dir))
		}
		set, err := migrate.ReadDirWith(o.Dir, format, o.read)
		if err != nil {
			return nil, usageErr(fmt.Errorf("read %s: %w", o.Dir, err))
		}
		// A SARIF log the folder's tool would read as a migration is refused now, before the analysis,
		// as one that would overwrite a migration is (runLint).
		if err := outputsNotRead(o.Dir, set, output{"--sarif", o.SARIF}); err != nil {
			return nil, usageErr(err)
		}
		// FILE arguments with --dir pick the migrations to judge: those whose up file is one of them. The
		// migrations before them are analysed too, quietly: the rules judge a migration by what the
		// earlier ones made (a CHECK validated two migrations back proves a SET NOT NULL). A migration's
		// down or verify file picks nothing, nor does another file in the folder (sqitch.plan, atlas.sum, a
		// README: a pre-commit hook passes every changed file), which a warning names; a file outside the
		// folder, or none at all, is bad input.
		picked := map[string]bool{}
		for _, f := range o.Files {
			picked[absPath(f)] = true
		}
		var units []lintUnit
		var mentioned []string     // the picked migrations' files, as the read's warnings name them (a warning about the folder names none)
		known := map[string]bool{} // with FILE arguments: every migration's files, made absolute once
		last := -1
		for _, m := range set.Migrations {
			up := ""
			if len(o.Files) > 0 {
				for _, sc := range []*migrate.Script{m.Up, m.Down, m.Verify} {
					if sc != nil {
						known[absPath(filepath.Join(o.Dir, sc.File))] = true
					}
				}
				if m.Up != nil {
					up = absPath(filepath.Join(o.Dir, m.Up.File))
				}
			}
			if m.Up == nil || m.External != "" { // a goose Go migration holds no SQL
				continue
			}
			quiet := len(o.Files) > 0 && !picked[up]
			s := *m.Up
			s.File = filepath.ToSlash(filepath.Join(o.Dir, s.File))
			extra := lint.ToolFindings(m, set.Format, lintCfg)
			for i := range extra {
				extra[i].File = filepath.ToSlash(filepath.Join(o.Dir, extra[i].File))
			}
			units = append(units, lintUnit{script: &s, inTx: lint.ToolTransaction(m, set.Format), format: set.Format, extra: extra, quiet: quiet})
			if !quiet {
				last = len(units) - 1
				for _, sc := range []*migrate.Script{m.Up, m.Down, m.Verify} {
					if sc != nil {
						mentioned = append(mentioned, sc.File)
					}
				}
			}
		}
		for _, w := range set.Warnings {
			if len(o.Files) == 0 || w.File == "" || slices.Contains(mentioned, w.File) {
				o.warnings = append(o.warnings, fmt.Sprintf("read %s: %s", o.Dir, w))
			}
		}
		if len(o.Files) == 0 {
			return units, nil
		}
		units = units[:last+1] // what follows the last picked one judges nothing
		dir := absPath(o.Dir)
		var strays []string
		for _, f := range o.Files {
			if known[absPath(f)] {
				continue
			}
			// Outside the folder, missing, or an SQL file of it that is no migration's (a misnamed one,
			// which a pre-commit hook would pass unseen with a warning alone).
			if st, err := os.Stat(f); err != nil || st.IsDir() || !strings.HasPrefix(absPath(f), dir+string(filepath.Separator)) ||
				strings.EqualFold(filepath.Ext(f), ".sql") {
				strays = append(strays, f)
				continue
			}
			o.warnings = append(o.warnings, fmt.Sprintf("%s is no migration's file in %s (as %s reads it): not linted", f, o.Dir, set.Format))
		}
		if len(strays) > 0 {
			return nil, usageErr(fmt.Errorf("not a migration's file in %s (as %s reads it): %s", o.Dir, set.Format, strings.Join(strays, ", ")))
		}
		return units, nil
	}
	format, err := migrate.ParseFormat(o.Format)
	if err != nil {
		return nil, usageErr(err)
	}
	units := make([][]lintUnit, len(o.Files))
	warnings := make([][]string, len(o.Files))
	errs := make([]error, len(o.Files))
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
	for i, name := range o.Files {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if name == "-" {
				units[i], warnings[i], errs[i] = lintSQL(o.stdinName(), o.stdin, format, o.read, !o.NoTransaction, lintCfg)
				if errs[i] != nil && o.StdinName == "" && format != migrate.FormatAuto {
					errs[i] = errors.Join(errs[i], fmt.Errorf("a %s migration is read by its file name: give it with --stdin-name", format))
				}
				return
			}
			units[i], warnings[i], errs[i] = lintFileArg(name, format, o.read, !o.NoTransaction, lintCfg)
		}()
	}
	wg.Wait()
	if errs = slices.DeleteFunc(errs, func(err error) bool { return err == nil }); len(errs) == 1 {
		return nil, usageErr(errs[0]) // not a join of one: its own problems keep a line each
	} else if err := errors.Join(errs...); err != nil {
		return nil, usageErr(err)
	}
	o.warnings = slices.Concat(warnings...)
	return slices.Concat(units...), nil
}

// absPath is name made absolute, through symbolic links where it exists (cleaned as it is when that
// fails), to compare paths given either way.
func absPath(name string) string {
	abs, err := filepath.Abs(name)
	if err != nil {
		return filepath.Clean(name)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real
	}
	return abs
}

// lintFileArg reads the FILE argument name as a migration of format (auto: told from its name or
// annotations, as the folder reader tells a folder's) with that format's folder reader, so that it is
// judged as lint --dir judges it: in the transaction mode the format's tool gives it, and for a goose,
// dbmate or sql-migrate file, which holds its down after its up, by its up section alone (the down does
// not run after the up). A file of no known format is one migration, the whole of it, in a
// transaction when inTx. warnings are the read's notes.
func lintFileArg(name string, format migrate.Format, opts migrate.Options, inTx bool, cfg lint.Config) ([]lintUnit, []string, error) {
	b, err := repofs.ReadFile(name)
	if err != nil {
		if st, serr := os.Stat(name); serr == nil && st.IsDir() {
			return nil, nil, fmt.Errorf("%s is a folder: lint takes a migration folder with --dir %s", name, name)
		}
		if errors.Unwrap(err) != nil {
			err = errors.Unwrap(err)
		}
		return nil, nil, fmt.Errorf("read %s: %w", name, err)
	}
	return lintSQL(name, b, format, opts, inTx, cfg)
}

// maxStdin is the most SQL lint reads from standard input: more than any migration, less than what
// would exhaust memory on a stream that never ends.
const maxStdin = 256 << 20

// readLintStdin reads standard input into o.stdin when a FILE argument is - (once: a second - would
// read nothing), and checks --stdin-name is given with it.
func (a *App) readLintStdin(o *LintOptions) error {
	n := 0
	for _, f := range o.Files {
		if f == "-" {
			n++
		}
	}
	switch {
	case n > 1:
		return usageErr(errors.New("the FILE - (standard input) can be given once"))
	case n == 0 && o.StdinName != "":
		return usageErr(errors.New("--stdin-name names the SQL read from standard input: give the FILE - too"))
	case n == 0:
		return nil
	}
	if a.Stdin == nil {
		return usageErr(errors.New("the FILE - reads standard input, and there is none"))
	}
	b, err := io.ReadAll(io.LimitReader(a.Stdin, maxStdin+1))
	if err != nil {
		return exitCode(ExitFailure, fmt.Errorf("read standard input: %w", err))
	}
	if len(b) > maxStdin {
		return usageErr(fmt.Errorf("standard input holds more than %d MiB of SQL: give the migration as a FILE or --dir", maxStdin>>20))
	}
	o.stdin = b
	return nil
}

// stdinName is the name the SQL from standard input is linted under.
func (o *LintOptions) stdinName() string {
	if o.StdinName != "" {
		return o.StdinName
	}
	return "<stdin>"
}

// lintSQL reads b, the content of the FILE argument name, as lintFileArg says. warnings are the read's
// notes (an empty up file, a name the tool does not read as given).
func lintSQL(name string, b []byte, format migrate.Format, opts migrate.Options, inTx bool, cfg lint.Config) (units []lintUnit, warnings []string, err error) {
	base := filepath.Base(name)
	if format == migrate.FormatAuto {
		// Told as a folder of this one file is told (by its base name: the readers take the tools' file
		// names, {version}_{name}.up.sql): by the name (golang-migrate, Flyway) or the annotations
		// (goose, dbmate, sql-migrate). Plain is no evidence, only what detection falls back to for any
		// .sql file: the format stays unknown.
		format = ""
		if f, err := migrate.Detect(fstest.MapFS{base: &fstest.MapFile{Data: b, Mode: 0o644}}); err == nil && f != migrate.FormatPlain {
			format = f
		} else if me := (*migrate.Error)(nil); errors.As(err, &me) && strings.HasPrefix(me.Msg, "ambiguous") {
			return nil, nil, fmt.Errorf("read %s: %w", name, err)
		}
	}
	if format == "" {
		// No format known: the file is taken to run in a transaction (unless --no-transaction), as most
		// tools run a migration file (Rails, Django, Alembic, Liquibase, goose, dbmate...), so that a
		// statement that refuses one is flagged rather than passed; the finding says how to tell lint the
		// format (lint.Config.FormatHint). A file that is not UTF-8, or empty, is refused as the folder
		// readers refuse it: the parser would report a stray byte as a syntax error somewhere after it,
		// and an empty file would pass as a migration without a finding.
		if !utf8.Valid(b) {
			bad := migrate.FirstInvalidUTF8(b)
			return nil, nil, &migrate.Error{File: name, Line: 1 + bytes.Count(b[:bad], []byte{'\n'}), Hint: "save the file as UTF-8",
				Msg: fmt.Sprintf("file is not valid UTF-8 (byte 0x%02x at offset %d)", b[bad], bad)}
		}
		// psql skips a byte-order mark at the start of a file (so do most tools): the statements start
		// after it.
		src := strings.TrimPrefix(string(b), "\uFEFF")
		if strings.TrimSpace(src) == "" {
			return nil, nil, &migrate.Error{File: name, Msg: "empty file", Hint: "write the migration's SQL or give another file"}
		}
		return []lintUnit{{script: &migrate.Script{File: filepath.ToSlash(name), SQL: src, Statements: sqlparse.Parse(src)}, inTx: inTx}}, nil, nil
	}
	// The folder reader of the format, on this one file: the file runs in the transaction mode its tool
	// gives it (a golang-migrate file of one CREATE INDEX CONCURRENTLY outside a transaction, a plain
	// or sqitch script statement by statement, a goose file as its annotations say), by the rules lint
	// --dir applies.
	set, err := migrate.ReadFile(name, b, format, opts)
	if err != nil {
		nameFile(err, base, name)
		return nil, nil, fmt.Errorf("read %s as a %s migration: %w", name, format, err)
	}
	for _, w := range set.Warnings {
		nameFile(w, base, name)
		warnings = append(warnings, w.Error())
	}
	for _, m := range set.Migrations {
		if m.Up == nil || m.External != "" {
			continue
		}
		s := *m.Up
		s.File = filepath.ToSlash(name)
		extra := lint.ToolFindings(m, set.Format, cfg)
		for i := range extra {
			extra[i].File = filepath.ToSlash(name) // the folder holds this one file
		}
		units = append(units, lintUnit{script: &s, inTx: inTx && lint.ToolTransaction(m, set.Format), format: set.Format, extra: extra})
	}
	return units, warnings, nil
}

// nameFile gives the problems of migrate.ReadFile the FILE argument's name, where the reader, which
// reads the file by its base name, gave them that.
func nameFile(err error, base, name string) {
	var me *migrate.Error
	switch e := err.(type) { // the tree errors.As walks, to reach every problem of a joined error
	case interface{ Unwrap() []error }:
		for _, c := range e.Unwrap() {
			nameFile(c, base, name)
		}
	case *migrate.Error:
		me = e
	case interface{ Unwrap() error }:
		nameFile(e.Unwrap(), base, name)
	}
	if me != nil && me.File == base {
		me.File = filepath.ToSlash(name)
	}
}
