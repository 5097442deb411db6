package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/gate"
	"github.com/schemagate/schemagate/internal/gitfs"
	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/repofs"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/sandbox"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// CheckOptions are the inputs of `schemagate check` (also used by `schemagate action`).
type CheckOptions struct {
	Dir         string
	Format      string
	ConfigFile  string
	Base        string
	Provider    string
	PGVersion   int
	Image       string
	DatabaseURL string
	PGBinDir    string
	Setup       []string
	// StatementTimeout is --statement-timeout (set["statement-timeout"] tells whether it was given).
	StatementTimeout time.Duration
	ReportJSON       string
	SARIF            string
	ReportMD         string
	FailOn           string
	GenerateDown     bool
	NoRoundtrip      bool
	NoTrace          bool
	Rules            []string
	Quiet            bool

	// set tracks which flags the user gave, so they override the configuration file.
	set map[string]bool
	// policy says what of the change's own schemagate.yml was ignored for the base's policy.
	policy basePolicy
	// failOnFrom says where FailOn comes from, for the messages: "--fail-on", or the configuration.
	failOnFrom string
	// versionFrom and imageFrom say where the server's version and the docker provider's image come
	// from, for the error of a server of another version (see serverFrom).
	versionFrom, imageFrom string
	// head is the commit the report is for (the action's pull request head), recorded in the report.
	head string
	// configFile is the configuration file read (or looked for): no report may be written over it.
	configFile string
	// ci marks a CI job's run (the action) whatever the environment says: see refuseServerAccess.
	ci bool
}

func (a *App) newCheckCmd() *cobra.Command {
	o := &CheckOptions{}
	cmd := &cobra.Command{
		Use:   "check [--dir DIR]",
		Short: "Rehearse migrations on a throwaway PostgreSQL and prove each new one reversible",
		Long: `check starts a throwaway PostgreSQL, replays the migration history (the migrations present at
--base), applies each new migration while tracing the locks, rewrites and scans of every statement,
proves it reversible (down, then up again, comparing the catalog), and classifies its risk.

Exit codes: 0 all good, 3 a migration or round trip failed (or risk reached --fail-on),
2 usage or bad input, 1 the tool itself failed.`,
		Example: `  schemagate check --dir examples/shop
  schemagate check --dir db/migrations --base origin/main --report-json report.json
  schemagate check --provider docker --pg-version 17
  schemagate check --provider url --database-url postgres://postgres:secret@localhost:5432/postgres`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.set = map[string]bool{}
			cmd.Flags().Visit(func(f *pflag.Flag) { o.set[f.Name] = true })
			rep, err := a.runCheck(cmd.Context(), o)
			if err != nil {
				return err
			}
			return checkExit(rep, o.failOnFrom)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Dir, "dir", "", "migration folder (default: dir from schemagate.yml, else ./migrations)")
	f.StringVar(&o.Format, "format", "", "migration format: auto, golang-migrate, goose, dbmate, flyway, sqitch, sql-migrate, atlas, plain")
	f.StringVar(&o.ConfigFile, "config", "", "configuration file (default ./schemagate.yml when present)")
	f.StringVar(&o.Base, "base", "", "git ref whose migrations are history (default in a GitLab merge request pipeline: CI_MERGE_REQUEST_DIFF_BASE_SHA, or CI_MERGE_REQUEST_TARGET_BRANCH_SHA in a merged results or merge train pipeline; else every migration is new)")
	f.StringVar(&o.Provider, "provider", "", "throwaway database: auto, local (its server runs without network where Linux allows it), docker or url")
	f.Var(majorVersion{&o.PGVersion}, "pg-version", "PostgreSQL major version (default: database.pg_version from schemagate.yml, else the newest local, 15 for docker)")
	f.StringVar(&o.Image, "image", "", "container image for --provider docker (default postgres:<pg-version>)")
	f.StringVar(&o.DatabaseURL, "database-url", "", "existing server for --provider url (a database is created and dropped)")
	f.StringVar(&o.PGBinDir, "pg-bindir", "", "folder of initdb/postgres for --provider local")
	f.StringArrayVar(&o.Setup, "setup", nil, "SQL file run on the throwaway database before the history, e.g. the roles migrations GRANT to (repeatable; replaces database.setup)")
	f.DurationVar(&o.StatementTimeout, "statement-timeout", 0, "longest a statement may run on the throwaway database before it is canceled and its migration failed (default 10m, database.statement_timeout; 0 for no limit)")
	f.StringVar(&o.ReportJSON, "report-json", "", "write the JSON report to this file")
	f.StringVar(&o.SARIF, "sarif", "", "also write the new migrations' findings (the trace's too) as a SARIF 2.1.0 log, for code scanning")
	f.StringVar(&o.ReportMD, "report-md", "", "write the Markdown report to this file")
	f.StringVar(&o.FailOn, "fail-on", "", "lowest risk that fails the check: dangerous, caution, safe (any new migration) or never (default: lint.fail_on from schemagate.yml, else never: the approval gate handles risk)")
	f.BoolVar(&o.GenerateDown, "generate-down", false, "write and verify a rollback script for migrations without a working down")
	f.BoolVar(&o.NoRoundtrip, "no-roundtrip", false, "skip the down/up proof")
	f.BoolVar(&o.NoTrace, "no-trace", false, "skip per-statement lock/rewrite/scan tracing")
	f.StringArrayVar(&o.Rules, "rule", nil, "change a rule's class: id=safe|caution|dangerous|off (repeatable)")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "no progress output")
	return cmd
}

// majorVersion is the --pg-version of the commands that start a server: a major version, such as 15.
// (lint's takes a minor too, 14.2, which used to get strconv's words here.)
type majorVersion struct{ v *int }

func (m majorVersion) String() string {
	if m.v == nil {
		return "0"
	}
	return strconv.Itoa(*m.v)
}

