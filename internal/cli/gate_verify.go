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

// verifyGateReport ties the --report of a GitHub gate to the pull request (reportHead) and checks it
// there (verifyReport). stale, when not empty, is why nothing is decided (a notice, exit 0).
func (a *App) verifyGateReport(ctx context.Context, cfg *config.Config, fl forge.FileLister, f forge.Forge, ref forge.Ref, ev *githubEvent, rep *report.Report) (notes []string, stale string, err error) {
	cr, err := f.ChangeRequest(ctx, ref)
	if err != nil {
		if errors.Is(err, forge.ErrNotFound) {
			return nil, "", usageErr(err)
		}
		return nil, "", err
	}
	evHead := ev.headSHA()
	if evHead == "" && ev.PullRequest != nil {
		evHead = ev.PullRequest.Head.SHA
	}
	head, stale, err := reportHead(rep, evHead, ev.WorkflowRun != nil, cr)
	if err != nil {
		return nil, "", usageErr(err)
	}
	if stale != "" {
		return nil, stale, nil
	}
	if rep.Head == "" && evHead == "" {
		notes = append(notes, fmt.Sprintf("the report records no head commit: it is checked against the pull request at its head %s", short12(head)))
	}
	more, err := verifyReport(ctx, fl, f, cfg, ref, head, rep)
	return append(notes, more...), "", err
}

