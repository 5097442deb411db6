package migrate

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/schemagate/schemagate/internal/sqlparse"
)

// golang-migrate (github.com/golang-migrate/migrate): {version}_{title}.up.sql and .down.sql files at
// the top of the folder, the version an unsigned 64-bit number.

// golangMigrateName is golang-migrate's own pattern (source/parse.go DefaultRegex): any extension after
// .up. or .down., so 2_b.up.pgsql, 1_a.up.SQL and an editor's backup 1_a.up.sql~ are migrations to it.
var golangMigrateName = regexp.MustCompile(`^([0-9]+)_(.*)\.(down|up)\.(.*)$`)

func (r *reader) readGolangMigrate() {
	type entry struct {
		v        uint64
		up, down *Migration // a migration per file; merged below
		badUp    bool       // the up file is there but could not be read (reported)
		// emptyUp is set when the up file is blank (reported): golang-migrate runs nothing for it and
		// records the version all the same.
		emptyUp bool
	}
	byVersion := map[uint64]*entry{}
	var later []func() // the files' parses, run together on all cores
	// golang-migrate only opens names that match its pattern, which starts with a digit: a dot file such
	// as Emacs' lock file .#1_a.up.sql (a dangling link) is never looked at.
	keep := func(name string) bool {
		return leadingDigits(name) != "" || isSQL(name) && !strings.HasPrefix(name, ".")
	}
	for _, name := range r.topFiles(keep) {
		// golang-migrate skips every name its source.Parse refuses (source/iofs Init: "continue" on its
		// error), so such a file never runs and the folder migrates without it: a note, not an error.
		match := golangMigrateName.FindStringSubmatch(name)
		if match == nil && !isSQL(name) {
			continue // not SQL: skipped without a word
		}
		if match == nil {
			r.warnf(name, 0, golangMigrateNameHint(name), "ignored: not a golang-migrate file name: golang-migrate never runs it (it skips the names it cannot parse)")
			continue
		}
		v, err := strconv.ParseUint(match[1], 10, 64)
		if err != nil {
			r.warnf(name, 0, "golang-migrate versions are whole numbers up to 18446744073709551615",
				"ignored: golang-migrate never runs it: its version %s is larger than golang-migrate reads, so it skips the file", match[1])
			continue
		}
		if !strings.EqualFold(match[4], "sql") {
			r.warnf(name, 0, "rename or move it if it is not a migration",
				"read as a migration: golang-migrate runs every {version}_{title}.up.* and .down.* file, whatever the extension (here .%s)", match[4])
		}
		e := byVersion[v]
		if e == nil {
			e = &entry{v: v}
			byVersion[v] = e
		}
		src, ok := r.loadText(name)
		if ok && strings.TrimSpace(src) == "" { // as golang-migrate tells (a byte-order mark is no space)
			// golang-migrate sends nothing for a blank file (database/postgres/postgres.go runStatement:
			// "if strings.TrimSpace(query) == \"\" { return nil }") and records the version all the same
			// (migrate.go runMigrations): an empty down marks an irreversible migration, an empty up a
			// migration that does nothing, kept for its version.
			if match[3] == "down" {
				r.warnf(name, 0, "delete it, or write the SQL that undoes the up",
					"empty down file: golang-migrate runs nothing, so the migration has no down")
			} else {
				r.warnf(name, 0, "write the migration's SQL, if it is missing",
					"empty up file: golang-migrate records version %d and runs nothing", v)
				e.emptyUp = true
			}
		}
		if !ok {
			if match[3] == "up" {
				e.badUp = true // already reported: its down is not "without an up"
			}
			continue
		}
		var sc *Script
		if r.opts.MultiStatement {
			sc = r.golangMigrateMultiScript(name, src, &later)
		} else {
			sc = golangMigrateScript(name, src, &later)
		}
		m := &Migration{Version: strconv.FormatUint(v, 10), Name: match[2], Up: sc}
		slot := &e.up
		if match[3] == "down" {
			slot = &e.down
		}
		if *slot != nil {
			r.errorf(name, 0, "give each migration its own version", "duplicate %s version %d (also %s)", match[3], v, (*slot).Up.File)
			continue
		}
		*slot = m
	}
	parseLater(later)
	entries := make([]*entry, 0, len(byVersion))
	for _, e := range byVersion {
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b *entry) int { return cmp.Compare(a.v, b.v) })
	for _, e := range entries {
		if e.badUp {
			continue
		}
		m := e.up
		if m == nil && r.lone {
			// A down file given on its own: golang-migrate sends it as it sends an up file.
			m, e.down = e.down, nil
		}
		if m == nil {
			// A version with a down file alone: golang-migrate's ReadUp finds no up, so it makes an
			// "empty" migration (migrate.go newMigration: NewMigration(nil, ...)), which runMigrations
			// runs as nothing but the version it records; migrating down runs the down file. Its up is
			// an empty script named after the file the version has.
			if e.down == nil {
				continue // its down file could not be read (reported)
			}
			file := e.down.Up.File
			m = &Migration{Version: e.down.Version, Name: e.down.Name, Up: &Script{File: file}}
			r.warnf(file, 0, "add the matching .up.sql file if the version should change the schema",
				"down file without an up file: golang-migrate records version %d and runs nothing for its up", e.v)
		}
		if e.down != nil {
			m.Down = e.down.Up
		}
		if !e.emptyUp && e.up != nil {
			r.checkEmpty(m, 0, "golang-migrate", "up script")
		}
		r.migrations = append(r.migrations, m)
	}
}