func (m majorVersion) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		if major, _, ok := strings.Cut(strings.TrimSpace(s), "."); ok {
			if _, err := strconv.Atoi(major); err == nil {
				return fmt.Errorf("%s is not a major version (write %s)", s, major)
			}
		}
		return fmt.Errorf("want a PostgreSQL major version such as 15, got %q", s)
	}
	*m.v = n
	return nil
}

func (majorVersion) Type() string { return "int" }

// loadConfig reads the configuration file (schemagate.yml when file is empty, and then only if it
// exists) with the environment's overrides applied. It returns the file's name for messages; its
// errors are usage errors.
func (a *App) loadConfig(file string) (*config.Config, string, error) {
	cfg := config.Default()
	file, err := a.loadConfigOver(file, cfg)
	if err != nil {
		return nil, file, err
	}
	return cfg, file, nil
}

// loadConfigOver reads the configuration file (default ./schemagate.yml, when present) and the
// SCHEMAGATE_* environment over cfg, and returns the file's name.
func (a *App) loadConfigOver(file string, cfg *config.Config) (string, error) {
	required := file != ""
	if file == "" {
		file = config.DefaultFile
	}
	dir, setup := cfg.Dir, slices.Clone(cfg.Database.Setup)
	if err := config.LoadOver(file, required, cfg); err != nil {
		return file, usageErr(err)
	}
	// The file's paths are relative to its folder, wherever schemagate runs (--config app/schemagate.yml
	// from the workspace, as a checkout into a folder has it); confinePaths checks them as resolved.
	if cfg.Dir != dir {
		cfg.Dir = inConfigFolder(file, cfg.Dir)
	}
	if !slices.Equal(cfg.Database.Setup, setup) {
		for i, p := range cfg.Database.Setup {
			cfg.Database.Setup[i] = inConfigFolder(file, p)
		}
	}
	// Only the file sets environments: their snapshot folders are the file's too.
	for _, e := range cfg.Environments {
		if e != nil {
			e.Snapshot.Dir, e.Snapshot.PGBin = inConfigFolder(file, e.Snapshot.Dir), inConfigFolder(file, e.Snapshot.PGBin)
		}
	}
	if err := confinePaths(file, cfg); err != nil {
		return file, err
	}
	if err := cfg.ApplyEnv(a.Getenv); err != nil {
		return file, usageErr(err)
	}
	return file, nil
}

// inConfigFolder resolves path p, as the configuration file names it, against the file's folder.
func inConfigFolder(file, p string) string {
	dir := filepath.Dir(file)
	if p == "" || filepath.IsAbs(p) || dir == "." {
		return p
	}
	return filepath.Join(dir, p)
}

// basePolicyInConfigFolder is basePolicyFor with cfg.Dir as the file writes it (relative to its folder),
// so that it compares with the base's dir setting, which the base's file writes the same way; the dir
// that holds (the change's or the base's) is resolved against the folder again. A dir that
// SCHEMAGATE_DIR sets is the same in both and relative to the working directory: it is left alone.
func (a *App) basePolicyInConfigFolder(ctx context.Context, cfg *config.Config, file, ref string, fallback func(rel string) baseFileReader, flags policyFlags, enforce enforcer) (basePolicy, error) {
	folder := filepath.Dir(file)
	if folder == "." || a.Getenv("SCHEMAGATE_DIR") != "" || cfg.Dir == "" {
		return a.basePolicyFor(ctx, cfg, file, ref, fallback, flags, enforce)
	}
	resolved := cfg.Dir
	// With --config given as an absolute path, the file's dir was resolved to one too: it is still
	// written relative to the file's folder, as the base's is. A dir outside the folder is left as it is.
	rel, err := filepath.Rel(folder, cfg.Dir)
	if err != nil || (filepath.IsAbs(cfg.Dir) && (rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)))) {
		return a.basePolicyFor(ctx, cfg, file, ref, fallback, flags, enforce)
	}
	cfg.Dir = rel
	p, err := a.basePolicyFor(ctx, cfg, file, ref, fallback, flags, enforce)
	if cfg.Dir == rel {
		cfg.Dir = resolved
	} else {
		cfg.Dir = inConfigFolder(file, cfg.Dir)
	}
	return p, err
}

