package cli

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/schemagate/schemagate/internal/deploy"
	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/rehearse"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/sandbox"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

type rollbackOptions struct {
	CheckOptions
	Version string
	Output  string
	Force   bool
}

func (a *App) newRollbackScriptCmd() *cobra.Command {
	o := &rollbackOptions{}
	cmd := &cobra.Command{
		Use:   "rollback-script --dir DIR --version V  (or: rollback-script --dir DIR V)",
		Short: "Write a verified rollback (down) script for a migration",
		Long: `rollback-script applies the migrations before V on a throwaway PostgreSQL, applies V, and writes
the DDL that takes the catalog back to where it was: schemas, tables, columns, constraints, indexes,
sequences, views, functions, triggers, enum values, domains, extensions and comments, in dependency
order. The script is proven before it is written (generated down, compare the catalog with the one
before V, then V again). What it cannot restore is marked DATA LOSS: steps that re-create a table or
column empty, and each statement of V that destroyed data (file:line: TRUNCATE of t, DELETE from t,
UPDATE of t.col, ALTER COLUMN t.col TYPE … USING an expression that gave it other values, a dropped
table or column, a DO block or function call that may destroy data, as the deploy judges an up); verified then means the schema, not the data, and such a rollback should use the
deploy snapshot instead. For goose and sql-migrate the script goes under the migration's Down
annotation: a statement the tool would cut at a line ending in ';' (a function body) is written inside
StatementBegin/StatementEnd, and the script is verified as the tool reads it. A sqitch revert is one
BEGIN … COMMIT, as sqitch's templates write (psql runs it in autocommit, so a failing step would leave
the steps before it done), unless its deploy script runs outside a transaction (CREATE INDEX
CONCURRENTLY); it is verified as psql runs it.

-o does not write over a file of the migration folder, at any depth (an up, another migration's down,
a sqitch plan or sqitch.conf, a Flyway callback or .conf, dbmate's schema.sql, a README), nor create one
there that the folder's tool would read as another migration's script (3_c.down.sql, V9__x.sql) or that
reading the folder would report (a new Flyway callback): that is bad input. The one it writes is the
migration's own down file (golang-migrate's .down.sql, a Flyway undo script, a sqitch revert script),
new or holding no statement but BEGIN and COMMIT; one that holds a down is kept (--force writes a down
that did not verify, it does not overwrite one). goose,
dbmate and sql-migrate keep the down in the up's file: print the script and paste it under the file's
Down annotation. The file is written whole or not at all (to a new file beside it, renamed over it once
complete): a full disk or a killed process leaves the previous file as it was.

Run the script as the role that runs the migrations: it restores owners and privileges by revoking
and granting only what V changed, and names the role the throwaway database ran the migrations as
(postgres) CURRENT_USER, as owner (ALTER TABLE t OWNER TO CURRENT_USER), grantee and role of default
privileges; its first line then says so.

Exit codes: 0 written and verified, 3 generated but not verified (written only with --force),
2 usage or bad input, 1 the tool failed.`,
		Example: `  schemagate rollback-script --dir db/migrations --version 20240101120000
  schemagate rollback-script --dir db/migrations --version 42 -o 42_add_index.down.sql
  schemagate rollback-script --dir db/migrations 42`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if o.Version != "" && o.Version != args[0] {
					return usageErr(fmt.Errorf("two versions given: --version %s and %s", o.Version, args[0]))
				}
				o.Version = args[0]
			}
			if o.Version == "" {
				return usageErr(fmt.Errorf("which migration? give its version: --version V (or as the argument)"))
			}
			// A file that cannot be written is found now, not after the whole rehearsal (as check does).
			if o.Output != "-" {
				if err := writable(o.Output); err != nil {
					return usageErr(fmt.Errorf("--output %s: %w", o.Output, err))
				}
			}
			cfg, err := a.resolveCheck(cmd.Context(), &o.CheckOptions)
			if err != nil {
				return err
			}
			format, err := migrate.ParseFormat(cfg.Format)
			if err != nil {
				return usageErr(err)
			}
			set, err := migrate.ReadDirWith(cfg.Dir, format, cfg.ReadOptions())
			if err != nil {
				return usageErr(fmt.Errorf("read %s: %w", cfg.Dir, err))
			}
			target := set.Lookup(o.Version)
			if target == nil {
				return usageErr(fmt.Errorf("no migration %q in %s (give its version, as in 0042 or 42, its file name, or R__name for a Flyway repeatable)", o.Version, cfg.Dir))
			}
			if target.External == migrate.ExternalGo {
				return usageErr(fmt.Errorf("migration %s is a goose Go migration: schemagate cannot run its code, so it cannot write its rollback", target.ID()))
			}
			if err := rollbackOutputClash(cfg.Dir, set, target, o.Output); err != nil {
				return usageErr(fmt.Errorf("--output %s: %w", clean(o.Output), err))
			}
			prov, err := a.newProvider(cfg.Database.Provider, sandbox.Options{PGVersion: cfg.Database.PGVersion, PGVersionFrom: o.versionFrom, Image: cfg.Database.Image, DatabaseURL: cfg.Database.URL, BinDir: o.PGBinDir, Logger: a.Logger})
			if err != nil {
				return err
			}
			setup, err := readSetup(cfg, o.setupFrom())
			if err != nil {
				return err
			}
			gd, err := rehearse.RollbackScript(cmd.Context(), rehearse.Options{Set: set, Dir: cfg.Dir, Provider: prov, Lint: lint.Config{PGVersion: cfg.Database.PGVersion}, VersionFrom: o.versionFrom, ImageFrom: o.imageFrom, Setup: setup, Progress: a.progress(o.Quiet)}, target.Key())
			if err != nil {
				return rehearsalErr(err)
			}
			// golang-migrate with x-multi-statement cuts the file at every ';', also in a comment: the
			// comments keep none (and say "semicolon"), and a ';' the SQL hides (a function body) makes
			// the script unverified.
			multi := set.Format == migrate.FormatGolangMigrate && cfg.ReadOptions().MultiStatement
			markDestroyed(cfg.Dir, set, target, gd)
			marks := headerMarks{multi: multi, goose: set.Format == migrate.FormatGoose}
			header := rollbackHeader(target.ID(), gd, marks)
			if multi {
				if hidden := sqlparse.HiddenSemicolons(gd.SQL); len(hidden) > 0 {
					pos := sqlparse.NewLines(gd.SQL).Pos(hidden[0])
					cut := func(line int) string {
						return fmt.Sprintf("golang-migrate with x-multi-statement (golang_migrate.multi_statement) cuts this file at every semicolon, and the one at line %d, column %d is inside a function body, a string, a comment or parentheses "+
							"(%d such in the file): it would send the text before and after it as statements of their own; run this rollback without x-multi-statement, or write it by hand", line, pos.Column, len(hidden))
					}
					gd.Verified = false
					gd.Problems = append(gd.Problems, cut(0))
					// The problem is one line of the header: the SQL starts after it.
					gd.Problems[len(gd.Problems)-1] = cut(strings.Count(rollbackHeader(target.ID(), gd, marks), "\n") + pos.Line)
					header = rollbackHeader(target.ID(), gd, marks)
				}
			}
			var b strings.Builder
			b.WriteString(header)
			b.WriteString(gd.SQL)
			if !strings.HasSuffix(gd.SQL, "\n") {
				b.WriteString("\n")
			}
			if !gd.Verified && !o.Force {
				// Shown to be read, not run (it is not written): the SQL quotes the migration's names
				// and bodies, which may hold a terminal escape or a line a runner reads as a command.
				fmt.Fprint(a.Stderr, cleanLines(b.String()))
				return exitCode(ExitBlocked, fmt.Errorf("the generated rollback of %s did not verify; not written (use --force to write it anyway)", o.Version))
			}
			if o.Output == "" || o.Output == "-" {
				fmt.Fprint(a.Stdout, b.String())
			} else if err := writeFileWhole(resolved(o.Output), []byte(b.String())); err != nil {
				// Whole or not at all, as the reports: written in place, a full disk or a killed process
				// left the script cut short where a good one may have been. A symbolic link is written
				// through, as in place (its target renamed over), not replaced.
				return fmt.Errorf("write %s: %w", o.Output, err)
			} else {
				fmt.Fprintf(a.Stderr, "wrote %s\n", clean(o.Output))
			}
			if !gd.Verified {
				return exitCode(ExitBlocked, nil)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Dir, "dir", "", "migration folder")
	f.StringVar(&o.Format, "format", "", "migration format (default auto)")
	f.StringVar(&o.ConfigFile, "config", "", "configuration file (default ./schemagate.yml when present)")
	f.StringVar(&o.Version, "version", "", "version of the migration to roll back")
	f.StringVarP(&o.Output, "output", "o", "", "write the script to this file (default stdout)")
	f.BoolVar(&o.Force, "force", false, "write the script even when it did not verify")
	f.StringVar(&o.Provider, "provider", "", "throwaway database: auto, local, docker or url")
	f.Var(majorVersion{&o.PGVersion}, "pg-version", "PostgreSQL major version")
	f.StringVar(&o.Image, "image", "", "container image for --provider docker")
	f.StringVar(&o.DatabaseURL, "database-url", "", "existing server for --provider url")
	f.StringVar(&o.PGBinDir, "pg-bindir", "", "folder of initdb/postgres for --provider local")
	f.StringArrayVar(&o.Setup, "setup", nil, "SQL file run on the throwaway database before the migrations, e.g. the roles they GRANT to (repeatable; replaces database.setup)")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "no progress output")
	return cmd
}