// golangMigrateNameFold is golangMigrateName in any case: golang-migrate's own is case-sensitive.
var golangMigrateNameFold = regexp.MustCompile(`(?i)^([0-9]+)_(.*)\.(down|up)\.(.*)$`)

// golangMigrateNameHint says how to name a .sql file that golang-migrate skips, if it is a migration.
func golangMigrateNameHint(name string) string {
	if m := golangMigrateNameFold.FindStringSubmatch(name); m != nil {
		return "golang-migrate matches .up. and .down. in lower case only: rename it " +
			m[1] + "_" + m[2] + "." + strings.ToLower(m[3]) + "." + m[4] + " if it is a migration"
	}
	// A name with a version but no .up. or .down. (0013_noup.sql, 13-x.up.sql): the rename it needs.
	if m := golangMigrateNearName.FindStringSubmatch(name); m != nil && m[2] != "" {
		base := m[1] + "_" + m[2]
		if m[3] != "" {
			return "golang-migrate reads {version}_{title}.up.sql and .down.sql, with _ after the version: rename it " + base + m[3] + ".sql if it is a migration"
		}
		return "golang-migrate reads {version}_{title}.up.sql and .down.sql: rename it " + base + ".up.sql (its down, if any, " +
			base + ".down.sql) if it is a migration; otherwise move it out of the migration folder"
	}
	return "if it is a migration, name it {version}_{title}.up.sql (with a {version}_{title}.down.sql); otherwise move it out of the migration folder"
}

// golangMigrateNearName is a .sql name with a leading version that golang-migrate does not read: the
// version, the title after the separators, and the .up.sql or .down.sql it ends with, if any.
var golangMigrateNearName = regexp.MustCompile(`^([0-9]+)[-_. ]*(.*?)(\.up|\.down)?\.(?i:sql)$`)

// golangMigrateBOM is the hint on a file that starts with a byte-order mark.
const golangMigrateBOM = "golang-migrate sends the byte-order mark to PostgreSQL, which rejects it: save the file as UTF-8 without BOM"

// golangMigrateScript is scriptLater for a golang-migrate file, which golang-migrate sends to the server
// as it is (database/postgres/postgres.go Run: io.ReadAll, then ExecContext): a byte-order mark is not
// stripped, and PostgreSQL reads it as part of the first word, a syntax error at 1:1. The script keeps
// it, so that the rehearsal fails as the deploy would, and the parse error says why.
func golangMigrateScript(file, src string, later *[]func()) *Script {
	if !strings.HasPrefix(src, "\uFEFF") {
		return scriptLater(file, src, later)
	}
	s := &Script{File: file, SQL: src, bom: true}
	*later = append(*later, func() {
		s.Statements = sqlparse.ParseRange(src, 0, len(src), nil)
		if len(s.Statements) > 0 && s.Statements[0].Err != nil {
			s.Statements[0].Err.Message += " (" + golangMigrateBOM + ")"
		}
	})
	return s
}