// resolveCheck merges defaults < file < environment < flags. Against a base, the policy settings of the
// file are the base's, as far as the change loosens them (see enforceBasePolicy).
func (a *App) resolveCheck(ctx context.Context, o *CheckOptions) (*config.Config, error) {
	cfg, file, err := a.loadConfig(o.ConfigFile)
	if err != nil {
		return nil, err
	}
	o.configFile = file
	if gl, ok := a.gitlabJob(); ok && o.Base == "" && gl.BadIID() != nil {
		// Taken for no merge request, the check would replay no history and call every migration new.
		return nil, usageErr(gl.BadIID())
	}
	if gl, ok := a.gitlabJob(); ok && o.Base == "" && gl.IsMergeRequest() && gl.BaseSHA() != "" {
		// In a merge request pipeline the history is what the target branch had at the diff base, or, in
		// a merged results or merge train pipeline, what it has now.
		o.Base = gl.BaseSHA()
	}
	if gl, ok := a.gitlabJob(); ok && o.head == "" && gl.IsMergeRequest() {
		// The report is for the merge request's head (a merged results pipeline checks out a merge
		// commit): the gate judges it only there (see reportHead).
		o.head = gl.HeadSHA()
	}
	if o.policy, err = a.basePolicyInConfigFolder(ctx, cfg, file, o.Base, nil, policyFlags{dir: o.Dir != "", pgVersion: o.PGVersion != 0, image: o.Image != ""}, nil); err != nil {
		return nil, err
	}
	// What fail_on is called in the messages: the flag, or the file it came from.
	o.failOnFrom = "fail_on (" + filepath.Base(file) + ")"
	if o.policy.failOnFromBase {
		o.failOnFrom = "fail_on (" + o.policy.where + ")"
	}
	if o.FailOn != "" {
		o.failOnFrom = "--fail-on"
	}
	folderFlags(cfg, o.Dir, o.Format)
	if o.Provider != "" {
		cfg.Database.Provider = strings.ToLower(strings.TrimSpace(o.Provider)) // Docker: as the file's is read
	}
	if o.PGVersion != 0 {
		cfg.Database.PGVersion = o.PGVersion
	}
	if o.Image != "" {
		cfg.Database.Image = o.Image
	}
	if o.DatabaseURL != "" {
		cfg.Database.URL = o.DatabaseURL
		if o.Provider == "" {
			cfg.Database.Provider = "url"
		}
	}
	if o.FailOn != "" {
		o.FailOn = strings.ToLower(strings.TrimSpace(o.FailOn)) // Dangerous, NEVER: as lint.fail_on is read
		switch o.FailOn {
		case "never", "safe", "caution", "dangerous":
		default:
			return nil, usageErr(fmt.Errorf("--fail-on %q: want dangerous, caution, safe or never", o.FailOn))
		}
		cfg.Lint.FailOn = o.FailOn
	}
	if len(o.Setup) > 0 {
		cfg.Database.Setup = o.Setup
	}
	if o.set["statement-timeout"] {
		if o.StatementTimeout < 0 {
			return nil, usageErr(fmt.Errorf("--statement-timeout %s: must not be negative (0 turns the limit off)", o.StatementTimeout))
		}
		cfg.Database.StatementTimeout = &o.StatementTimeout
	}
	for _, r := range o.Rules {
		id, class, ok := ruleFlag(r)
		if !ok {
			return nil, usageErr(fmt.Errorf("--rule %q: want id=class", r))
		}
		if cfg.Lint.Rules == nil {
			cfg.Lint.Rules = map[string]string{}
		}
		cfg.Lint.Rules[id] = class
	}
	if ps := cfg.Validate(); len(ps) > 0 {
		return nil, usageErr(a.flagProblems(ps, o))
	}
	o.FailOn = cfg.Lint.FailOn
	o.versionFrom, o.imageFrom = a.serverFrom(cfg, o)
	return cfg, nil
}

// serverFrom says where the server's version and the docker provider's image come from, as the error of
// a server of another version (or of a version this machine lacks) names them: the flag, the
// environment, the base's schemagate.yml holding over the change's, or the working tree's file at its
// line. The base's version is none the user wrote where they look, so it must be named. "" for a
// setting nobody made (the default).
func (a *App) serverFrom(cfg *config.Config, o *CheckOptions) (version, image string) {
	switch {
	case o.PGVersion != 0:
		version = "--pg-version"
	case a.Getenv("SCHEMAGATE_PG_VERSION") != "":
		version = "SCHEMAGATE_PG_VERSION"
	case o.policy.versionFrom != "":
		version = o.policy.versionFrom
	case cfg.Where("database.pg_version") != "":
		version = "database.pg_version at " + cfg.Where("database.pg_version")
	}
	switch {
	case o.Image != "":
		image = "from --image"
	case o.policy.imageHeld:
		image = o.policy.imageFrom
	case cfg.Where("database.image") != "":
		image = "from database.image at " + cfg.Where("database.image")
	}
	return version, image
}

