package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/schemagate/schemagate/internal/ci"
	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/github"
)

// maxReportArtifact bounds the report artifact's archive and files: a report of thousands of
// migrations is a few megabytes, and the artifact is the pull request's own workflow's output.
const maxReportArtifact = 64 << 20

// defaultReportFile is the report's name in the artifact workflow 1 uploads (the action's report-json).
const defaultReportFile = "schemagate-report.json"

// reportFromArtifact points o.Report at the check's report, downloaded into a temporary folder (dir,
// which the caller removes) from the artifact --report-artifact names: of the run a workflow_run event
// reports on when that is a run of the check's workflow (--check-workflow) that ran to its end, else of
// that workflow's newest pull_request run on the pull request's head that did, as when the approval
// workflow's run (a push, a review) triggered this one. With no such run, the report is an empty one
// for the head (o.noCheckRun): it decides a change that touches no migration file (the check's
// workflow, filtered by paths, never runs on it) and nothing else.
func (a *App) reportFromArtifact(ctx context.Context, o *GateOptions, c *github.Client, f forge.Forge, ev *githubEvent, env *ci.GitHubEnv, ref forge.Ref) (dir string, done bool, err error) {
	head := ev.headSHA()
	if head == "" && ev.PullRequest != nil {
		head = ev.PullRequest.Head.SHA
	}
	if head == "" {
		cr, err := f.ChangeRequest(ctx, ref)
		if err != nil {
			return "", false, exitCode(ExitFailure, fmt.Errorf("read pull request #%d: %w", ref.Number, err))
		}
		head = cr.HeadSHA
	}
	var runID int64
	if wr := ev.WorkflowRun; wr != nil && wr.ID != 0 && workflowFile(wr.Path) == o.CheckWorkflow && github.Finished(wr.Conclusion) {
		runID = wr.ID
	} else {
		runs, err := c.Runs(ctx, ref.Repo, o.CheckWorkflow, head, "pull_request")
		switch {
		case errors.Is(err, github.ErrNoWorkflow):
			return "", false, usageErr(fmt.Errorf("%w: --check-workflow names the check's workflow file", err))
		case err != nil:
			return "", false, exitCode(ExitFailure, actionsHint(err))
		}
		run := github.LatestFinished(runs)
		switch {
		case run == nil && len(runs) > 0:
			// A run that has not finished, or ended without its report (cancelled, waiting for a
			// maintainer's approval, timed out): its paths matched, so the change may hold migrations.
			a.staleNotice("gate", fmt.Sprintf("the run of %s on %s (pull request #%d) has not finished, or ended without its report (cancelled, waiting for approval): nothing decided; the gate runs again when a run finishes (re-run it if none is going on)", o.CheckWorkflow, short12(head), ref.Number))
			return "", true, nil
		case run == nil:
			dir, err := writeTempReport(o, fmt.Sprintf(`{"tool":"schemagate","head":%q,"ok":true,"migrations":[]}`, head))
			o.noCheckRun, o.reportName = true, "(no run of "+o.CheckWorkflow+")"
			return dir, false, err
		}
		runID = run.ID
	}
	o.checkRunURL = env.RunURLOf(strconv.FormatInt(runID, 10))
	files, err := c.Artifact(ctx, ref.Repo, runID, o.ReportArtifact, maxReportArtifact)
	switch {
	case errors.Is(err, github.ErrBadArtifact):
		return "", false, usageErr(err)
	case errors.Is(err, github.ErrArtifactExpired):
		return "", false, exitCode(ExitFailure, fmt.Errorf("%w: re-run the check's workflow on %s (GitHub keeps an artifact for its retention-days)", err, short12(head)))
	case errors.Is(err, forge.ErrNotFound):
		return "", false, exitCode(ExitFailure, fmt.Errorf("%w: the check's workflow uploads the report with actions/upload-artifact (name: %s, if: always())", err, o.ReportArtifact))
	case err != nil:
		return "", false, exitCode(ExitFailure, actionsHint(err))
	}
	name, data, err := pickReport(files)
	if err != nil {
		return "", false, usageErr(fmt.Errorf("the artifact %q of run %d: %w", o.ReportArtifact, runID, err))
	}
	dir, err = writeTempReport(o, string(data))
	o.reportName = clean(name)
	fmt.Fprintf(a.Stderr, "schemagate gate: the report is %s of the artifact %s of run %d\n", o.reportName, clean(o.ReportArtifact), runID)
	return dir, false, err
}

