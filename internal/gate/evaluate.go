package gate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"

	"github.com/schemagate/schemagate/internal/codeowners"
	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/report"
)

// Request is what Evaluate needs besides the forge.
type Request struct {
	Ref     forge.Ref
	Policy  config.Approval
	Dialect codeowners.Dialect
	// Report holds the new migrations, their risk and checksums; Report.Dir is the migration folder
	// relative to the repository root.
	Report *report.Report
	Logger *slog.Logger
}

// Evaluate reads the change request, its reviews and changed files and the base branch's CODEOWNERS
// through f, and decides. CODEOWNERS is read at the base commit, never the head, so a change that
// edits CODEOWNERS cannot approve itself.
func Evaluate(ctx context.Context, f forge.Forge, req Request) (*Decision, *forge.ChangeRequest, error) {
	log := req.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cr, err := f.ChangeRequest(ctx, req.Ref)
	if err != nil {
		return nil, nil, fmt.Errorf("evaluate approval: %w", err)
	}
	in := Input{
		// An ignore comment is the author's own word: it silences --fail-on, never the approval.
		Policy: req.Policy, Dialect: req.Dialect, Risk: req.Report.RiskForApproval(),
		NewMigrations: len(req.Report.New()), Repo: req.Ref.Repo, Author: cr.Author, HeadSHA: cr.HeadSHA,
		Checksum: Checksum(req.Report), Ignored: req.Report.IgnoredFindings(),
	}
	if in.NewMigrations == 0 || !Required(req.Policy, in.Risk) {
		d, err := Decide(ctx, in, f)
		return d, cr, err
	}
	if in.Reviews, err = f.Reviews(ctx, req.Ref); err != nil {
		return nil, nil, fmt.Errorf("evaluate approval: %w", err)
	}
	changed, err := f.ChangedFiles(ctx, req.Ref)
	if err != nil {
		return nil, nil, fmt.Errorf("evaluate approval: %w", err)
	}
	in.Files = MigrationFiles(req.Report, changed)
	base := cr.BaseSHA
	if base == "" {
		base = cr.BaseRef
	}
	file, where, notes, err := ReadCodeOwners(ctx, f, req.Ref.Repo, base, req.Dialect, req.Policy.CodeownersPath)
	if err != nil {
		return nil, nil, fmt.Errorf("evaluate approval: %w", err)
	}
	in.CodeOwners, in.Notes = file, notes
	log.Debug("approval inputs", "codeowners", where, "base", base, "files", in.Files, "reviews", len(in.Reviews))
	d, err := Decide(ctx, in, f)
	return d, cr, err
}

// MigrationFiles returns the repository paths the approval is about: every file of the new migrations,
// and every changed file inside the migration folder (an edited old migration matters as much).
func MigrationFiles(r *report.Report, changed []string) []string {
	dir := strings.Trim(path.Clean("/"+r.Dir), "/")
	given := strings.TrimSuffix(path.Clean(r.DirGiven), "/")
	join := func(f string) string {
		if r.DirGiven != "" && given != "." && strings.HasPrefix(path.Clean(f), given+"/") {
			// The file's path begins with the folder as it was given (from a subdirectory, say):
			// the rest is the same from the repository's name for the folder.
			return path.Join(dir, strings.TrimPrefix(path.Clean(f), given+"/"))
		}
		f = strings.TrimPrefix(path.Clean("/"+f), "/")
		if dir == "" || strings.HasPrefix(f, dir+"/") {
			return f
		}
		// A path given from elsewhere (../../db/migrations/x.sql, /home/ci/repo/db/migrations/x.sql).
		if i := strings.LastIndex("/"+f, "/"+dir+"/"); i >= 0 {
			return f[i:]
		}
		return dir + "/" + f
	}
	var out []string
	for _, m := range r.New() {
		for _, f := range []string{m.File, m.DownFile} {
			if f != "" {
				out = appendNew(out, join(f))
			}
		}
	}
	if dir != "" {
		for _, c := range changed {
			if strings.HasPrefix(c, dir+"/") {
				out = appendNew(out, c)
			}
		}
	}
	return out
}

// MaxGitHubCodeOwners is the size from which GitHub does not load a CODEOWNERS file ("CODEOWNERS files
// must be under 3 MB in size. A CODEOWNERS file over this limit will not be loaded", GitHub Docs, "About
// code owners"): it requests no owner's review then, and "Require review from Code Owners" asks for
// none. GitHub does not say whether its 3 MB is 3,000,000 bytes or 3 MiB (3,145,728): the smaller is
// taken, so that the gate never decides by a file GitHub may ignore (a file in between fails loudly).
// GitLab documents no size limit for CODEOWNERS (doc/user/project/codeowners/: _index, reference,
// advanced, troubleshooting), so a GitLab file is read whatever its size.
const MaxGitHubCodeOwners = 3_000_000

// ReadCodeOwners reads CODEOWNERS at ref: path when set, else the dialect's first location present.
// It returns nil without error when there is none, and the file's problems as notes. A GitHub
// CODEOWNERS of MaxGitHubCodeOwners bytes or more is an error: GitHub ignores it, so the owners it
// names own nothing on GitHub, and taking the file as absent instead would hand its files to whoever
// else may approve (approval.dba_users, a CODEOWNERS of another location).
func ReadCodeOwners(ctx context.Context, f forge.Forge, repo, ref string, d codeowners.Dialect, path string) (*codeowners.File, string, []string, error) {
	places := codeowners.Locations(d)
	if path != "" {
		places = []string{path}
	}
	for _, p := range places {
		data, err := f.FileAt(ctx, repo, p, ref)
		if errors.Is(err, forge.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, "", nil, fmt.Errorf("read %s at %s: %w", p, short(ref), err)
		}
		if d == codeowners.GitHub && len(data) >= MaxGitHubCodeOwners {
			return nil, "", nil, fmt.Errorf("%s at %s is %d bytes: GitHub does not load a CODEOWNERS file of 3 MB or more, so its owners own nothing on GitHub "+
				"and the gate will not decide who may approve; make it smaller (one wildcard pattern for many entries)", p, short(ref), len(data))
		}
		file, probs := codeowners.Parse(d, data)
		var notes []string
		for _, pr := range probs {
			if pr.Read {
				notes = append(notes, fmt.Sprintf("%s:%d: %s", p, pr.Line, pr.Msg))
				continue
			}
			notes = append(notes, fmt.Sprintf("%s:%d: %s (line skipped)", p, pr.Line, pr.Msg))
		}
		return file, p, notes, nil
	}
	if path != "" {
		return nil, "", []string{fmt.Sprintf("approval.codeowners_path %s does not exist at %s", path, short(ref))}, nil
	}
	return nil, "", nil, nil
}
