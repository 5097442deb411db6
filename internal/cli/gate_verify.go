package cli

import (
	"cmp"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing/fstest"

	"github.com/schemagate/schemagate/internal/ci"
	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/gate"
	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/repofs"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// maxRelint bounds how many migration files the gate reads back from the pull request to lint; the
// files beyond it count as unverified (fail closed) rather than costing a request each.
const maxRelint = 100

// RuleUnverified is the finding the gate adds for a migration file the report does not vouch for.
const RuleUnverified = "unverified-migration"

// gitBlobSHA is git's name for a file's content ("blob <len>\x00" + content, SHA-1), which GitHub's
// files API gives for each changed file.
func gitBlobSHA(data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// changeWords names a change request and a CI run the way their forge does, in the gate's messages.
type changeWords struct {
	change string // pull request, merge request
	sigil  string // # or !
	run    string // run, pipeline
	// newRun says who decides when the change request moved on to another head.
	newRun string
}

var (
	githubWords = changeWords{change: "pull request", sigil: "#", run: "run", newRun: "the run for the new head decides"}
	gitlabWords = changeWords{change: "merge request", sigil: "!", run: "pipeline", newRun: "the pipeline of the new head decides"}
)

// of names change request n: "pull request #2", "merge request !7".
func (w changeWords) of(n int) string { return fmt.Sprintf("%s %s%d", w.change, w.sigil, n) }

// gateRun is what the gate knows of the run it judges a --report in.
type gateRun struct {
	// head is the change request's head the run was about ("" when unknown): GitHub's workflow_run
	// head_sha or the event's pull request head, GitLab's CI_MERGE_REQUEST_SOURCE_BRANCH_SHA or
	// CI_COMMIT_SHA.
	head string
	// closedIsStale is set when the run may come after the change request closed or merged: GitHub's
	// workflow_run, and every GitLab pipeline (its jobs may be re-run after the merge).
	closedIsStale bool
	words         changeWords
}

// verifyGateReport ties the --report of a gate to the change request (reportHead) and checks it there
// (verifyReport), at head, which it returns. stale, when not empty, is why nothing is decided (a
// notice, exit 0).
func (a *App) verifyGateReport(ctx context.Context, cfg *config.Config, f *forge.RunCache, ref forge.Ref, run gateRun, rep *report.Report) (notes []string, head, stale string, err error) {
	cr, err := f.ChangeRequest(ctx, ref)
	if err != nil {
		if errors.Is(err, forge.ErrNotFound) {
			return nil, "", "", usageErr(err)
		}
		return nil, "", "", err
	}
	head, stale, err = reportHead(rep, run, cr)
	if err != nil {
		return nil, "", "", usageErr(err)
	}
	if stale != "" {
		return nil, "", stale, nil
	}
	if rep.Head == "" && run.head == "" {
		notes = append(notes, fmt.Sprintf("the report records no head commit: it is checked against the %s at its head %s", run.words.change, short12(head)))
	}
	more, err := verifyReport(ctx, f, f, cfg, ref, head, run.words, rep)
	return append(notes, more...), head, "", err
}

// movedWhileJudged says, when not empty, that the change request's head cr is no longer judged, the
// head the gate checked the report or the working tree against ("" when unknown): a push came while
// the gate read the change (the report's files are read back one request each), and a decision made
// from the old head's files must not land on the new head. The run of the new head decides.
func movedWhileJudged(w changeWords, judged string, cr *forge.ChangeRequest) string {
	if judged == "" || strings.EqualFold(cr.HeadSHA, judged) {
		return ""
	}
	return fmt.Sprintf("%s has moved on to %s while the gate judged %s: nothing decided (%s)", w.of(cr.Number), short12(cr.HeadSHA), short12(judged), w.newRun)
}

// staleNotice says why a command posted nothing for a pull request that moved on or closed: a notice,
// not a failure, since a newer run posts.
func (a *App) staleNotice(cmd, msg string) {
	msg = fmt.Sprintf("schemagate %s: %s", cmd, msg)
	if env, ok := ci.DetectGitHub(a.Getenv); ok {
		ci.NewActions(env, a.commandOut()).Notice(msg)
		return
	}
	// The message quotes the change request and its report: escaped as a notice's text is.
	fmt.Fprintf(a.Stderr, "%s\n", cleanMessage(msg))
}

// noPullRequestWithHead says that no open pull request has head sha any more.
func noPullRequestWithHead(repo, sha string) string {
	return fmt.Sprintf("no open pull request of %s has head %s any more (it was pushed over or closed; a run for its new head posts)", repo, short12(sha))
}

// fileBlob is the git blob SHA of a file of the migration folder, "" when it cannot be read.
func fileBlob(name string) string {
	if name == "" {
		return ""
	}
	data, err := repofs.ReadFile(filepath.FromSlash(name))
	if err != nil {
		return ""
	}
	return gitBlobSHA(data)
}

// reportHead settles the commit an untrusted report is judged at: the change request's head, which must
// be the run's (run.head, when known) and the report's (rep.Head, when it records one). stale, when not
// empty, says why nothing may be decided: the change request moved on to another head (the run of the
// new head decides) or, with run.closedIsStale, is no longer open. A report made for another head than
// the run's is an error: a stale or forged artifact.
func reportHead(rep *report.Report, run gateRun, cr *forge.ChangeRequest) (head, stale string, err error) {
	w := run.words
	if rep.Head != "" && !isCommitID(rep.Head) {
		return "", "", fmt.Errorf("the report's head %s is not a commit: refusing a forged report", short12(rep.Head))
	}
	if rep.Head != "" && run.head != "" && !strings.EqualFold(rep.Head, run.head) {
		return "", "", fmt.Errorf("the report was made for commit %s, but the %s was for %s: refusing a stale or forged report", short12(rep.Head), w.run, short12(run.head))
	}
	if run.closedIsStale && cr.State != "" && cr.State != "open" {
		return "", fmt.Sprintf("%s is %s: nothing decided", w.of(cr.Number), cr.State), nil
	}
	want := cmp.Or(run.head, rep.Head)
	if want != "" && !strings.EqualFold(cr.HeadSHA, want) {
		return "", fmt.Sprintf("%s has moved on to %s; the report is for %s: nothing decided (%s)",
			w.of(cr.Number), short12(cr.HeadSHA), short12(want), w.newRun), nil
	}
	return cr.HeadSHA, "", nil
}

// short12 names a commit in a message by its first 12 hex digits. What is not hex (a forged report's
// head, a --sha) is shown quoted, its control characters and bidi controls escaped and cut at 40
// characters: it must not reach the log raw (ESC [2J clears a terminal). "" stays "".
func short12(sha string) string {
	if len(sha) > 64 || !hexDigits(sha) {
		if r := []rune(sha); len(r) > 40 {
			sha = string(r[:40]) + "…"
		}
		return strconv.Quote(sha)
	}
	return sha[:min(12, len(sha))]
}

// isCommitID tells whether s is a commit id, whole or abbreviated: 7 to 40 hex digits (SHA-1), or 64
// (a SHA-256 repository's); "" is not one.
func isCommitID(s string) bool {
	return (len(s) >= 7 && len(s) <= 40 || len(s) == 64) && hexDigits(s)
}

// hexDigits tells whether s holds hex digits only ("" does).
func hexDigits(s string) bool {
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// verifyReport checks a report the gate was given (--report: in a workflow_run workflow, a fork's
// artifact, which its author could have written by hand; on GitLab, the check job's artifact) against
// the change request itself, at head:
//
//   - every file the change request adds or modifies in the migration folder (the one the target
//     branch's schemagate.yml or --dir names, which the report's must be) that is SQL must be a file of a migration the report lists as
//     new, with the same content (git blob SHA, when the report records it: against the one the forge
//     lists, else, on GitLab, whose diffs carry none, against the file read at head); any other is added
//     to the report as a new migration of dangerous risk (finding unverified-migration), so the approval
//     is required and bound to its content;
//   - a migration file of the folder that the change request deletes, or renames (out of the folder or
//     within it), counts as a deleted applied migration of dangerous risk, whatever the report says: the
//     report's entry for it is raised, or one is added at its old path, whose owners must approve;
//   - the up scripts of the listed migrations are read at head and linted again (static rules, in the
//     report's order): a finding riskier than what the report says of the migration is added to it.
//
// At most maxRelint files are read; the others count as unverified. It returns notes for the decision.
// The report's dynamic evidence (what the rehearsal saw) cannot be checked here: it can only make the
// risk higher than the static rules say.
func verifyReport(ctx context.Context, fl forge.FileLister, f forge.Forge, cfg *config.Config, ref forge.Ref, head string, w changeWords, rep *report.Report) ([]string, error) {
	files, err := fl.Files(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("verify the report against the %s: %w", w.change, err)
	}
	// rep.Dir is the gate's own folder by now (gateReport refuses a report for another).
	folders := []string{cleanFolder(rep.Dir)}
	inFolder := func(p string) bool {
		for _, d := range folders {
			if d == "" || strings.HasPrefix(p, d+"/") {
				return true
			}
		}
		return false
	}
	// Where each file of a listed new migration is, from the repository root, and what it held.
	type listed struct {
		m    int
		up   bool
		blob string
	}
	byPath := map[string]listed{}
	for i, m := range rep.Migrations {
		if !m.New {
			continue
		}
		one := &report.Report{Dir: rep.Dir, DirGiven: rep.DirGiven, Migrations: []report.Migration{{New: true, File: m.File}}}
		for _, p := range gate.MigrationFiles(one, nil) {
			byPath[p] = listed{m: i, up: true, blob: m.FileBlob}
		}
		if m.DownFile != "" {
			one.Migrations[0].File = m.DownFile
			for _, p := range gate.MigrationFiles(one, nil) {
				byPath[p] = listed{m: i, blob: m.DownFileBlob}
			}
		}
	}
	format, _ := migrate.ParseFormat(cmp.Or(cfg.Format, rep.Format))
	lcfg := lint.Config{PGVersion: cfg.Database.PGVersion, Rules: cfg.Lint.Rules, Deploy: deployTimeouts(cfg), Format: format}
	if lcfg.Validate() != nil {
		lcfg.Rules = nil
	}
	const (
		unlisted  = "the report does not list it as a new migration"
		otherText = "the report was made for other content of it"
	)
	var notes []string
	var added []lint.Finding
	unverified := func(p, blob, why string) {
		rep.Migrations = append(rep.Migrations, report.Migration{
			Version: "?", Name: path.Base(p), File: p, Checksum: "blob:" + blob, New: true, Status: report.StatusNotRun,
			Findings: []lint.Finding{{Rule: RuleUnverified, Risk: lint.Dangerous, File: p, Line: 1, Column: 1, Source: "gate",
				Message: "the " + w.change + " changes this migration file, but " + why + ": the gate does not trust the report for it and asks for the approval a dangerous migration needs"}},
		})
		added = append(added, rep.Migrations[len(rep.Migrations)-1].Findings...)
		notes = append(notes, fmt.Sprintf("%s: %s; counted as dangerous", p, why))
	}
	// gone handles a migration file of the folder that the change request deletes, or renames (now is its
	// new path): databases applied it under that name, and a report can leave it out (and list nothing
	// new), so its deletion counts as dangerous whatever the report says (deleted-applied-migration), and
	// the approval is asked of the owners of the path it had. A report that lists it (the check's entry for
	// a deleted migration) has its risk raised there; else it is added as a new migration.
	gone := func(p, now string) {
		what, said := "deletes this migration file", "deletes it"
		if now != "" {
			what, said = "renames this migration file to "+now, "renames it to "+now
		}
		f := lint.Finding{Rule: "deleted-applied-migration", Risk: lint.Dangerous, File: p, Line: 1, Column: 1, Source: "gate",
			Message: "the " + w.change + " " + what + ", which databases may have applied under its name: the gate asks for the approval a dangerous migration needs, whatever the report says"}
		if l, ok := byPath[p]; ok {
			m := &rep.Migrations[l.m]
			claimed := m.Risk
			for _, fd := range m.Findings {
				claimed = lint.Max(claimed, fd.Risk)
			}
			if claimed >= lint.Dangerous {
				return
			}
			m.Findings = append(m.Findings, f)
			m.Risk = lint.Dangerous
		} else {
			rep.Migrations = append(rep.Migrations, report.Migration{
				Version: "?", Name: path.Base(p), File: p, Checksum: "deleted:" + p, New: true, Status: report.StatusNotRun, Findings: []lint.Finding{f},
			})
		}
		added = append(added, f)
		notes = append(notes, fmt.Sprintf("%s: the %s %s; counted as dangerous", p, w.change, said))
	}
	// A file to read at head: to lint it (lint), to compare its content with the blob the report
	// records (blob, when the forge listed none), or, unlisted, to bind the approval to its content.
	type readBack struct {
		m        int
		path     string
		lint     bool
		blob     string
		unlisted bool
	}
	var todo []readBack
	for _, cf := range files {
		if flywaySettings(cf.Path, folders) {
			// Placeholders it sets change the SQL that runs (SELECT '${x}' may drop a table), and it
			// decides transactions; a report vouches for the SQL files alone. A removal counts too.
			unverified(cf.Path, cf.BlobSHA, "it sets how Flyway runs the migrations (placeholders, transactions), which the report does not vouch for")
			continue
		}
		switch {
		case cf.Status == "removed" && inFolder(cf.Path) && migrationLike(cf.Path):
			gone(cf.Path, "")
		case cf.PreviousPath != "" && cf.PreviousPath != cf.Path && inFolder(cf.PreviousPath) && migrationLike(cf.PreviousPath):
			// Renamed, out of the folder or within it: the name databases know is gone either way; the
			// new path, in the folder, is checked below as any added file.
			gone(cf.PreviousPath, cf.Path)
		}
		if cf.Status == "removed" || !inFolder(cf.Path) || !migrationLike(cf.Path) {
			continue
		}
		l, ok := byPath[cf.Path]
		switch {
		case !ok && cf.BlobSHA == "":
			todo = append(todo, readBack{m: -1, path: cf.Path, unlisted: true})
		case !ok:
			unverified(cf.Path, cf.BlobSHA, unlisted)
		case l.blob != "" && cf.BlobSHA != "" && !strings.EqualFold(l.blob, cf.BlobSHA):
			unverified(cf.Path, cf.BlobSHA, otherText)
		case l.up || (l.blob != "" && cf.BlobSHA == ""):
			r := readBack{m: l.m, path: cf.Path, lint: l.up}
			if cf.BlobSHA == "" {
				r.blob = l.blob
			}
			todo = append(todo, r)
		}
	}
	// In the report's order, so a migration sees what the earlier new ones built, as in the check.
	slices.SortStableFunc(todo, func(a, b readBack) int { return a.m - b.m })
	// why is the reason a file that could not be read back counts as unverified: other, unless the
	// report does not list it at all.
	why := func(t readBack, other string) string {
		if t.unlisted {
			return unlisted
		}
		return other
	}
	seq := lint.NewSequence(lcfg)
	seq.StartChange() // the new migrations of one change, as the check judged them
	for i, t := range todo {
		if i >= maxRelint {
			unverified(t.path, "", why(t, fmt.Sprintf("the gate reads back at most %d migration files to check them", maxRelint)))
			continue
		}
		data, err := f.FileAt(ctx, ref.Repo, t.path, head)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if !errors.Is(err, forge.ErrNotFound) && !errors.Is(err, forge.ErrForbidden) {
				return nil, fmt.Errorf("verify the report against the %s: %w", w.change, err)
			}
			unverified(t.path, "", why(t, fmt.Sprintf("it could not be read at %s (%v)", short12(head), err)))
			continue
		}
		switch blob := gitBlobSHA(data); {
		case t.unlisted:
			unverified(t.path, blob, unlisted)
			continue
		case t.blob != "" && !strings.EqualFold(t.blob, blob):
			unverified(t.path, blob, otherText)
			continue
		}
		if !t.lint {
			continue
		}
		found := lintFile(seq, t.path, data, format, cfg.ReadOptions(), lcfg)
		m := &rep.Migrations[t.m]
		claimed := m.Risk
		for _, fd := range m.Findings {
			claimed = lint.Max(claimed, fd.Risk)
		}
		var higher []lint.Finding
		for _, fd := range found {
			if fd.Risk > claimed {
				fd.File = t.path
				fd.Source = "gate"
				higher = append(higher, fd)
			}
		}
		if len(higher) > 0 {
			added = append(added, higher...)
			m.Findings = append(m.Findings, higher...)
			m.Risk = lint.Max(m.Risk, lint.Highest(higher))
			notes = append(notes, fmt.Sprintf("%s: the gate's own lint of the %s's file finds it %s, the report said %s", t.path, w.change, lint.Highest(higher), claimed))
		}
	}
	rep.Risk = lint.Max(rep.Risk, lint.Highest(added))
	rep.ApprovalRisk = lint.Max(rep.ApprovalRisk, rep.RiskForApproval())
	return notes, nil
}

// lintFile judges one migration file read from the pull request: through the folder's format when it
// reads it as one migration (the up section of a goose file, say), else as plain SQL in a transaction.
func lintFile(seq *lint.Sequence, p string, data []byte, format migrate.Format, opts migrate.Options, lcfg lint.Config) []lint.Finding {
	name := path.Base(p)
	if format != "" && format != migrate.FormatAuto {
		set, err := migrate.ReadWith(fstest.MapFS{name: {Data: data}}, format, opts)
		if err == nil && len(set.Migrations) == 1 && set.Migrations[0].Up != nil {
			m := set.Migrations[0]
			return append(seq.AnalyzeScript(m.Up, lint.ToolTransaction(m, set.Format)), lint.ToolFindings(m, set.Format, lcfg)...)
		}
	}
	src := strings.TrimPrefix(string(data), "\uFEFF")
	return seq.AnalyzeScript(&migrate.Script{File: name, SQL: src, Statements: sqlparse.Parse(src)}, true)
}

// migrationLike says whether a file of the migration folder holds SQL a migration tool runs: a .sql
// file, or a golang-migrate up or down file of any extension.
func migrationLike(p string) bool {
	name := strings.ToLower(path.Base(p))
	return strings.HasSuffix(name, ".sql") || strings.Contains(name, ".up.") || strings.Contains(name, ".down.")
}

// flywaySettings says whether p, a path from the repository root, is a file of Flyway settings that
// changes how the migrations of folders run: a script's own settings (V2__x.sql.conf) in one of them, or
// flyway.conf or flyway.toml in one of them or a folder above it (where Flyway, and schemagate, read them
// when run from there). Their placeholders are replaced in the scripts' SQL.
func flywaySettings(p string, folders []string) bool {
	dir, name := path.Split(p)
	dir = strings.TrimSuffix(dir, "/")
	for _, d := range folders {
		if dir == d && strings.HasSuffix(strings.ToLower(name), ".sql.conf") {
			return true
		}
		if (name == "flyway.conf" || name == "flyway.toml") && (dir == "" || d == dir || strings.HasPrefix(d, dir+"/")) {
			return true
		}
	}
	return false
}

func cleanFolder(dir string) string {
	d := strings.Trim(path.Clean("/"+dir), "/")
	if d == "." {
		return ""
	}
	return d
}
