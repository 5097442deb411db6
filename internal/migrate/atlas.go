package migrate

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// atlas (atlasgo.io versioned migrations): {version}_{name}.sql files at the top of the folder, applied
// in the byte order of their names, each in its own transaction unless a file directive says
// "-- atlas:txmode none". atlas.sum holds a running SHA-256 of the file names and contents; Atlas
// refuses to apply a folder that does not match it, and so does the rehearsal. There are no down files.

const atlasSum = "atlas.sum"

// atlasDirective is a file directive as Atlas reads it (reDirective in ariga.io/atlas sql/migrate/dir.go):
// "atlas:name args" after any printable ASCII ("-- ", "# ", "-- note: "), on a line of the comment block
// at the top of the file, which a blank line separates from the SQL (atlasFileDirectives).
var atlasDirective = regexp.MustCompile(`^[ -~]*atlas:(\w+)(?: +([ -~]*))*`)

func (r *reader) readAtlas() {
	var names []string
	for _, name := range r.topFiles(nil) {
		if isSQL(name) && strings.HasSuffix(name, ".sql") {
			names = append(names, name)
		}
	}
	sort.Strings(names) // Atlas orders by name, byte by byte
	contents := make([]string, len(names))
	for i, name := range names {
		src, ok := r.load(name)
		if !ok {
			contents[i] = "\x00" // unreadable: reported; kept out of the sum check
			continue
		}
		contents[i] = src
		version, desc, _ := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		m := &Migration{Version: version, Name: desc, Up: script(name, src, 0, len(src), nil)}
		ds, hidden := atlasFileDirectives(src)
		if hidden != "" {
			r.warnf(name, 1, "make the line after the comments empty (LF line endings, no byte-order mark) for Atlas to read them",
				"Atlas ignores this file's directives %s; the rehearsal ignores them too, as Atlas would", hidden)
		}
		for _, d := range ds {
			switch d.name {
			case "txmode":
				switch d.args {
				case "none":
					m.NoTransaction, m.Up.NoTransaction = true, true
				case "file":
				default:
					r.errorf(name, d.line, "write -- atlas:txmode none or file", "unknown atlas:txmode %q", d.args)
				}
			case "delimiter":
				r.errorf(name, d.line, "end statements with semicolons: schemagate splits them with PostgreSQL's parser",
					"atlas:delimiter is not supported")
			case "checkpoint":
				r.errorf(name, d.line, "rehearse the folder without checkpoint files",
					"atlas:checkpoint files are not supported: Atlas starts a new database from the last one")
			}
		}
		r.checkEmpty(m, 0, "atlas", "file")
		r.migrations = append(r.migrations, m)
	}
	r.checkDuplicates(func(m *Migration) string { return m.Version })
	if !r.lone { // atlas.sum sums the whole folder
		r.checkAtlasSum(names, contents)
	}
}

type atlasDirectiveLine struct {
	name, args string
	line       int
}

// atlasFileDirectives returns the directives of a file's top comment block as Atlas reads them
// (LocalFile.comments and directive in ariga.io/atlas sql/migrate/dir.go): the block starts the file
// with "--" or "#"; each of its lines, trimmed, is a directive when it reads "<printable ASCII>atlas:name
// args"; and it counts only when a blank line of spaces or tabs ends it ("\n" after them: otherwise the
// comments belong to the first statement and Atlas ignores them). hidden says why a block that would
// hold directives on a closer reading does not (a byte-order mark before it, a carriage return on the
// blank line after it): Atlas ignores them, which its user does not see.
func atlasFileDirectives(src string) (ds []atlasDirectiveLine, hidden string) {
	if ds, ok := atlasCommentBlock(src, " \t"); ok {
		return ds, ""
	}
	bom := strings.HasPrefix(src, "\uFEFF")
	if ds, ok := atlasCommentBlock(strings.TrimPrefix(src, "\uFEFF"), " \t\r"); ok && len(ds) > 0 {
		names := make([]string, len(ds))
		for i, d := range ds {
			names[i] = strings.TrimSpace("atlas:" + d.name + " " + d.args)
		}
		why := "the blank line after them ends in a carriage return (CRLF), which Atlas does not take for a blank line"
		if bom {
			why = "the file starts with a byte-order mark, so to Atlas its first line is no comment"
		}
		return nil, strings.Join(names, ", ") + ": " + why
	}
	return nil, ""
}

// atlasCommentBlock reads the comment block at the start of src as Atlas does; blank is what the line
// after it may hold before its "\n" (Atlas: spaces and tabs).
func atlasCommentBlock(src, blank string) (ds []atlasDirectiveLine, ok bool) {
	content := src
	for line := 1; strings.HasPrefix(content, "#") || strings.HasPrefix(content, "--"); line++ {
		end := strings.IndexByte(content, '\n')
		if end < 0 {
			return nil, false // comments only
		}
		if m := atlasDirective.FindStringSubmatch(strings.TrimSpace(content[:end])); m != nil {
			ds = append(ds, atlasDirectiveLine{name: m[1], args: m[2], line: line})
		}
		content = content[end+1:]
	}
	if !strings.HasPrefix(strings.TrimLeft(content, blank), "\n") {
		return nil, false
	}
	return ds, true
}

