// Package gitfs reads a folder of a git repository as it is at some commit, lists the files a change
// adds or modifies, and those git ignores, with the git command-line tool. The rehearsal uses it to compare the migration folder
// of the target branch with the working tree of a pull request.
package gitfs

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ErrUnknownRef is returned (wrapped in an *Error) for a ref that names no commit of the repository.
var ErrUnknownRef = errors.New("unknown git ref")

// ErrNotRepository is returned (wrapped in an *Error) when the directory is not inside a git work tree.
var ErrNotRepository = errors.New("not a git repository")

// Error is a failed git operation, with a hint a user can act on.
type Error struct {
	Msg  string
	Hint string
	Err  error
}

func (e *Error) Error() string {
	s := e.Msg
	if e.Err != nil && !strings.Contains(s, e.Err.Error()) {
		s += ": " + e.Err.Error()
	}
	if e.Hint != "" {
		s += " (hint: " + e.Hint + ")"
	}
	return s
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// New returns the folder subdir (relative to repoDir, with either slash) as it is at commit ref of the
// repository that holds repoDir. The whole folder is read into memory at once. A folder that does not
// exist at ref gives an empty FS, not an error: the change under review may be the one that creates it.
// Symbolic links to files of the same commit are followed; links out of the repository (or to folders)
// and submodules are left out.
func New(ctx context.Context, repoDir, ref, subdir string) (fs.FS, error) {
	repo, err := open(ctx, repoDir, subdir)
	if err != nil {
		return nil, err
	}
	commit, err := repo.resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	args := []string{"ls-tree", "-r", "-z", "--full-tree", commit}
	if repo.sub != "" {
		args = append(args, "--", repo.sub)
	}
	out, err := repo.git(ctx, nil, args...)
	if err != nil {
		return nil, err
	}
	var paths, oids, links, linkSpecs []string
	for _, rec := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		if rec == "" {
			continue
		}
		meta, p, ok := strings.Cut(rec, "\t")
		fields := strings.Fields(meta)
		if !ok || len(fields) != 3 {
			return nil, &Error{Msg: fmt.Sprintf("read git ls-tree output %q", rec)}
		}
		rel, inside := repo.relative(p)
		switch {
		case !inside:
			continue
		case rel == "":
			return nil, &Error{Msg: fmt.Sprintf("read %s at %s", repo.sub, ref), Err: errors.New("it is a file, not a folder")}
		case fields[0] == "120000":
			links = append(links, rel)
			linkSpecs = append(linkSpecs, commit+":"+p)
			continue
		case fields[1] != "blob":
			continue // a submodule
		}
		paths = append(paths, rel)
		oids = append(oids, fields[2])
	}
	blobs, err := repo.catFile(ctx, oids, false)
	if err != nil {
		return nil, err
	}
	files := make(map[string][]byte, len(paths))
	for i, p := range paths {
		files[p] = blobs[i]
	}
	// Symbolic links are followed as the working tree's reader follows them: to a file of the same
	// commit, never out of the repository.
	targets, err := repo.catFile(ctx, linkSpecs, true)
	if err != nil {
		return nil, err
	}
	for i, p := range links {
		if targets[i] != nil {
			files[p] = targets[i]
		}
	}
	return newMemFS(files), nil
}