// rollbackHeader is the comments rollback-script writes above the generated down of migration id: whether
// it verified (or its problems), the data it cannot bring back (dataLossLines), its warnings. One line each (clean): a name or message with a line break must
// not end the comment. With multi (golang-migrate with x-multi-statement, which cuts the file at every
// ';', in a comment too) they hold no ';'. For goose, which takes every -- line holding +goose for an
// annotation and refuses the file when it does not know it, they hold +goose as +GOOSE (a migration
// named 00002_+goose_x), which goose reads as a comment.
func rollbackHeader(id string, gd *report.GeneratedDown, marks headerMarks) string {
	line := func(s string) string {
		s = clean(s)
		if marks.multi {
			s = strings.ReplaceAll(s, ";", ",")
		}
		if marks.goose {
			s = strings.ReplaceAll(s, "+goose", "+GOOSE")
		}
		return s
	}
	var b strings.Builder
	fmt.Fprintf(&b, "-- Rollback of migration %s, generated by schemagate", line(id))
	switch {
	case gd.Verified && gd.DataLoss:
		// Verified is the schema's: the data is what the DATA LOSS lines say it is not.
		b.WriteString(" and verified on a throwaway database: it takes the schema back, not the data.\n")
	case gd.Verified:
		b.WriteString(" and verified on a throwaway database.\n")
	default:
		b.WriteString(".\n-- NOT VERIFIED:\n")
		for _, p := range gd.Problems {
			fmt.Fprintf(&b, "--   %s\n", line(p))
		}
	}
	if gd.Verified && gd.Note != "" {
		fmt.Fprintf(&b, "-- %s\n", line(gd.Note))
	}
	for _, l := range dataLossLines(gd) {
		fmt.Fprintf(&b, "-- %s\n", line(l))
	}
	for _, w := range gd.Warnings {
		fmt.Fprintf(&b, "-- warning: %s\n", line(w))
	}
	return b.String()
}