// staleNotice says why a command posted nothing for a pull request that moved on or closed: a notice,
// not a failure, since a newer run posts.
func (a *App) staleNotice(cmd, msg string) {
	msg = fmt.Sprintf("schemagate %s: %s", cmd, msg)
	if env, ok := ci.DetectGitHub(a.Getenv); ok {
		ci.NewActions(env, a.commandOut()).Notice(msg)
		return
	}
	fmt.Fprintf(a.Stderr, "%s\n", msg)
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

// reportHead settles the commit an untrusted report is judged at. evHead is the head the event was
// about (workflow_run.head_sha, or the pull request's head in a pull_request event), "" when unknown.
// stale, when not empty, says why nothing may be decided: the pull request moved on to another head
// (a newer run decides) or is no longer open. A report made for another head than the event's is an
// error: a stale or forged artifact.
func reportHead(rep *report.Report, evHead string, workflowRun bool, cr *forge.ChangeRequest) (head, stale string, err error) {
	if rep.Head != "" && evHead != "" && !strings.EqualFold(rep.Head, evHead) {
		return "", "", fmt.Errorf("the report was made for commit %s, but the run was for %s: refusing a stale or forged report", short12(rep.Head), short12(evHead))
	}
	if workflowRun && cr.State != "" && cr.State != "open" {
		return "", fmt.Sprintf("pull request #%d is %s: nothing decided", cr.Number, cr.State), nil
	}
	want := cmp.Or(evHead, rep.Head)
	if want != "" && !strings.EqualFold(cr.HeadSHA, want) {
		return "", fmt.Sprintf("pull request #%d has moved on to %s; the report is for %s: nothing decided (the run for the new head decides)",
			cr.Number, short12(cr.HeadSHA), short12(want)), nil
	}
	return cr.HeadSHA, "", nil
}

func short12(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// verifyReport checks a report the gate was given (--report: in a workflow_run workflow, a fork's
// artifact, which its author could have written by hand) against the pull request itself, at head:
//
//   - every file the pull request adds or modifies in the migration folder (the report's, and the one
//     --dir or schemagate.yml names) that is SQL must be a file of a migration the report lists as
//     new, with the same content (git blob SHA, when the report records it); any other is added to the
//     report as a new migration of dangerous risk (finding unverified-migration), so the approval is
//     required and bound to its content;
//   - the up scripts of the listed migrations are read at head and linted again (static rules, in the
//     report's order): a finding riskier than what the report says of the migration is added to it.
//
// It returns notes for the decision. The report's dynamic evidence (what the rehearsal saw) cannot be
// checked here: it can only make the risk higher than the static rules say.
func verifyReport(ctx context.Context, fl forge.FileLister, f forge.Forge, cfg *config.Config, ref forge.Ref, head string, rep *report.Report) ([]string, error) {
	files, err := fl.Files(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("verify the report against the pull request: %w", err)
	}
	folders := []string{cleanFolder(rep.Dir)}
	if cfg.Dir != "" {
		if d := cleanFolder(repoRelative(ctx, cfg.Dir)); !slices.Contains(folders, d) {
			folders = append(folders, d)
		}
	}
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
	lcfg := lint.Config{PGVersion: cfg.Database.PGVersion, Rules: cfg.Lint.Rules, Deploy: deployTimeouts(cfg)}
	if lcfg.Validate() != nil {
		lcfg.Rules = nil
	}
	var notes []string
	var added []lint.Finding
	unverified := func(p, blob, why string) {
		rep.Migrations = append(rep.Migrations, report.Migration{
			Version: "?", Name: path.Base(p), File: p, Checksum: "blob:" + blob, New: true, Status: report.StatusNotRun,
			Findings: []lint.Finding{{Rule: RuleUnverified, Risk: lint.Dangerous, File: p, Line: 1, Column: 1, Source: "gate",
				Message: "the pull request changes this migration file, but " + why + ": the gate does not trust the report for it and asks for the approval a dangerous migration needs"}},
		})
		added = append(added, rep.Migrations[len(rep.Migrations)-1].Findings...)
		notes = append(notes, fmt.Sprintf("%s: %s; counted as dangerous", p, why))
	}
	type relint struct {
		m    int
		path string
	}
	var todo []relint
	for _, cf := range files {
		if cf.Status == "removed" || !inFolder(cf.Path) || !migrationLike(cf.Path) {
			continue
		}
		l, ok := byPath[cf.Path]
		switch {
		case !ok:
			unverified(cf.Path, cf.BlobSHA, "the report does not list it as a new migration")
		case l.blob != "" && cf.BlobSHA != "" && !strings.EqualFold(l.blob, cf.BlobSHA):
			unverified(cf.Path, cf.BlobSHA, "the report was made for other content of it")
		case l.up:
			todo = append(todo, relint{m: l.m, path: cf.Path})
		}
	}
	// In the report's order, so a migration sees what the earlier new ones built, as in the check.
	slices.SortStableFunc(todo, func(a, b relint) int { return a.m - b.m })
	seq := lint.NewSequence(lcfg)
	seq.StartChange() // the new migrations of one change, as the check judged them
	for i, t := range todo {
		if i >= maxRelint {
			unverified(t.path, "", fmt.Sprintf("the gate reads back at most %d migration files to lint them", maxRelint))
			continue
		}
		data, err := f.FileAt(ctx, ref.Repo, t.path, head)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if !errors.Is(err, forge.ErrNotFound) && !errors.Is(err, forge.ErrForbidden) {
				return nil, fmt.Errorf("verify the report against the pull request: %w", err)
			}
			unverified(t.path, "", fmt.Sprintf("it could not be read at %s (%v)", short12(head), err))
			continue
		}
		found := lintFile(seq, t.path, data, format, lcfg)
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
			notes = append(notes, fmt.Sprintf("%s: the gate's own lint of the pull request's file finds it %s, the report said %s", t.path, lint.Highest(higher), claimed))
		}
	}
	rep.Risk = lint.Max(rep.Risk, lint.Highest(added))
	rep.ApprovalRisk = lint.Max(rep.ApprovalRisk, rep.RiskForApproval())
	return notes, nil
}

// lintFile judges one migration file read from the pull request: through the folder's format when it
// reads it as one migration (the up section of a goose file, say), else as plain SQL in a transaction.
func lintFile(seq *lint.Sequence, p string, data []byte, format migrate.Format, lcfg lint.Config) []lint.Finding {
	name := path.Base(p)
	if format != "" && format != migrate.FormatAuto {
		set, err := migrate.Read(fstest.MapFS{name: {Data: data}}, format)
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

func cleanFolder(dir string) string {
	d := strings.Trim(path.Clean("/"+dir), "/")
	if d == "." {
		return ""
	}
	return d
}