// runCheck runs the rehearsal and writes the reports; it returns the report even when migrations fail.
func (a *App) runCheck(ctx context.Context, o *CheckOptions) (rep *report.Report, err error) {
	cfg, err := a.resolveCheck(ctx, o)
	if err != nil {
		return nil, err
	}
	a.hideSecrets(sandbox.URLSecrets(cfg.Database.URL)...)
	baseNotes := slices.Clone(o.policy.notes)
	hint := "pass --dir or set dir in schemagate.yml"
	switch where := cfg.Where("dir"); {
	case o.Dir != "":
		hint = "check --dir"
	case a.Getenv("SCHEMAGATE_DIR") != "":
		hint = "check SCHEMAGATE_DIR"
	case where != "":
		hint = "set by dir at " + where + "; fix it there or pass --dir"
	}
	if h := o.policy.folderHint(); h != "" {
		hint = h
	}
	if n := folderSize(cfg.Dir); n >= bigSQL {
		// Parsing takes about a second for 20 MB of SQL (a seed), before any other line.
		a.progress(o.Quiet)("reading %s: %s of SQL to parse", cfg.Dir, mebibytes(n))
	}
	set, base, unread, lcfg, err := readFolder(ctx, cfg, o.Base, hint, &baseNotes)
	if err != nil {
		return nil, err
	}
	refuseAccess := a.refuseServerAccess(ctx, cfg, o, &baseNotes)
	// The notes come first, before a rehearsal that may take minutes; the report repeats them. With
	// --quiet they are printed only when no report follows. "note: ", not the errors' "schemagate: ":
	// a CI log must not read a passing run's note as its failure.
	showNotes := func() {
		for _, n := range baseNotes {
			fmt.Fprintf(a.Stderr, "note: %s\n", clean(n))
		}
	}
	if o.Quiet {
		defer func() {
			if rep == nil {
				showNotes()
			}
		}()
	} else {
		showNotes()
	}
	// A report that cannot be written is found now, not after the whole rehearsal.
	outputs := []output{{"--report-json", o.ReportJSON}, {"--report-md", o.ReportMD}, {"--sarif", o.SARIF}}
	if err := outputsApart(cfg.Dir, outputs...); err != nil {
		return nil, usageErr(err)
	}
	if err := outputsNotRead(cfg.Dir, set, outputs...); err != nil {
		return nil, usageErr(err)
	}
	inputs := []input{{"configuration file", o.configFile}}
	for _, p := range cfg.Database.Setup {
		inputs = append(inputs, input{"setup script", p})
	}
	if err := outputsNotInputs(inputs, outputs...); err != nil {
		return nil, usageErr(err)
	}
	for _, out := range outputs {
		if err := writable(out.path); err != nil {
			return nil, usageErr(fmt.Errorf("%s %s: %w", out.flag, out.path, err))
		}
	}
	// A report of an earlier run must not pass for this one's if this one stops short (Ctrl-C, a crash):
	// it is removed now and written again at the end. Only now: a run refused for another report's path
	// leaves every report as it was.
	for _, out := range outputs {
		if info, err := os.Lstat(out.path); out.path != "" && err == nil && info.Mode().IsRegular() {
			os.Remove(out.path)
		}
	}
	prov, err := a.newProvider(cfg.Database.Provider, sandbox.Options{
		PGVersion: cfg.Database.PGVersion, PGVersionFrom: o.versionFrom, Image: cfg.Database.Image, DatabaseURL: cfg.Database.URL,
		BinDir: o.PGBinDir, Logger: a.checkLogger(o),
	})
	if err != nil {
		return nil, err
	}
	progress := a.progress(o.Quiet)
	setup, err := readSetup(cfg, o.setupFrom())
	if err != nil {
		return nil, err
	}
	rep, err = rehearse.Run(ctx, rehearse.Options{
		Set: set, Base: base, BaseRef: o.Base, Dir: cfg.Dir, Provider: prov, Lint: lcfg, Setup: setup,
		VersionFrom: o.versionFrom, ImageFrom: o.imageFrom,
		RefuseServerAccess: refuseAccess, NoTrace: o.NoTrace, NoRoundtrip: o.NoRoundtrip, GenerateDown: o.GenerateDown,
		StatementTimeout: cfg.Database.RehearsalStatementTimeout(), StatementTimeoutFrom: o.statementTimeoutFrom(cfg),
		Progress: progress, Logger: a.checkLogger(o),
	})
	// A run its server stopped (it no longer answers) fails as the tool's, but with the report of what
	// it did, written as any other's: a CI keeps it, and the comment and the gate have it.
	var stopped error
	if err != nil {
		if rep == nil {
			return nil, rehearsalErr(err)
		}
		stopped = rehearsalErr(err)
	}
	rep.Version = a.Version
	// Against a base that does not read, what the change edited or deleted of its files fails as
	// against a readable one, before the approval is asked for.
	unread.MarkReport(rep, set)
	rep.Notes = append(rep.Notes, baseNotes...)
	// The folder as the repository names it (CODEOWNERS patterns, changed files, the comment's marker),
	// whatever directory schemagate runs from.
	rep.Dir = repoRelative(ctx, cfg.Dir)
	rep.DirGiven = filepath.ToSlash(filepath.Clean(cfg.Dir))
	// What the up destroyed that no catalog difference shows, as rollback-script says it (markDestroyed).
	for i := range rep.Migrations {
		if rm := &rep.Migrations[i]; rm.GeneratedDown != nil {
			if m := reportedMigration(set, rm); m != nil {
				markDestroyed(cfg.Dir, set, m, rm.GeneratedDown)
			}
		}
	}
	// Findings carry paths relative to the folder; the report names them from the repository.
	for i := range rep.Migrations {
		m := &rep.Migrations[i]
		m.File = filepath.ToSlash(filepath.Join(cfg.Dir, m.File))
		if m.DownFile != "" {
			m.DownFile = filepath.ToSlash(filepath.Join(cfg.Dir, m.DownFile))
		}
		if m.Error != nil && m.Error.File != "" {
			m.Error.File = filepath.ToSlash(filepath.Join(cfg.Dir, m.Error.File))
		}
		if m.Roundtrip != nil && m.Roundtrip.Error != nil && m.Roundtrip.Error.File != "" && !strings.Contains(m.Roundtrip.Error.File, ".generated.") {
			m.Roundtrip.Error.File = filepath.ToSlash(filepath.Join(cfg.Dir, m.Roundtrip.Error.File))
		}
		if m.Roundtrip != nil {
			for j := range m.Roundtrip.Places {
				m.Roundtrip.Places[j].File = filepath.ToSlash(filepath.Join(cfg.Dir, m.Roundtrip.Places[j].File))
			}
		}
		for j := range m.Findings {
			m.Findings[j].File = filepath.ToSlash(filepath.Join(cfg.Dir, m.Findings[j].File))
		}
		for j := range m.Trace {
			m.Trace[j].File = filepath.ToSlash(filepath.Join(cfg.Dir, m.Trace[j].File))
		}
		if m.New {
			// What the gate compares with the pull request's changed files.
			m.FileBlob, m.DownFileBlob = fileBlob(m.File), fileBlob(m.DownFile)
		}
	}
	if rep.Approval == nil && len(rep.New()) > 0 {
		// What the approval policy asks of these migrations; `schemagate gate` then says who approved.
		// Only now that the findings name their files from the repository: the ignored findings it
		// counts name them as the findings do everywhere else (db/0002_x.up.sql:3, not 0002_x.up.sql:3).
		// The findings the author's ignore comments silence count here: they pass --fail-on, not the DBA.
		risk := rep.RiskForApproval()
		required := gate.Required(cfg.Approval, risk)
		rep.Approval = &report.Approval{Required: required, State: gate.NotRequired, Checksum: gate.Checksum(rep), Ignored: rep.IgnoredFindings()}
		if required {
			rep.Approval.State = gate.Pending
			counted := ""
			if risk > rep.Risk {
				counted = " (counting the findings the author ignored)"
			}
			rep.Approval.Reason = fmt.Sprintf("The new migrations are %s%s and the policy (approval.require: %s) asks a code owner of the migration files to approve them.",
				risk, counted, cfg.Approval.RequireLevel())
		}
	}
	rep.Head = o.head
	if o.FailOn != "" && o.FailOn != "never" {
		rep.FailOn = o.FailOn
		rep.FailOnReached = rep.ReachesFailOn()
	}
	// Before anything is written or rendered: every output quotes the server (see redactReport).
	a.redactReport(rep)
	writeCheckText(a.Stdout, rep, o.failOnFrom)
	var errs []error // each report is written even when another cannot be
	if o.ReportJSON != "" {
		if err := writeJSON(o.ReportJSON, rep); err != nil {
			errs = append(errs, err)
		}
	}
	if o.ReportMD != "" {
		md := report.FileMarkdown(rep, report.MarkdownOptions{Artifact: o.ReportJSON})
		if err := writeFileWhole(o.ReportMD, []byte(md)); err != nil {
			errs = append(errs, fmt.Errorf("write Markdown report: %w", err))
		}
	}
	if o.SARIF != "" {
		findings := []lint.Finding{}
		for _, m := range rep.Migrations {
			if m.New {
				findings = append(findings, m.Findings...)
			}
		}
		if err := a.writeSARIF(ctx, o.SARIF, findings); err != nil {
			errs = append(errs, err)
		}
	}
	if stopped != nil {
		errs = append([]error{stopped}, errs...)
	}
	return rep, errors.Join(errs...)
}