// ChangedFiles lists the files under subdir (relative to repoDir) that the working tree adds or
// modifies compared with base: committed, staged, unstaged and untracked (but not ignored) changes.
// Like a pull request's diff, it compares with the merge base of base and HEAD, so commits that landed on
// base later do not count. Paths are relative to subdir, with forward slashes, sorted. Deleted files
// are not listed.
func ChangedFiles(ctx context.Context, repoDir, base, subdir string) ([]string, error) {
	repo, err := open(ctx, repoDir, subdir)
	if err != nil {
		return nil, err
	}
	commit, err := repo.resolve(ctx, base)
	if err != nil {
		return nil, err
	}
	mb, err := repo.git(ctx, nil, "merge-base", commit, "HEAD")
	if err != nil {
		return nil, &Error{Msg: fmt.Sprintf("find the merge base of %s and HEAD", base), Err: err,
			Hint: "the clone may be shallow; fetch the whole history (fetch-depth: 0)"}
	}
	spec := []string{"--"}
	if repo.sub != "" {
		spec = append(spec, repo.sub)
	}
	diff, err := repo.git(ctx, nil, append([]string{"diff", "--name-only", "-z", "--no-renames", "--no-relative",
		"--no-ext-diff", "--diff-filter=AMT", strings.TrimSpace(string(mb))}, spec...)...)
	if err != nil {
		return nil, err
	}
	untracked, err := repo.git(ctx, nil, append([]string{"ls-files", "-z", "--others", "--exclude-standard"}, spec...)...)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range strings.Split(string(diff)+string(untracked), "\x00") {
		if rel, inside := repo.relative(p); inside && rel != "" {
			out = append(out, rel)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Ignored lists what git ignores under subdir (relative to repoDir) among the files it does not track
// (.gitignore, .git/info/exclude, core.excludesFile): paths relative to subdir, with forward slashes,
// sorted; a folder whose every file is ignored once, with a trailing slash, and nothing under it. A file
// git tracks is never listed, whatever the ignore rules say, nor a folder that holds one; an untracked
// file that no rule ignores neither (a new repository tracks nothing yet).
func Ignored(ctx context.Context, repoDir, subdir string) ([]string, error) {
	repo, err := open(ctx, repoDir, subdir)
	if err != nil {
		return nil, err
	}
	spec := []string{"--"}
	if repo.sub != "" {
		spec = append(spec, repo.sub)
	}
	listed, err := repo.git(ctx, nil, append([]string{"ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"}, spec...)...)
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, p := range strings.Split(string(listed), "\x00") {
		if rel, inside := repo.relative(strings.TrimSuffix(p, "/")); inside && rel != "" {
			if strings.HasSuffix(p, "/") {
				rel += "/"
			}
			paths = append(paths, rel)
		}
	}
	slices.Sort(paths)
	// A folder listed covers what is under it (git lists a/ and a/db/ when a rule ignores every file of both).
	var out []string
	for _, p := range paths {
		covered := false
		for d := path.Dir(strings.TrimSuffix(p, "/")); d != "." && !covered; d = path.Dir(d) {
			_, covered = slices.BinarySearch(paths, d+"/")
		}
		if !covered {
			out = append(out, p)
		}
	}
	return out, nil
}

// repo is a work tree: its top folder and the folder of interest relative to it.
type repo struct {
	top string
	sub string // slash-separated, relative to top; "" for the top itself
}

func open(ctx context.Context, repoDir, subdir string) (*repo, error) {
	out, err := runGit(ctx, repoDir, nil, "rev-parse", "--show-toplevel", "--show-prefix")
	if err != nil {
		var ge *Error
		if errors.As(err, &ge) && strings.Contains(ge.Msg+errString(ge.Err), "not a git repository") {
			return nil, &Error{Msg: repoDir + " is not a git repository", Err: ErrNotRepository, Hint: "check out the repository (actions/checkout) before running schemagate"}
		}
		return nil, err
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) == 0 || lines[0] == "" {
		return nil, &Error{Msg: repoDir + " is not a git repository", Err: ErrNotRepository, Hint: "run schemagate inside a work tree, not a bare repository"}
	}
	prefix := ""
	if len(lines) > 1 {
		prefix = lines[1]
	}
	sub := path.Clean(prefix + filepath.ToSlash(subdir))
	if filepath.IsAbs(subdir) || path.IsAbs(sub) || sub == ".." || strings.HasPrefix(sub, "../") {
		return nil, &Error{Msg: fmt.Sprintf("folder %s is outside the repository", subdir), Hint: "give the migration folder relative to the repository"}
	}
	if sub == "." {
		sub = ""
	}
	return &repo{top: lines[0], sub: sub}, nil
}

// relative returns p (relative to the top) relative to the folder of interest, and whether it is in it.
func (r *repo) relative(p string) (string, bool) {
	switch {
	case p == "":
		return "", false
	case r.sub == "":
		return p, true
	case p == r.sub:
		return "", true
	case strings.HasPrefix(p, r.sub+"/"):
		return p[len(r.sub)+1:], true
	}
	return "", false
}

// resolve returns the commit id that ref names.
func (r *repo) resolve(ctx context.Context, ref string) (string, error) {
	unknown := &Error{Msg: "unknown git ref " + strconv.Quote(ref), Err: ErrUnknownRef,
		Hint: "fetch it, with the whole history (actions/checkout with fetch-depth: 0, or GIT_DEPTH: 0 on GitLab)"}
	if ref == "" || strings.HasPrefix(ref, "-") {
		return "", unknown
	}
	out, err := r.git(ctx, nil, "rev-parse", "--verify", "--quiet", ref+"^{commit}")
	if err != nil {
		if _, oerr := r.git(ctx, nil, "rev-parse", "--verify", "--quiet", ref); oerr == nil {
			// It names an object, but no commit (a tree, a blob, a tag of one).
			unknown.Msg = "git ref " + strconv.Quote(ref) + " names no commit"
			unknown.Hint = "give a branch, tag or commit (the base's migrations are read from a commit)"
		}
		return "", unknown
	}
	return strings.TrimSpace(string(out)), nil
}

// catFile reads objects with one git cat-file --batch process: blobs by OID, or with follow, the
// "commit:path" of symbolic links, followed inside the commit's tree (git cat-file --follow-symlinks). A
// link that cannot be followed to a file (out of the repository, dangling, a loop, a folder) reads as nil.
func (r *repo) catFile(ctx context.Context, specs []string, follow bool) ([][]byte, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	in := strings.Join(specs, "\n") + "\n"
	args := []string{"cat-file", "--batch"}
	if follow {
		args = append(args, "--follow-symlinks")
	}
	out, err := r.git(ctx, strings.NewReader(in), args...)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(bytes.NewReader(out))
	blobs := make([][]byte, len(specs))
	for i, spec := range specs {
		header, err := br.ReadString('\n')
		if err != nil {
			return nil, &Error{Msg: "read git cat-file output", Err: err}
		}
		fields := strings.Fields(header)
		sizeField := ""
		switch {
		case follow && strings.HasSuffix(strings.TrimSpace(header), " missing"): // "<commit>:<path> missing"
			continue
		case follow && len(fields) == 2: // symlink, dangling, loop or notdir, then the link's text
			sizeField = fields[1]
		case len(fields) == 3 && (fields[0] == spec || follow):
			sizeField = fields[2]
		default:
			return nil, &Error{Msg: fmt.Sprintf("read object %s", spec), Err: fmt.Errorf("unexpected git cat-file header %q", strings.TrimSpace(header))}
		}
		size, err := strconv.Atoi(sizeField)
		if err != nil || size < 0 {
			return nil, &Error{Msg: fmt.Sprintf("read object %s", spec), Err: fmt.Errorf("bad size %q", sizeField)}
		}
		content := make([]byte, size)
		if _, err := io.ReadFull(br, content); err != nil {
			return nil, &Error{Msg: fmt.Sprintf("read object %s", spec), Err: err}
		}
		if _, err := br.Discard(1); err != nil { // the newline after the content
			return nil, &Error{Msg: fmt.Sprintf("read object %s", spec), Err: err}
		}
		if len(fields) == 3 && fields[1] == "blob" {
			blobs[i] = content
		}
	}
	return blobs, nil
}

func (r *repo) git(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	return runGit(ctx, r.top, stdin, args...)
}

// runGit runs git in dir with literal pathspecs and returns its standard output; a failure carries git's
// own message.
func runGit(ctx context.Context, dir string, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"--literal-pathspecs", "-C", dir}, args...)...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		e := &Error{Msg: "run git " + args[0], Err: err}
		if msg != "" {
			e.Err = fmt.Errorf("%s (%w)", msg, err)
		}
		switch {
		case errors.Is(err, exec.ErrNotFound):
			e.Hint = "install git"
		case strings.Contains(msg, "dubious ownership"):
			e.Hint = "mark the checkout as safe: git config --global --add safe.directory " + dir
		}
		return nil, e
	}
	return stdout.Bytes(), nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
