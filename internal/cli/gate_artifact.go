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
// reports on when that is a run of the check's workflow (--check-workflow), else of that workflow's
// newest completed pull_request run on the pull request's head, as when a review workflow's run
// triggered this one. done is set when there is nothing to decide yet (the check has not completed on
// that head: its completion runs the gate); a notice says so.
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
	if wr := ev.WorkflowRun; wr != nil && wr.ID != 0 && workflowFile(wr.Path) == o.CheckWorkflow {
		runID = wr.ID
	} else {
		run, err := c.LatestRun(ctx, ref.Repo, o.CheckWorkflow, head, "pull_request")
		switch {
		case errors.Is(err, github.ErrNoWorkflow):
			return "", false, usageErr(fmt.Errorf("%w: --check-workflow names the check's workflow file", err))
		case errors.Is(err, forge.ErrNotFound):
			a.staleNotice("gate", fmt.Sprintf("no completed run of %s on %s (pull request #%d) yet: nothing decided; the gate runs when the check completes", o.CheckWorkflow, short12(head), ref.Number))
			return "", true, nil
		case err != nil:
			return "", false, exitCode(ExitFailure, actionsHint(err))
		}
		runID = run.ID
	}
	o.checkRunURL = env.RunURLOf(strconv.FormatInt(runID, 10))
	files, err := c.Artifact(ctx, ref.Repo, runID, o.ReportArtifact, maxReportArtifact)
	switch {
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
	dir, err = os.MkdirTemp("", "schemagate-report-*")
	if err != nil {
		return "", false, exitCode(ExitFailure, err)
	}
	o.Report = filepath.Join(dir, "report.json")
	if err := os.WriteFile(o.Report, data, 0o600); err != nil {
		return dir, false, exitCode(ExitFailure, err)
	}
	o.reportName = name
	fmt.Fprintf(a.Stderr, "schemagate gate: the report is %s of the artifact %s of run %d\n", name, o.ReportArtifact, runID)
	return dir, false, nil
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
	return "", nil, fmt.Errorf("it holds %s and no %s: upload the report alone", strings.Join(names, ", "), defaultReportFile)
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