// refuseServerAccess says whether the rehearsal refuses the migrations that reach the files or programs
// of its server's machine (rehearse.Options.RefuseServerAccess): in a CI job (the action, or
// GITHUB_ACTIONS or GITLAB_CI true), where the server runs the change's SQL as a superuser beside the
// job's files and the clone's credentials, unless rehearsal.allow_server_access says otherwise where the
// change cannot have said it itself: the base's file held over the change's (see enforceBasePolicy), or
// a file outside the repository (the job's own). A setting that does not count is noted. Outside CI (a
// developer's machine) nothing is refused.
func (a *App) refuseServerAccess(ctx context.Context, cfg *config.Config, o *CheckOptions, notes *[]string) bool {
	if !o.ci && a.Getenv("GITHUB_ACTIONS") != "true" && a.Getenv("GITLAB_CI") != "true" {
		return false
	}
	if !cfg.Rehearsal.AllowServerAccess {
		return true
	}
	if _, _, inRepo := configInRepo(ctx, o.configFile); o.policy.held || !inRepo {
		return false
	}
	*notes = append(*notes, fmt.Sprintf("rehearsal.allow_server_access in %s is ignored: no base commit's policy holds over the file, which may then be the change's own, "+
		"and a change cannot let its own migrations reach the files or programs of the rehearsal's machine (pass --base: the base's file decides)", o.configFile))
	return true
}