// checkAtlasSum compares atlas.sum with the folder as Atlas does (migrate.Validate), and names the files
// that differ.
func (r *reader) checkAtlasSum(names, contents []string) {
	const hint = "run atlas migrate hash after changing migration files: Atlas refuses to apply a folder whose atlas.sum does not match"
	if !r.exists(atlasSum) {
		if len(names) > 0 {
			r.errorf(atlasSum, 0, hint, "atlas.sum is missing")
		}
		return
	}
	src, ok := r.load(atlasSum)
	if !ok {
		return
	}
	type entry struct{ name, hash string }
	var listed []entry
	sc := bufio.NewScanner(strings.NewReader(src))
	sc.Buffer(nil, 1<<20)
	sc.Scan()
	total, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "h1:")
	if !ok {
		r.errorf(atlasSum, 1, hint, "atlas.sum does not start with h1:<sum>")
		return
	}
	for line := 2; sc.Scan(); line++ {
		n, h, ok := strings.Cut(sc.Text(), "h1:")
		if !ok {
			r.errorf(atlasSum, line, hint, "malformed atlas.sum line")
			return
		}
		listed = append(listed, entry{strings.TrimSpace(n), strings.TrimSpace(h)})
	}
	sum := func(es []entry) string {
		h := sha256.New()
		for _, e := range es {
			h.Write([]byte(e.name))
			h.Write([]byte(e.hash))
		}
		return base64.StdEncoding.EncodeToString(h.Sum(nil))
	}
	if sum(listed) != total {
		r.errorf(atlasSum, 1, hint, "atlas.sum was edited by hand: its first line does not match its entries")
		return
	}
	// The folder's own hash file: a running hash, so a change to one file changes every entry after it;
	// the first entry that differs names the file that changed.
	var have []entry
	h := sha256.New()
	for i, name := range names {
		if contents[i] == "\x00" {
			return // an unreadable file is reported already
		}
		h.Write([]byte(name))
		if d, ok := atlasSumDirective(contents[i]); ok && d == "ignore" {
			continue
		}
		h.Write([]byte(contents[i]))
		have = append(have, entry{name, base64.StdEncoding.EncodeToString(h.Sum(nil))})
	}
	if sum(have) == total {
		return
	}
	inSum := map[string]bool{}
	for _, e := range listed {
		inSum[e.name] = true
	}
	onDisk := map[string]bool{}
	for _, e := range have {
		onDisk[e.name] = true
	}
	for i := 0; i < len(have) || i < len(listed); i++ {
		switch {
		case i < len(have) && !inSum[have[i].name]:
			r.errorf(have[i].name, 0, hint, "%s is not in atlas.sum", have[i].name)
		case i < len(listed) && !onDisk[listed[i].name]:
			r.errorf(atlasSum, i+2, hint, "atlas.sum lists %s, which is not in the folder", listed[i].name)
		case i < len(have) && i < len(listed) && have[i] != listed[i]:
			r.errorf(have[i].name, 0, hint, "%s changed since atlas.sum was written", have[i].name)
		default:
			continue
		}
		return // later entries differ because this one does
	}
	r.errorf(atlasSum, 0, hint, "atlas.sum does not match the folder")
}

// atlasSumDirective is Atlas's test for "atlas:sum ignore": a directive on the file's first line.
func atlasSumDirective(content string) (string, bool) {
	line, _, _ := strings.Cut(content, "\n")
	i := strings.Index(line, "atlas:sum")
	if i < 0 || strings.ContainsFunc(line[:i], func(r rune) bool { return r < ' ' || r > '~' }) {
		return "", false
	}
	return strings.TrimSpace(strings.TrimPrefix(line[i:], "atlas:sum")), true
}

// AtlasSum is the atlas.sum that atlas migrate hash writes for the .sql files among files (name to
// content): a running SHA-256 over each name and content, files starting "-- atlas:sum ignore" named
// but not summed.
func AtlasSum(files map[string]string) string {
	var names []string
	for n := range files {
		if strings.HasSuffix(n, ".sql") {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	h, total := sha256.New(), sha256.New()
	var lines strings.Builder
	for _, n := range names {
		h.Write([]byte(n))
		if strings.HasPrefix(files[n], "-- atlas:sum ignore") {
			continue
		}
		h.Write([]byte(files[n]))
		e := base64.StdEncoding.EncodeToString(h.Sum(nil))
		total.Write([]byte(n + e))
		fmt.Fprintf(&lines, "%s h1:%s\n", n, e)
	}
	return "h1:" + base64.StdEncoding.EncodeToString(total.Sum(nil)) + "\n" + lines.String()
}