// golangMigrateMaxSize is golang-migrate's x-multi-statement-max-size by default
// (database/postgres DefaultMultiStatementMaxSize), and golangMigrateBuf the buffer its scanner starts
// with (database/multistmt StartBufSize): bufio.Scanner only refuses a piece once that buffer is full, so
// a limit below it is the buffer's size.
const (
	golangMigrateMaxSize = 10 << 20
	golangMigrateBuf     = 4096
)

// golangMigratePieces cuts src as golang-migrate's x-multi-statement does (database/multistmt Parse): at
// every ';', which ends its piece, whether or not it ends a statement; the rest after the last one is a
// piece too. Each is [start, end) in src.
func golangMigratePieces(src string) [][2]int {
	var out [][2]int
	for start := 0; start < len(src); {
		end := len(src)
		if i := strings.IndexByte(src[start:], ';'); i >= 0 {
			end = start + i + 1
		}
		out = append(out, [2]int{start, end})
		start = end
	}
	return out
}

// golangMigrateMultiScript is golangMigrateScript for golang-migrate with x-multi-statement=true
// (Options.MultiStatement): its PostgreSQL drivers send each piece golangMigratePieces cuts as a query
// of its own, skipping those of nothing but white space (runStatement). The statements are parsed piece
// by piece as the server reads them: a ';' inside a function body, a string or a comment cuts the
// statement there, and the pieces fail to parse (or, cut out of a comment, run) as they do under
// golang-migrate. A piece longer than x-multi-statement-max-size fails the file, as golang-migrate's
// scanner refuses it.
func (r *reader) golangMigrateMultiScript(file, src string, later *[]func()) *Script {
	s := &Script{File: file, SQL: src, bom: strings.HasPrefix(src, "\uFEFF")}
	pieces := golangMigratePieces(src)
	limit := r.opts.MultiStatementMaxSize
	if limit <= 0 {
		limit = golangMigrateMaxSize
	}
	lines := sqlparse.NewLines(src)
	// from is the line a piece's text starts on (past the line break after the ';' before it).
	from := func(p [2]int) int {
		piece := src[p[0]:p[1]]
		return lines.Pos(p[0] + len(piece) - len(strings.TrimLeft(piece, " \t\r\n"))).Line
	}
	for _, p := range pieces {
		if n := p[1] - p[0]; n > max(limit, golangMigrateBuf) {
			r.errorf(file, from(p), "raise x-multi-statement-max-size (golang_migrate.multi_statement_max_size in schemagate.yml) above it, or cut the statement",
				"golang-migrate with x-multi-statement fails this file: the piece from here to the next ';' is %d bytes, more than x-multi-statement-max-size (%d), and its reader stops with \"bufio.Scanner: token too long\" (the pieces before it have run)", n, limit)
			break
		}
	}
	hidden := sqlparse.HiddenSemicolons(src)
	if len(hidden) > 0 {
		pos := lines.Pos(hidden[0])
		r.warnf(file, pos.Line, "keep ';' out of function bodies, strings and comments in this folder, or run it without x-multi-statement",
			"golang-migrate with x-multi-statement cuts the file at every ';', and this one (column %d) is inside a function body, a string, a comment or parentheses: it sends the text before and after it as statements of their own (%d such cut%s in the file)",
			pos.Column, len(hidden), map[bool]string{true: "s"}[len(hidden) > 1])
	}
	*later = append(*later, func() {
		cut := map[int]bool{}
		for _, h := range hidden {
			cut[h] = true
		}
		for _, p := range pieces {
			sts := sqlparse.ParseRange(src, p[0], p[1], lines)
			for i := range sts {
				st := &sts[i]
				if st.Err == nil {
					continue
				}
				if p[0] == 0 && s.bom && i == 0 {
					st.Err.Message += " (" + golangMigrateBOM + ")"
				}
				if cut[p[1]-1] || p[0] > 0 && cut[p[0]-1] {
					st.Err.Message += " (golang-migrate with x-multi-statement cuts the file at every ';', even one inside a function body, a string or a comment, and sends each piece as a statement of its own: this piece runs from line " +
						strconv.Itoa(from(p)) + " to line " + strconv.Itoa(lines.Pos(p[1]-1).Line) + ")"
				}
			}
			s.Statements = append(s.Statements, sts...)
		}
	})
	return s
}