// checkLogger is the rehearsal's logger: with -q, errors only (what a warning says, such as a statement
// canceled for running too long, is in the report).
func (a *App) checkLogger(o *CheckOptions) *slog.Logger {
	if o.Quiet && !a.Logger.Enabled(context.Background(), slog.LevelDebug) {
		return slog.New(slog.NewTextHandler(a.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	return a.Logger
}

// writable tells whether a report can be written at path ("" is fine: no report): its folder exists and
// takes a new file, and path itself is not a folder.
func writable(path string) error {
	if path == "" {
		return nil
	}
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		return errors.New("is a folder")
	}
	dir := filepath.Dir(path)
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() {
		return fmt.Errorf("folder %s does not exist", dir)
	}
	f, err := os.CreateTemp(dir, ".schemagate-write-test-*")
	if err != nil {
		return fmt.Errorf("cannot write in %s: %w", dir, errors.Unwrap(err))
	}
	f.Close()
	return os.Remove(f.Name())
}

// checkExit maps a report to the exit code: 3 when a migration or round trip failed or the risk
// reached --fail-on (runCheck records that in the report).
func checkExit(rep *report.Report, failOnFrom string) error {
	if !rep.OK {
		return exitCode(ExitBlocked, nil)
	}
	if rep.FailOnReached {
		return exitCode(ExitBlocked, fmt.Errorf("risk %s reaches %s", rep.Risk, failOnLabel(failOnFrom, rep.FailOn)))
	}
	return nil
}

// readBase reads the migration folder dir (read as cur) at the git ref: its migrations, which are history.
// When the folder at ref does not read as migrations (a duplicate version two merges left, a down without
// its up), there is no history, every migration is new, and unread compares the files instead (see
// rehearse.UnreadBase): the change may be what fixes the base, but what it edits or deletes of it does
// not pass for new.
func readBase(ctx context.Context, dir, ref string, cur *migrate.Set, notes *[]string) (base *migrate.Set, unread *rehearse.UnreadBase, err error) {
	format := cur.Format
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, nil, err
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "git", "-C", abs, "rev-parse", "--show-toplevel")
	cmd.Stderr = &stderr
	top, err := cmd.Output()
	if err != nil {
		// git says why: no repository, or one it does not trust (dubious ownership).
		why, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
		if why == "" {
			why = err.Error()
		}
		return nil, nil, fmt.Errorf("--base %s: git cannot read the repository of %s: %s", ref, dir, strings.TrimPrefix(why, "fatal: "))
	}
	root := strings.TrimSpace(string(top))
	// git prints the physical path; the folder may have been reached through a symbolic link.
	if phys, err := filepath.EvalSymlinks(abs); err == nil {
		abs = phys
	}
	if phys, err := filepath.EvalSymlinks(root); err == nil {
		root = phys
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		return nil, nil, err
	}
	// A branch that is behind the base (the base moved on since the branch forked, and the work tree
	// is the branch, not a merge with it) lacks what the base added since: judged against the base's
	// tip, those migrations would look deleted. The branch is compared with the merge base instead, as
	// a pull request's diff is, and the report says so.
	from := ref
	if mb, behind := behindBase(ctx, root, ref); behind {
		from = mb
		if notes != nil {
			*notes = append(*notes, fmt.Sprintf("the work tree does not contain %s (it is behind it): its migrations are compared with the merge base %.12s; merge or rebase %s to rehearse them after what it added since", ref, mb, ref))
		}
	}
	fsys, err := gitfs.New(ctx, root, from, filepath.ToSlash(rel))
	if err != nil {
		return nil, nil, err
	}
	if entries, _ := fs.ReadDir(fsys, "."); len(entries) == 0 {
		was := movedFrom(ctx, root, from, abs, cur)
		if was == "" {
			if notes != nil && len(cur.Migrations) > 0 {
				*notes = append(*notes, fmt.Sprintf("%s is not at %s, and no folder there holds its migrations unchanged: every migration is rehearsed as new (if the change moves the folder and edits every file, compare them by hand)", dir, ref))
			}
			return &migrate.Set{Format: format, Options: cur.Options}, nil, nil // the folder is new in this change
		}
		// The change moves the folder: databases ran the migrations it held there.
		if fsys, err = gitfs.New(ctx, root, from, was); err != nil {
			return nil, nil, err
		}
		if notes != nil {
			*notes = append(*notes, fmt.Sprintf("%s is not at %s: its migrations were in %s there (the change moves the folder), and are compared with those", dir, ref, was))
		}
	}
	set, readErr := migrate.ReadWith(fsys, format, cur.Options)
	var me *migrate.Error
	if err = readErr; err != nil && errors.As(err, &me) {
		// The base's folder itself is broken (a down without its up, a duplicate version): the change
		// may be what fixes it, so it is rehearsed with every migration new, its files compared with the
		// base's, and the report says why.
		now, oerr := repofs.Open(dir)
		if oerr != nil {
			return nil, nil, oerr
		}
		defer now.Close()
		if unread, err = rehearse.CompareUnreadBase(cur, now, fsys, set, readErr); err != nil {
			return nil, nil, fmt.Errorf("compare the migration folder with %s: %w", ref, err)
		}
		if notes != nil {
			*notes = append(*notes, fmt.Sprintf("the migration folder at %s does not read (%s): there is no history to replay, every migration is rehearsed as new, and its files are compared with the base's by path and text (%s)",
				ref, strings.ReplaceAll(readErr.Error(), "\n", "; "), unreadSummary(unread)))
		}
		return &migrate.Set{Format: format, Options: cur.Options}, unread, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read migrations at %s: %w", ref, err)
	}
	return set, nil, nil
}

// movedFrom finds where the folder's migrations were at commit from when the folder (abs, in the
// repository at root) is not there: the folder of from's tree that holds the most of its migration
// files unchanged, at the same path within it. "" when none holds one.
func movedFrom(ctx context.Context, root, from, abs string, cur *migrate.Set) string {
	var files []string
	for _, m := range cur.Migrations {
		files = append(files, m.Files()...)
	}
	if len(files) == 0 {
		return ""
	}
	var paths strings.Builder
	for _, f := range files {
		paths.WriteString(filepath.Join(abs, filepath.FromSlash(f)) + "\n")
	}
	cmd := exec.CommandContext(ctx, "git", "-C", root, "hash-object", "--stdin-paths")
	cmd.Stdin = strings.NewReader(paths.String()) // a folder of thousands of files fits no command line
	out, err := cmd.Output()
	hashes := strings.Fields(string(out))
	if err != nil || len(hashes) != len(files) {
		return ""
	}
	want := map[string][]string{} // blob -> the files of that content, as paths within the folder
	for i, h := range hashes {
		want[h] = append(want[h], files[i])
	}
	tree, err := exec.CommandContext(ctx, "git", "-C", root, "ls-tree", "-r", "-z", "--full-tree", from).Output()
	if err != nil {
		return ""
	}
	votes := map[string]int{}
	for _, entry := range strings.Split(string(tree), "\x00") {
		meta, p, ok := strings.Cut(entry, "\t") // "<mode> blob <hash>\t<path>"
		fields := strings.Fields(meta)
		if !ok || len(fields) != 3 || fields[1] != "blob" {
			continue
		}
		for _, f := range want[fields[2]] {
			if dir, ok := strings.CutSuffix(p, "/"+f); ok {
				votes[dir]++
			} else if p == f {
				votes["."]++ // the repository's root
			}
		}
	}
	best, n := "", 0
	for dir, v := range votes {
		if v > n || v == n && dir < best {
			best, n = dir, v
		}
	}
	return best
}

// unreadSummary says what comparing the files of an unreadable base found, for its note.
func unreadSummary(u *rehearse.UnreadBase) string {
	edited, deleted, renamed := u.Changes()
	if edited+deleted+renamed == 0 {
		return "none of its migration files was edited or deleted"
	}
	return fmt.Sprintf("%d migration%s with edited files, %d deleted, %d renamed; see their findings", edited, report.Plural(edited), deleted, renamed)
}

// behindBase tells whether HEAD lacks the base commit ref, and then their merge base.
func behindBase(ctx context.Context, root, ref string) (string, bool) {
	if strings.HasPrefix(ref, "-") {
		return "", false // not a ref: gitfs refuses it
	}
	if exec.CommandContext(ctx, "git", "-C", root, "merge-base", "--is-ancestor", ref, "HEAD").Run() == nil {
		return "", false
	}
	out, err := exec.CommandContext(ctx, "git", "-C", root, "merge-base", ref, "HEAD").Output()
	if err != nil {
		return "", false // no common history, or ref unknown: gitfs says so
	}
	return strings.TrimSpace(string(out)), true
}

// prefixFiles is a hook for naming files from the working folder in read errors.
func prefixFiles(err error, dir string) error {
	return fmt.Errorf("read %s: %w", dir, err)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileWhole(path, append(b, '\n')); err != nil {
		return fmt.Errorf("write JSON report: %w", err)
	}
	return nil
}

// writeSARIF writes findings as a SARIF log at path, their files named from the repository root.
func (a *App) writeSARIF(ctx context.Context, path string, findings []lint.Finding) error {
	var b bytes.Buffer
	if err := report.WriteSARIF(&b, repoRelativeFiles(ctx, findings), a.Version); err != nil {
		return fmt.Errorf("render SARIF: %w", err)
	}
	if err := writeFileWhole(path, b.Bytes()); err != nil {
		return fmt.Errorf("write SARIF: %w", err)
	}
	return nil
}

// writeFileWhole writes a report whole or not at all: into a new file beside path, renamed over it once
// complete. A full disk leaves no truncated JSON (or empty Markdown) for a later step to publish.
//
// A path that is not a regular file (/dev/null, /dev/stdout, a named pipe) is written in place: renaming
// over it would replace the device with a file (as root, /dev/null for the whole machine).
func writeFileWhole(path string, data []byte) error {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		_, err = f.Write(data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// failOnLabel names the fail-on limit as it was set: "--fail-on caution", or "fail_on caution
// (schemagate.yml)" when from names the file (see CheckOptions.failOnFrom).
func failOnLabel(from, limit string) string {
	if name, file, ok := strings.Cut(from, " "); ok {
		return name + " " + limit + " " + file
	}
	return firstNonEmpty(from, "--fail-on") + " " + limit
}

// writeCheckText writes the report as text; what it quotes of the pull request is cleaned (see clean).
// failOnFrom says where the fail-on limit comes from (see failOnLabel).
func writeCheckText(w io.Writer, rep *report.Report, failOnFrom string) {
	switch {
	case !rep.OK:
		fmt.Fprintf(w, "\nschemagate check: FAILED — risk %s\n", rep.Risk)
	case rep.FailOnReached:
		fmt.Fprintf(w, "\nschemagate check: FAILED — risk %s reaches %s\n", rep.Risk, clean(failOnLabel(failOnFrom, rep.FailOn)))
	default:
		fmt.Fprintf(w, "\nschemagate check: ok — risk %s\n", rep.Risk)
	}
	for _, m := range rep.Migrations {
		if !m.New && m.Status != report.StatusFailed {
			continue
		}
		rt := "-"
		if m.Roundtrip != nil {
			rt = m.Roundtrip.Status
		}
		if m.New {
			fmt.Fprintf(w, "  %-8s %-10s %s  (%d ms, round trip %s)\n", m.Status, m.Risk, clean(m.Label()), m.DurationMS, rt)
		} else {
			fmt.Fprintf(w, "  %-8s %-10s %s  (history)\n", m.Status, "", clean(m.Label()))
		}
		if m.Error != nil {
			fmt.Fprintf(w, "    %s:%d:%d: error: %s", clean(m.Error.File), m.Error.Line, m.Error.Column, clean(m.Error.Message))
			if m.Error.SQLState != "" {
				fmt.Fprintf(w, " (SQLSTATE %s)", clean(m.Error.SQLState))
			}
			fmt.Fprintln(w)
			if m.Error.Detail != "" {
				fmt.Fprintf(w, "      detail: %s\n", clean(m.Error.Detail))
			}
			if m.Error.Hint != "" {
				fmt.Fprintf(w, "      hint: %s\n", clean(m.Error.Hint))
			}
		}
		if m.Roundtrip != nil {
			for i, p := range m.Roundtrip.Problems {
				fmt.Fprintf(w, "    round trip: %s\n", clean(p))
				// A failed statement, the last problem, is placed where its error is, printed below.
				if at := m.Roundtrip.PlaceOf(i); at != nil && !m.Roundtrip.IsFailure(i) {
					fmt.Fprintf(w, "      at %s\n", clean(report.Place(at.File, at.Line, at.Column)))
				}
			}
			if e := m.Roundtrip.Error; e != nil && e.File != "" {
				fmt.Fprintf(w, "      at %s", clean(report.Place(e.File, e.Line, e.Column)))
				if e.SQLState != "" {
					fmt.Fprintf(w, " (SQLSTATE %s)", clean(e.SQLState))
				}
				fmt.Fprintln(w)
				if e.Detail != "" {
					fmt.Fprintf(w, "      detail: %s\n", clean(e.Detail))
				}
				if e.Hint != "" {
					fmt.Fprintf(w, "      hint: %s\n", clean(e.Hint))
				}
			}
		}
		for _, f := range cleanFindings(m.Findings) {
			if f.Ignored {
				continue
			}
			fmt.Fprintf(w, "    %s\n", f.String())
			if f.Suggestion != "" {
				fmt.Fprintf(w, "      suggestion: %s\n", f.Suggestion)
			}
		}
		if m.GeneratedDown != nil {
			state := "verified"
			if !m.GeneratedDown.Verified {
				state = "NOT verified"
			}
			fmt.Fprintf(w, "    generated down (%s):\n", state)
			// Why it is not verified (or has nothing to do), the data it cannot bring back, then its
			// warnings, as comments of the script, as rollback-script writes them.
			if n := m.GeneratedDown.Note; n != "" {
				fmt.Fprintf(w, "      -- %s\n", clean(n))
			}
			for _, p := range m.GeneratedDown.Problems {
				fmt.Fprintf(w, "      -- %s\n", clean(p))
			}
			for _, l := range dataLossLines(m.GeneratedDown) {
				fmt.Fprintf(w, "      -- %s\n", clean(l))
			}
			for _, x := range m.GeneratedDown.Warnings {
				fmt.Fprintf(w, "      -- warning: %s\n", clean(x))
			}
			if sql := strings.TrimSpace(m.GeneratedDown.SQL); sql != "" {
				for _, l := range strings.Split(sql, "\n") {
					fmt.Fprintf(w, "      %s\n", clean(l))
				}
			}
		}
	}
	if a := rep.Approval; a != nil && a.Required {
		fmt.Fprintf(w, "  DBA approval required (risk %s for the approval)\n", rep.RiskForApproval())
		for _, ig := range a.Ignored {
			fmt.Fprintf(w, "    counted: %s\n", clean(ig))
		}
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "  note: %s\n", clean(n))
	}
	if rep.Redacted {
		fmt.Fprintf(w, "  note: %s\n", report.RedactedNote)
	}
}

// readSetup reads database.setup (or --setup, when from names that flag): each file parsed into
// statements; a missing, non-UTF-8 or unparseable file is a usage error with its place, and with the
// flag or the file's line that named it.
func readSetup(cfg *config.Config, from string) ([]*migrate.Script, error) {
	var out []*migrate.Script
	for i, name := range cfg.Database.Setup {
		from := from
		if from == "" {
			from = "database.setup"
			if where := cfg.Where(fmt.Sprintf("database.setup[%d]", i)); where != "" {
				from = where + ": database.setup"
			}
		}
		b, err := repofs.ReadFile(name)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) { // not "openat /x.sql: ...": say which file and why
				err = fmt.Errorf("%s: %w", name, pe.Err)
			}
			return nil, usageErr(fmt.Errorf("%s: %w", from, err))
		}
		if !utf8.Valid(b) {
			return nil, usageErr(fmt.Errorf("%s: %s is not valid UTF-8", from, name))
		}
		src := strings.TrimPrefix(string(b), "\uFEFF")
		s := &migrate.Script{File: filepath.ToSlash(name), SQL: src, Statements: sqlparse.Parse(src)}
		for _, st := range s.Statements {
			if st.Err != nil {
				return nil, usageErr(fmt.Errorf("%s: %s:%d:%d: %s", from, s.File, st.Err.Pos.Line, st.Err.Pos.Column, st.Err.Message))
			}
		}
		if len(s.Statements) == 0 {
			return nil, usageErr(fmt.Errorf("%s: %s holds no SQL statement", from, name))
		}
		out = append(out, s)
	}
	return out, nil
}