// writeTempReport writes the report into a new temporary folder, returned for the caller to remove, and
// points o.Report at it.
func writeTempReport(o *GateOptions, data string) (string, error) {
	dir, err := os.MkdirTemp("", "schemagate-report-*")
	if err != nil {
		return "", exitCode(ExitFailure, err)
	}
	o.Report = filepath.Join(dir, "report.json")
	if err := os.WriteFile(o.Report, []byte(data), 0o600); err != nil {
		return dir, exitCode(ExitFailure, err)
	}
	return dir, nil
}

// pickReport is the report among an artifact's files: the only file, else the only JSON file, else
// schemagate-report.json (the action's default report-json).
func pickReport(files map[string][]byte) (string, []byte, error) {
	var names, jsons []string
	for n := range files {
		names = append(names, n)
		if strings.HasSuffix(strings.ToLower(n), ".json") {
			jsons = append(jsons, n)
		}
	}
	slices.Sort(names)
	switch {
	case len(names) == 0:
		return "", nil, errors.New("it holds no file")
	case len(names) == 1:
		return names[0], files[names[0]], nil
	case len(jsons) == 1:
		return jsons[0], files[jsons[0]], nil
	}
	for _, n := range names {
		if path.Base(n) == defaultReportFile {
			return n, files[n], nil
		}
	}
	shown := names
	if len(shown) > 5 {
		shown = append(slices.Clone(shown[:5]), fmt.Sprintf("%d more", len(names)-5))
	}
	for i := range shown {
		shown[i] = clean(shown[i])
	}
	return "", nil, fmt.Errorf("it holds %s and no %s: upload the report alone", strings.Join(shown, ", "), defaultReportFile)
}

// workflowFile is the file name of a workflow_run's path (.github/workflows/NAME.yml, possibly with
// @REF after it).
func workflowFile(p string) string {
	p, _, _ = strings.Cut(p, "@")
	return path.Base(p)
}

// actionsHint adds to a refusal of the Actions API the permission it needs.
func actionsHint(err error) error {
	if errors.Is(err, forge.ErrForbidden) {
		return fmt.Errorf("%w (give the workflow 'permissions: actions: read')", err)
	}
	return err
}

// touchesMigrations names a file of the change request, at its path or the one it was renamed from, that
// could be a migration's or change how migrations run: any file of the migration folder (folder,
// from the repository's root: a goose .go migration, a sqitch.plan too), and, wherever it is, an SQL
// file (or a golang-migrate .up./.down. one), the configuration (config, from the root), a Flyway
// settings file, a sqitch plan or an Atlas sum. Without the check's report the gate cannot be sure of
// the folder (the check's workflow may name another than schemagate.yml), so any of them holds the
// decision back. "" when none.
func touchesMigrations(ctx context.Context, f *forge.RunCache, ref forge.Ref, folder, config string) (string, error) {
	files, err := f.Files(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("list the files of pull request #%d: %w", ref.Number, err)
	}
	folder = cleanFolder(folder)
	for _, cf := range files {
		for _, p := range []string{cf.Path, cf.PreviousPath} {
			if p == "" {
				continue
			}
			name := strings.ToLower(path.Base(p))
			if folder == "" || strings.HasPrefix(p, folder+"/") || migrationLike(p) || p == config || p == "schemagate.yml" ||
				slices.Contains([]string{"flyway.conf", "flyway.toml", "sqitch.plan", "sqitch.conf", "atlas.sum"}, name) ||
				strings.HasSuffix(name, ".sql.conf") {
				return clean(p), nil
			}
		}
	}
	return "", nil
}