// headerMarks are what the migration tool reads in the comments of the rollback script's header: multi
// is golang-migrate with x-multi-statement, which cuts the file at every ';'; goose takes a line holding
// +goose for an annotation.
type headerMarks struct {
	multi, goose bool
}

// dataLossLines are the lines that head a generated down gd that cannot bring data back, as
// rollback-script writes them above the script and check prints them with it: the statements of the up
// that destroyed data (gd.Destroyed), each on a line of its own, or that some steps cannot.
func dataLossLines(gd *report.GeneratedDown) []string {
	switch {
	case len(gd.Destroyed) > 0:
		out := []string{"DATA LOSS: the up destroyed data this down cannot bring back (each statement below); roll back from the deploy snapshot instead."}
		for _, l := range gd.Destroyed {
			out = append(out, "DATA LOSS: "+l)
		}
		return out
	case gd.DataLoss:
		return []string{"DATA LOSS: some steps cannot bring data back (objects re-created empty, values the up converted); roll back from the deploy snapshot instead."}
	}
	return nil
}

// markDestroyed gives gd, the generated down of migration m of set (in folder dir), what m's up
// destroyed that no catalog difference shows (rows it deleted, values it overwrote), which a down
// generated from the catalogs cannot write back: the deploy's judgement, statement by statement
// (deploy.UpDestroys), marks the script as a re-created empty table marks it. rollback-script and check
// --generate-down both mark their downs here, so that both say the same; the rehearsal that generates
// them cannot (it imports no deploy).
func markDestroyed(dir string, set *migrate.Set, m *migrate.Migration, gd *report.GeneratedDown) {
	gd.Destroyed = destroyedLines(dir, deploy.UpDestroys(m, migrationsBefore(set, m), set.SearchPath))
	if len(gd.Destroyed) > 0 {
		gd.DataLoss = true
	}
}

// destroyedLines are the statements of an up that destroyed data (deploy.UpDestroys), each as
// "file:line: what it did", the file named from where the command runs (dir and the file in it), as a
// failing statement's is.
func destroyedLines(dir string, ds []deploy.Destroyed) []string {
	var out []string
	for _, d := range ds {
		file := d.File
		if dir != "" && !path.IsAbs(file) && !filepath.IsAbs(file) {
			file = path.Join(filepath.ToSlash(dir), file)
		}
		out = append(out, fmt.Sprintf("%s:%d: %s", file, d.Line, d.What))
	}
	return out
}

// migrationsBefore are the migrations of set that run before target, as rollback-script applies them.
func migrationsBefore(set *migrate.Set, target *migrate.Migration) []*migrate.Migration {
	for i, m := range set.Migrations {
		if m == target {
			return set.Migrations[:i]
		}
	}
	return set.Migrations
}

// reportedMigration is the migration of set that rm, a migration of check's report, reports: the one of
// its version whose up is rm's file (a deleted base migration of the same version is no migration of
// the folder); nil when none is.
func reportedMigration(set *migrate.Set, rm *report.Migration) *migrate.Migration {
	for _, m := range set.Migrations {
		if m.Version == rm.Version && m.Up != nil && m.Up.File == rm.File {
			return m
		}
	}
	return nil
}