// deployTimeouts are the timeouts schemagate deploy sets in each configured environment, for the
// missing-timeout rules; nil without environments or with lint.deploy_timeouts: false.
func deployTimeouts(cfg *config.Config) lint.DeployTimeouts {
	if cfg.Lint.DeployTimeouts != nil && !*cfg.Lint.DeployTimeouts {
		return nil
	}
	var d lint.DeployTimeouts
	for _, name := range slices.Sorted(maps.Keys(cfg.Environments)) {
		env := cfg.Environments[name]
		d = append(d, lint.DeployEnvironment{Name: name, LockTimeout: env.DeployLockTimeout(), StatementTimeout: env.DeployStatementTimeout()})
	}
	return d
}

// defaultDir is the migration folder when neither --dir nor dir in schemagate.yml names one.
const defaultDir = "migrations"

// folderFlags puts --dir and --format over the configuration; the folder defaults to ./migrations.
func folderFlags(cfg *config.Config, dir, format string) {
	if dir != "" {
		cfg.Dir = dir
	}
	if cfg.Dir == "" {
		cfg.Dir = defaultDir
	}
	if format != "" {
		cfg.Format = strings.ToLower(strings.TrimSpace(format)) // Golang-Migrate: as the file's is read
	}
}

// bigSQL is how much SQL takes long enough to parse or lint that a progress line says so first.
const bigSQL = rehearse.BigSQL

