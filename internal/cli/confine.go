package cli

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/repofs"
)

// A pull request writes schemagate.yml, so the paths in it are the pull request's choice: dir: /etc or
// database.setup: [/proc/self/environ] would have the report quote what lies there (a setup file that
// does not parse is quoted in the error). Paths from the file must lead to files inside the repository
// that holds it; paths given on the command line are the user's and may lead anywhere.

// confinePaths refuses a path setting of the configuration file (dir, database.setup) that leads out of
// the repository holding the file, or into its .git folder, (its git work tree; the file's folder outside one), after cleaning and
// following symbolic links, without reading what it names. cfg holds what the file set (before the
// environment and the flags).
func confinePaths(file string, cfg *config.Config) error {
	if cfg.Dir == "" && len(cfg.Database.Setup) == 0 {
		return nil
	}
	absFile, err := filepath.Abs(file)
	if err != nil {
		return usageErr(err)
	}
	root := repofs.RealPath(repofs.Top(filepath.Dir(absFile)))
	var problems []string
	check := func(key, p string) {
		if p == "" {
			return
		}
		var problem string
		switch abs, _ := filepath.Abs(p); {
		case !inside(root, p):
			problem = fmt.Sprintf("leads out of the repository (%s); paths in %s must name files inside it (give a path outside it on the command line instead)", root, filepath.Base(file))
		case repofs.InGitDir(root, abs):
			// .git/config holds the checkout's token: a setup file there would be quoted in the error.
			problem = fmt.Sprintf("leads into the repository's .git folder; paths in %s must name the repository's own files, not git's", filepath.Base(file))
		default:
			return
		}
		at := file
		if where := cfg.Where(key); where != "" {
			at = where // file:line:column
		}
		problems = append(problems, fmt.Sprintf("%s: %s: %s %s", at, key, strconv.Quote(p), problem))
	}
	check("dir", cfg.Dir)
	for i, s := range cfg.Database.Setup {
		check(fmt.Sprintf("database.setup[%d]", i), s)
	}
	switch len(problems) {
	case 0:
		return nil
	case 1:
		return usageErr(fmt.Errorf("invalid configuration: %s", problems[0]))
	}
	return usageErr(fmt.Errorf("invalid configuration (%d problems):\n  %s", len(problems), strings.Join(problems, "\n  ")))
}

// inside tells whether path p (relative to the working directory) is root or under it, once cleaned and
// with its symbolic links followed as far as it exists.
func inside(root, p string) bool {
	abs, err := filepath.Abs(p)
	if err != nil {
		return false
	}
	rel, err := filepath.Rel(root, repofs.RealPath(abs))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
