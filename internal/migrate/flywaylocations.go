package migrate

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Flyway reads scripts only from its locations (flyway.locations in flyway.conf, locations in a
// flyway.toml's [flyway] table or an environment's, FLYWAY_LOCATIONS): a comma-separated list of
// filesystem:PATH, classpath:PATH (also a location without a prefix), s3:BUCKET/PATH and gcs:BUCKET/PATH
// (Location.java). A filesystem location is read with all its subfolders (FileSystemScanner); a path may
// hold wildcards (filesystem:db/**/pg: ** any number of folders, * any characters of one name, ? one),
// and Flyway then reads the folders below the part before the first wildcard that match. A location
// inside another is read once (Locations discards it as a sub-location). One that does not exist is
// skipped with "Skipping filesystem location: PATH (not found)", or fails the run with
// failOnMissingLocations=true.
//
// A relative filesystem location is relative to Flyway's working directory. schemagate takes it relative
// to the migration folder when the folder's own flyway.conf or flyway.toml sets it (Flyway runs from the
// folder that keeps its configuration, as loadFlywaySettings assumes), and relative to schemagate's
// working directory when a configuration file there (or FLYWAY_CONFIG_FILES, or FLYWAY_LOCATIONS) sets
// it, as when Flyway runs from the repository's root. Without locations, the migration folder is read
// whole, as before: --dir stands for the location Flyway is pointed at.

// flywayLocations are the parts of the migration folder Flyway reads scripts from.
type flywayLocations struct {
	all   bool // the whole folder
	roots []flywayRoot
}

// flywayRoot is one filesystem location inside the folder: the folder dir (a path of fsys, "." for the
// folder itself) and, for a location with wildcards, the paths it matches below dir.
type flywayRoot struct {
	dir     string
	pattern *regexp.Regexp
}

// holds tells whether Flyway reads the file p (a path of fsys) from one of the locations.
func (l flywayLocations) holds(p string) bool {
	if l.all {
		return true
	}
	for _, r := range l.roots {
		if r.dir != "." && p != r.dir && !strings.HasPrefix(p, r.dir+"/") {
			continue
		}
		if r.pattern == nil {
			return true
		}
		// A folder the file is in matches the pattern: Flyway reads a matching folder whole (a location
		// is a folder, and so is what its wildcards stand for).
		for q := path.Dir(p); q != "." && q != r.dir; q = path.Dir(q) {
			if r.pattern.MatchString(q) {
				return true
			}
		}
	}
	return false
}

// folderDir is the absolute path of the migration folder fsys when it is a folder on disk, else "".
func folderDir(fsys fs.FS) string {
	if d, ok := fsys.(interface{ Dir() string }); ok {
		return d.Dir()
	}
	return ""
}

// flywayLocations resolves st's locations in the migration folder, reporting those schemagate cannot
// read where the setting was made.
func (r *reader) flywayLocations(st *flywaySettings) flywayLocations {
	if strings.TrimSpace(st.locations) == "" {
		return flywayLocations{all: true}
	}
	at := st.locationsAt
	where := func(msg string) string {
		if at.env != "" {
			return at.env + ": " + msg
		}
		return msg
	}
	var (
		out       flywayLocations
		classpath []string
	)
	dir := folderDir(r.fsys)
	for _, raw := range strings.Split(st.locations, ",") {
		loc := strings.TrimSpace(raw)
		if loc == "" {
			continue
		}
		prefix, p := "classpath:", loc
		if i := strings.IndexByte(loc, ':'); i >= 0 {
			prefix, p = loc[:i+1], loc[i+1:]
		}
		switch prefix {
		case "classpath:":
			classpath = append(classpath, loc)
			continue
		case "s3:", "gcs:":
			r.warnf(at.file, at.line, "keep the scripts in a filesystem: location inside the migration folder to have them rehearsed",
				"%s", where(fmt.Sprintf("Flyway location %s is in cloud storage, which schemagate does not read: its scripts are not rehearsed", loc)))
			continue
		case "filesystem:":
		default:
			r.errorf(at.file, at.line, "write filesystem:PATH (or classpath:, s3:, gcs:)",
				"%s", where(fmt.Sprintf("Flyway location %s has an unknown prefix %q: Flyway refuses it (\"Unknown prefix for location\")", loc, prefix)))
			continue
		}
		rel, ok := r.flywayRelative(p, at, dir)
		if !ok {
			r.errorf(at.file, at.line, "write the location relative to the folder that holds flyway.conf, or point --dir at the folder Flyway runs in",
				"%s", where(fmt.Sprintf("Flyway location %s is an absolute path: schemagate cannot tell where it is in the migration folder, and does not read it", loc)))
			continue
		}
		root, pattern := splitFlywayWildcard(rel)
		if root == ".." || strings.HasPrefix(root, "../") {
			if strings.Trim(strings.ReplaceAll(root, "..", ""), "/") == "" {
				// The location holds the migration folder (db, with --dir db/migration).
				r.warnf(at.file, at.line, "point --dir at the location's folder to rehearse all of it",
					"%s", where(fmt.Sprintf("Flyway location %s holds the migration folder and more: schemagate reads the migration folder only", loc)))
				out.roots = append(out.roots, flywayRoot{dir: "."})
				continue
			}
			r.errorf(at.file, at.line, "point --dir at a folder that holds all of Flyway's locations (the one Flyway runs in)",
				"%s", where(fmt.Sprintf("Flyway location %s is outside the migration folder: schemagate cannot rehearse its scripts", loc)))
			continue
		}
		if info, err := fs.Stat(r.fsys, root); err != nil || !info.IsDir() {
			// FileSystemScanner.scanForResources.
			if st.failOnMissing {
				r.errorf(at.file, at.line, "create the folder or remove the location",
					"%s", where(fmt.Sprintf("Flyway location %s does not exist: Flyway fails (\"Failed to find filesystem location\", failOnMissingLocations=true)", loc)))
			} else {
				r.warnf(at.file, at.line, "create the folder or remove the location",
					"%s", where(fmt.Sprintf("ignored: Flyway location %s does not exist (%s in the migration folder): Flyway skips it (\"Skipping filesystem location: %s (not found)\")", loc, root, p)))
			}
			continue
		}
		out.roots = append(out.roots, flywayRoot{dir: root, pattern: pattern})
	}
	for _, c := range classpath {
		if len(out.roots) == 0 && !hasFilesystemLocation(st.locations) {
			r.warnf(at.file, at.line, "point --dir at the folder the classpath location is built from (src/main/resources/db/migration, say)",
				"%s", where(fmt.Sprintf("Flyway location %s is on the Java classpath, which schemagate cannot see: it reads the migration folder in its stead", c)))
			out.all = true
			continue
		}
		r.warnf(at.file, at.line, "write the location as filesystem:PATH if it is a folder of the repository",
			"%s", where(fmt.Sprintf("Flyway location %s is on the Java classpath, which schemagate cannot see: its scripts are not rehearsed", c)))
	}
	return out
}

// hasFilesystemLocation tells whether the list of locations names a filesystem location.
func hasFilesystemLocation(locations string) bool {
	for _, l := range strings.Split(locations, ",") {
		if strings.HasPrefix(strings.TrimSpace(l), "filesystem:") {
			return true
		}
	}
	return false
}

// flywayRelative is the filesystem location p as a slash path relative to the migration folder (dir on
// disk, "" when unknown), from where it was set (see the comment at the top of the file). ok is false
// for a path schemagate cannot place: an absolute one, for a folder not on disk.
func (r *reader) flywayRelative(p string, at settingAt, dir string) (rel string, ok bool) {
	p = strings.TrimSpace(p)
	native := filepath.FromSlash(p)
	switch {
	case filepath.IsAbs(native) && dir == "":
		return "", false
	case filepath.IsAbs(native):
		rel, err := filepath.Rel(dir, native)
		return filepath.ToSlash(rel), err == nil
	case at.folder || dir == "":
		return path.Clean(filepath.ToSlash(p)), true
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	rel, err = filepath.Rel(dir, filepath.Join(wd, native))
	return filepath.ToSlash(rel), err == nil
}

// splitFlywayWildcard splits a location path into the folder before its first name with a wildcard and,
// when it has one, a pattern that matches the paths the location reads: ** any number of folders, * any
// characters of one name, ? one character.
func splitFlywayWildcard(rel string) (root string, pattern *regexp.Regexp) {
	parts := strings.Split(rel, "/")
	for i, part := range parts {
		if !strings.ContainsAny(part, "*?") {
			continue
		}
		root = path.Join(parts[:i]...)
		if root == "" {
			root = "."
		}
		var b strings.Builder
		b.WriteString("^")
		glob := rel
		if root != "." {
			b.WriteString(regexp.QuoteMeta(root + "/"))
			glob = strings.Join(parts[i:], "/")
		}
		for j := 0; j < len(glob); {
			switch {
			case strings.HasPrefix(glob[j:], "**/"):
				b.WriteString("(?:.*/)?")
				j += 3
			case strings.HasPrefix(glob[j:], "**"):
				b.WriteString(".*")
				j += 2
			case glob[j] == '*':
				b.WriteString("[^/]*")
				j++
			case glob[j] == '?':
				b.WriteString("[^/]")
				j++
			default:
				c, n := utf8.DecodeRuneInString(glob[j:])
				b.WriteString(regexp.QuoteMeta(string(c)))
				j += n
			}
		}
		b.WriteString("$")
		return root, regexp.MustCompile(b.String())
	}
	return rel, nil
}