// folderSize is the size of the regular files in dir and its folders; what cannot be read counts 0
// (readFolder says why).
func folderSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// mebibytes writes a size as "21 MiB".
func mebibytes(n int64) string { return fmt.Sprintf("%d MiB", (n+1<<19)>>20) }

// readFolder reads the configured migration folder, the same folder at base (when given) and the lint
// configuration, with usage errors naming the file and line of every problem.
func readFolder(ctx context.Context, cfg *config.Config, baseRef, hint string, notes *[]string) (set, base *migrate.Set, unread *rehearse.UnreadBase, lcfg lint.Config, err error) {
	format, err := migrate.ParseFormat(cfg.Format)
	if err != nil {
		return nil, nil, nil, lcfg, usageErr(err)
	}
	if info, err := os.Stat(cfg.Dir); err != nil {
		return nil, nil, nil, lcfg, usageErr(fmt.Errorf("migration folder %s not found (%s)", cfg.Dir, hint))
	} else if !info.IsDir() {
		return nil, nil, nil, lcfg, usageErr(fmt.Errorf("%s is a file, not a migration folder (%s)", cfg.Dir, hint))
	}
	set, err = migrate.ReadDirWith(cfg.Dir, format, cfg.ReadOptions())
	if err != nil {
		return nil, nil, nil, lcfg, usageErr(prefixFiles(err, cfg.Dir))
	}
	// Files the folder's tool would not read (or would read otherwise than one expects) are said, in
	// the output and the report.
	for _, w := range set.Warnings {
		*notes = append(*notes, fmt.Sprintf("read %s: %s", cfg.Dir, w))
	}
	if baseRef != "" {
		if base, unread, err = readBase(ctx, cfg.Dir, baseRef, set, notes); err != nil {
			return nil, nil, nil, lcfg, usageErr(err)
		}
	}
	lcfg = lint.Config{PGVersion: cfg.Database.PGVersion, Rules: cfg.Lint.Rules, Deploy: deployTimeouts(cfg)}
	if err := lcfg.Validate(); err != nil {
		return nil, nil, nil, lcfg, usageErr(err)
	}
	return set, base, unread, lcfg, nil
}
