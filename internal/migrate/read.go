package migrate

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing/fstest"
	"unicode/utf8"

	"github.com/schemagate/schemagate/internal/repofs"
	"github.com/schemagate/schemagate/internal/sqlparse"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// ReadDir reads the migration folder dir on disk (see Read) without following a symbolic link out of
// the repository that holds it (repofs): a pull request could link a migration to a secret and have the
// report quote it.
func ReadDir(dir string, format Format) (*Set, error) {
	return ReadDirWith(dir, format, Options{})
}

// ReadDirWith is ReadDir with the settings of the folder's tool that the folder does not hold.
func ReadDirWith(dir string, format Format, opts Options) (*Set, error) {
	fsys, err := repofs.Open(dir)
	if err != nil {
		return nil, err
	}
	defer fsys.Close()
	set, err := ReadWith(fsys, format, opts)
	if set != nil && set.Format == FormatSqitch {
		if w := sqitchParentConf(dir); w != nil {
			set.Warnings = append(set.Warnings, w)
		}
	}
	return set, err
}

// Read reads the migration folder fsys (rooted at the folder) in the given format; FormatAuto (or "")
// detects it first. Problems are collected rather than stopping at the first: the error joins one
// *Error per problem (file and line where there is one). Read returns the migrations it could read
// even when the error is not nil, so that callers may still show them; a statement that does not
// parse is not a read error (it stays in Script.Statements with Err set).
func Read(fsys fs.FS, format Format) (*Set, error) {
	return ReadWith(fsys, format, Options{})
}

// Options are settings of a folder's tool that the folder itself does not hold (they are given to the
// tool where it runs, as golang-migrate's are in its database URL); schemagate.yml holds them. The zero
// value is each tool's default.
type Options struct {
	// MultiStatement is golang-migrate's x-multi-statement=true: its PostgreSQL drivers then cut each file
	// at every ';' (database/multistmt Parse: bytes.Index, blind to strings, dollar quotes and comments)
	// and send each piece as a query of its own, which commits by itself, instead of the whole file as
	// one query (one implicit transaction).
	MultiStatement bool
	// MultiStatementMaxSize is x-multi-statement-max-size, the longest piece in bytes golang-migrate reads
	// (0 for its default, 10 MiB); a longer one fails the file ("bufio.Scanner: token too long").
	MultiStatementMaxSize int
}

// ReadWith is Read with the settings of the folder's tool that the folder does not hold; Set.Options
// records them.
func ReadWith(fsys fs.FS, format Format, opts Options) (*Set, error) {
	return read(&reader{fsys: fsys, opts: opts}, format)
}

// ReadFile reads src, the content of one migration file called name, as the reader of format reads
// that file in its folder (FormatAuto: the format told by the file's name and annotations, as Detect
// tells a folder's), and so runs it in the transaction mode the folder's tool would give it (see
// inferAutocommit), without what only the folder holds: the files beside it (a Flyway script's .conf
// too), atlas.sum (not checked), sqitch.plan (a sqitch script is read as psql runs it, as a plain
// folder's is). A down file alone (golang-migrate's .down.sql, a Flyway U script) is read as a
// migration whose Up is that file, since its tool runs it alike. The Set's scripts are named by name's
// base name, as the readers take the tools' file names ({version}_{name}.up.sql).
func ReadFile(name string, src []byte, format Format, opts Options) (*Set, error) {
	fsys := fstest.MapFS{filepath.Base(name): &fstest.MapFile{Data: src, Mode: 0o644}}
	return read(&reader{fsys: fsys, opts: opts, lone: true}, format)
}

// read reads r's folder in format, as ReadWith says.
func read(r *reader, format Format) (*Set, error) {
	fsys, opts := r.fsys, r.opts
	if format == "" || format == FormatAuto {
		f, err := Detect(fsys)
		if err != nil {
			return nil, err
		}
		format = f
	}
	switch format {
	case FormatGolangMigrate:
		r.readGolangMigrate()
	case FormatGoose:
		r.readGoose()
	case FormatDbmate:
		r.readDbmate()
	case FormatFlyway:
		r.readFlyway()
	case FormatSqitch:
		if r.lone {
			// Without its plan, a sqitch script is read as psql runs it: sqitch runs it with psql --file,
			// as a plain folder's files are run.
			r.readPlain()
		} else {
			r.readSqitch()
		}
	case FormatSQLMigrate:
		r.readSQLMigrate()
	case FormatPlain:
		r.readPlain()
	case FormatAtlas:
		r.readAtlas()
	default:
		_, err := ParseFormat(string(format))
		return nil, &Error{Msg: err.Error(), Hint: "pass --format auto to detect it"}
	}
	for _, m := range r.migrations {
		if format == FormatGolangMigrate && opts.MultiStatement {
			m.PerStatement = true
			for _, sc := range []*Script{m.Up, m.Down} {
				if sc != nil && !sc.NoTransaction {
					sc.NoTransaction = psqlAutocommit(sc.Statements)
				}
			}
			if m.Up != nil && m.Up.NoTransaction {
				m.NoTransaction = true
			}
		} else {
			inferAutocommit(format, m)
		}
		if format == FormatGolangMigrate && !opts.MultiStatement {
			for _, sc := range []*Script{m.Up, m.Down} {
				if sc != nil {
					sc.Alone = AloneOneQuery
					r.checkSavepoints(sc.File, "golang-migrate sends the file", "put BEGIN; before it and COMMIT; at the end of the file: golang-migrate adds neither", sc.Statements)
				}
			}
		}
		if format == FormatFlyway {
			for _, sc := range []*Script{m.Up, m.Down, m.Verify} {
				if sc != nil {
					sc.flyway = true
				}
			}
		}
		m.computeChecksum()
	}
	if len(r.migrations) == 0 && len(r.errs) == 0 {
		if dir := sqitchTopDir(r.fsys); format == FormatSqitch && dir != "" {
			r.errorf(sqitchConf, 0, "point the migration folder at "+dir+", where sqitch keeps sqitch.plan and the scripts", "no sqitch migrations found here: sqitch.conf sets top_dir = %s", dir)
		} else {
			looked := lookedFor[format]
			if r.lone {
				looked = lookedForFile[format]
			}
			r.errorf("", 0, "schemagate looked for "+looked, "no %s migrations found", format)
		}
		// The notes on the files skipped say why none was found, and a failed read shows its errors
		// alone: they go with the error.
		r.errs, r.warnings = append(r.errs, r.warnings...), nil
	}
	set := &Set{Format: format, Migrations: r.migrations, Warnings: r.warnings, Project: r.project, OutOfOrder: r.outOfOrder, Plan: r.planned,
		NoValidate: r.noValidate, IgnorePatterns: r.ignore, Options: opts}
	if format == FormatFlyway {
		set.Schemas, set.SearchPath = flywaySchemas(fsys)
	}
	sortErrors(set.Warnings)
	sortErrors(r.errs)
	errs := make([]error, len(r.errs))
	for i, e := range r.errs {
		errs[i] = e
	}
	return set, errors.Join(errs...)
}

// lookedFor says, per format, which files Read looks for; it is the hint when it finds none.
var lookedFor = map[Format]string{
	FormatGolangMigrate: "{version}_{title}.up.sql and .down.sql files at the top of the folder",
	FormatGoose:         "{version}_{name}.sql files with -- +goose Up at the top of the folder",
	FormatDbmate:        "{timestamp}_{name}.sql files with -- migrate:up at the top of the folder",
	FormatFlyway:        "V{version}__{description}.sql and R__{description}.sql files in the folder and below",
	FormatSqitch:        "a sqitch.plan file with deploy/, revert/ and verify/ folders",
	FormatSQLMigrate:    ".sql files with -- +migrate Up at the top of the folder",
	FormatPlain:         ".sql files at the top of the folder",
	FormatAtlas:         "{version}_{name}.sql files and atlas.sum at the top of the folder",
}

// lookedForFile says, per format, what ReadFile takes a file for; it is the hint when the file is none.
var lookedForFile = map[Format]string{
	FormatGolangMigrate: "a {version}_{title}.up.sql or .down.sql file",
	FormatGoose:         "a {version}_{name}.sql file with -- +goose Up",
	FormatDbmate:        "a {timestamp}_{name}.sql file with -- migrate:up",
	FormatFlyway:        "a V{version}__{description}.sql, U{version}__{description}.sql or R__{description}.sql file",
	FormatSqitch:        "a .sql file",
	FormatSQLMigrate:    "a .sql file with -- +migrate Up",
	FormatPlain:         "a .sql file",
	FormatAtlas:         "a {version}_{name}.sql file",
}

// reader collects what one Read finds: migrations, errors and warnings.
type reader struct {
	fsys       fs.FS
	opts       Options
	project    string // sqitch's %project
	outOfOrder bool   // Flyway's outOfOrder
	noValidate bool   // Flyway's validateOnMigrate=false
	ignore     []ValidatePattern
	migrations []*Migration
	planned    []*PlannedChange // sqitch: every change line of the plan that reads
	errs       []*Error
	warnings   []*Error
	// lone is set when the folder is one file given on its own (ReadFile): what only a folder holds
	// (atlas.sum, sqitch.plan, the up file a down goes with) is not asked of it.
	lone bool
}

func (r *reader) errorf(file string, line int, hint, format string, args ...any) {
	r.errs = append(r.errs, &Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

func (r *reader) warnf(file string, line int, hint, format string, args ...any) {
	r.warnings = append(r.warnings, &Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

// topFiles lists the regular files at the top of the folder, sorted by name. When keep is not nil, names
// it refuses are left out before they are looked at: a name the tool never reads (an editor's lock file
// .#1_a.up.sql, a dangling link) must not fail the folder.
func (r *reader) topFiles(keep func(name string) bool) []string {
	entries, err := fs.ReadDir(r.fsys, ".")
	if err != nil {
		r.errorf("", 0, "", "read migration folder: %v", err)
		return nil
	}
	var out []string
	for _, e := range entries {
		if keep != nil && !keep(e.Name()) {
			continue
		}
		if r.isFile(e.Name(), e) {
			out = append(out, e.Name())
		}
	}
	return out
}

// isFile tells whether a folder entry is a file to read: a regular file, or a symbolic link to one. A link
// the folder's file system refuses to follow (repofs: it leads out of the repository) is an error.
func (r *reader) isFile(name string, d fs.DirEntry) bool {
	if d.Type().IsRegular() {
		return true
	}
	mode := d.Type()
	if mode&fs.ModeSymlink != 0 {
		info, err := fs.Stat(r.fsys, name)
		if err != nil {
			r.errorf(name, 0, "point the link at a file inside the repository (outside .git), or copy the file in", "%v", errors.Unwrap(err))
			return false
		}
		mode = info.Mode()
	}
	// A FIFO, socket or device named like a migration would otherwise vanish from the folder (or
	// leave its down "without an up"); reading it could block for good.
	if !mode.IsRegular() && !mode.IsDir() && isSQL(name) {
		r.errorf(name, 0, "replace it with a regular file", "not a regular file (%s)", mode.Type())
	}
	return mode.IsRegular()
}

// maybeFile tells whether a folder entry may be a file (detection looks at names only).
func maybeFile(d fs.DirEntry) bool { return d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0 }

// load reads a file as text. It reports non-UTF-8 content (at the line of the first bad byte) and
// files with nothing but white space, returning ok=false for both.
func (r *reader) load(name string) (string, bool) {
	src, ok := r.loadText(name)
	if ok && isBlank(src) {
		r.errorf(name, 0, "write the migration's SQL or delete the file", "empty file")
		return "", false
	}
	return src, ok
}

// loadText reads a file as text, reporting non-UTF-8 content (at the line of the first bad byte) and
// returning ok=false for it; a file with nothing but white space is no problem here.
func (r *reader) loadText(name string) (string, bool) {
	if !utf8.ValidString(name) {
		// fs.FS refuses such a name (fs.ValidPath) with "invalid argument".
		bad := FirstInvalidUTF8([]byte(name))
		quoted := strconv.Quote(name)
		r.errorf(quoted[1:len(quoted)-1], 0, "rename the file with a UTF-8 name",
			"file name is not valid UTF-8 (byte 0x%02x at offset %d)", name[bad], bad)
		return "", false
	}
	b, err := fs.ReadFile(r.fsys, name)
	if err != nil {
		r.errorf(name, 0, "", "read file: %v", err)
		return "", false
	}
	if !utf8.Valid(b) {
		bad := FirstInvalidUTF8(b)
		r.errorf(name, 1+bytes.Count(b[:bad], []byte{'\n'}), "save the file as UTF-8",
			"file is not valid UTF-8 (byte 0x%02x at offset %d)", b[bad], bad)
		return "", false
	}
	return string(b), true
}

// isBlank reports text with nothing but white space (and a byte-order mark).
func isBlank(src string) bool { return strings.TrimSpace(strings.TrimPrefix(src, "\uFEFF")) == "" }

var bom = []byte("\uFEFF")

// FirstInvalidUTF8 is the offset of the first byte of b that is not valid UTF-8; len(b) when there is none.
func FirstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		c, size := utf8.DecodeRune(b[i:])
		if c == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

// parallel runs f(0) … f(n-1) on all cores and returns when all have: readers parse files this way
// (the PostgreSQL parser is most of reading a large folder, and it is safe to call from several
// threads).
func parallel(n int, f func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(runtime.GOMAXPROCS(0), n)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// scriptLater is script(file, src, 0, len(src), nil) without its statements: parseLater fills them, for
// many scripts at once.
func scriptLater(file, src string, later *[]func()) *Script {
	s := &Script{File: file, SQL: src}
	*later = append(*later, func() { *s = *script(file, src, 0, len(src), nil) })
	return s
}

// parseLater parses the scripts scriptLater made, on all cores.
func parseLater(later []func()) { parallel(len(later), func(i int) { later[i]() }) }

// script builds the script for src[start:end] of file, with statements positioned in the file.
func script(file, src string, start, end int, lines *sqlparse.Lines) *Script {
	if start == 0 && strings.HasPrefix(src, "\uFEFF") {
		start = len("\uFEFF")
	}
	if lines == nil {
		lines = sqlparse.NewLines(src)
	}
	return &Script{File: file, SQL: src[start:end], Start: start, Statements: sqlparse.ParseRange(src, start, end, lines)}
}

// checkDuplicates reports migrations whose keys are equal; migrations must be sorted by key already.
func (r *reader) checkDuplicates(key func(*Migration) string) {
	seen := map[string]*Migration{}
	for _, m := range r.migrations {
		k := key(m)
		if prev, ok := seen[k]; ok {
			r.errorf(m.Up.File, 0, "give each migration its own version",
				"duplicate version %s (also %s)", m.Version, prev.Up.File)
			continue
		}
		seen[k] = m
	}
}

func sortErrors(errs []*Error) {
	slices.SortStableFunc(errs, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
}

// isSQL reports whether a file name ends in .sql (any case).
func isSQL(name string) bool { return strings.EqualFold(path.Ext(name), ".sql") }

// otherCaseSQL reports, as a read warning, a file ending in .SQL (or .Sql...) that tool never reads: goose
// (fs.Glob "*.sql"), dbmate (regexp `^(\d+).*\.sql$`), sql-migrate (strings.HasSuffix(name, ".sql")) and
// Flyway (sqlMigrationSuffixes, endsWith) all match the extension case-sensitively.
func (r *reader) otherCaseSQL(name, tool string) bool {
	if !isSQL(name) || strings.HasSuffix(name, ".sql") {
		return false
	}
	r.warnf(name, 0, "rename it to end in .sql (lower-case) if it is a migration",
		"ignored: %s only reads .sql files (the extension is case-sensitive)", tool)
	return true
}

// trimSQL removes the .sql extension.
func trimSQL(name string) string { return name[:len(name)-len(path.Ext(name))] }

// leadingDigits returns the run of ASCII digits that starts s.
func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// CompareNumbers compares two strings of decimal digits by value, without overflow (versions of
// golang-migrate, goose, dbmate and Atlas, which may be longer than an int64).
func CompareNumbers(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	return cmp.Or(cmp.Compare(len(a), len(b)), cmp.Compare(a, b))
}

// naturalCompare orders names so that digit runs compare by value: 2_a.sql < 10_a.sql.
func naturalCompare(a, b string) int {
	x, y := a, b
	for x != "" && y != "" {
		dx, dy := leadingDigits(x), leadingDigits(y)
		if dx != "" && dy != "" {
			if c := CompareNumbers(dx, dy); c != 0 {
				return c
			}
			x, y = x[len(dx):], y[len(dy):]
			continue
		}
		rx, nx := utf8.DecodeRuneInString(x)
		ry, ny := utf8.DecodeRuneInString(y)
		if rx != ry {
			return cmp.Compare(rx, ry)
		}
		x, y = x[nx:], y[ny:]
	}
	return cmp.Or(cmp.Compare(len(x), len(y)), cmp.Compare(a, b))
}

// inferAutocommit marks scripts that their tool runs outside a transaction without being told:
// golang-migrate sends each file as one query (see golangMigrateAutocommit); Flyway runs a script made only of
// such statements outside a transaction. A file mixing them with other statements fails under those
// tools, and the rehearsal lets it fail the same way (Flyway's list is its parser's own:
// flywayNonTransactional). goose and sql-migrate honour a COMMIT half way through a transactional
// script (commitsHalfWay). sqitch runs a script with psql --file and no
// --single-transaction (App/Sqitch/Engine/pg.pm run_file), and plain folders are run by psql too:
// without a BEGIN of its own, each statement commits by itself. Such a script runs in autocommit when
// one transaction would fail where psql succeeds, or succeed where it fails: a statement that refuses a
// transaction block, one that acts only in one (onlyInABlock: LOCK TABLE, SET LOCAL...), or an
// enum value added and then used (ALTER TYPE ... ADD VALUE followed by more statements), a DO block
// that commits or a CALL (a procedure may commit), a COMMIT of the script's own followed by more
// statements (what follows it runs after that commit), or a BEGIN the script never commits (psql rolls
// that block back when the script ends). (Other scripts stay in one transaction, their own BEGIN and
// COMMIT skipped: they do the same when they succeed, a failure leaves nothing half done, and their
// round trip needs no copy of the database.)
func inferAutocommit(format Format, m *Migration) {
	for _, s := range []*Script{m.Up, m.Down} {
		if s == nil || s.NoTransaction || len(s.Statements) == 0 {
			continue
		}
		switch format {
		case FormatGolangMigrate:
			s.NoTransaction = golangMigrateAutocommit(s.Statements)
		case FormatGoose, FormatSQLMigrate:
			s.NoTransaction = commitsHalfWay(s.Statements)
			s.CommitsHalfWay = s.NoTransaction
		case FormatFlyway:
			all := true
			for _, st := range s.Statements {
				all = all && flywayNonTransactional(st.Node)
			}
			s.NoTransaction = all
		case FormatSqitch, FormatPlain:
			// psql runs the statements one by one: those outside the script's own BEGIN … COMMIT run
			// in no transaction block, where one that needs that works (a DO block that commits before
			// the script's BEGIN); those inside it fail as they would in the rehearsal's one transaction.
			s.NoTransaction = psqlAutocommit(s.Statements)
		}
	}
	if m.Up != nil && m.Up.NoTransaction {
		m.NoTransaction = true
	}
}

// psqlAutocommit tells whether a script whose tool sends each statement as a query of its own (psql for
// sqitch and plain folders, golang-migrate with x-multi-statement) must run statement by statement in
// autocommit here: one transaction would fail where the tool succeeds, or succeed where it fails (see
// inferAutocommit).
func psqlAutocommit(sts []sqlparse.Statement) bool {
	open, needs, split := false, false, false
	for i, st := range sts {
		more := i < len(sts)-1
		if !open && (sqlparse.NeedsAutocommit(st.Node) || sqlparse.MayEndTransaction(st.Node) || (sqlparse.AddsEnumValue(st.Node) && more) ||
			onlyInABlock(st.Node)) {
			needs = true
		}
		if t := st.Node.GetTransactionStmt(); t != nil {
			switch t.Kind {
			case pg_query.TransactionStmtKind_TRANS_STMT_BEGIN, pg_query.TransactionStmtKind_TRANS_STMT_START:
				open = true
			case pg_query.TransactionStmtKind_TRANS_STMT_COMMIT, pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK:
				open = t.Chain // AND CHAIN starts the next transaction at once
			case pg_query.TransactionStmtKind_TRANS_STMT_PREPARE:
				open = false
			}
		}
		split = split || (more && sqlparse.Commits(st.Node))
	}
	// A script that ends inside a block it opened runs statement by statement too: psql rolls that
	// block back when the script ends (and exits 0), where one transaction of the rehearsal's, its BEGIN
	// skipped, would commit it and prove a migration that never reaches the database. Run so, it
	// fails at that BEGIN (pg.EndsIdle).
	return needs || split || open
}

// leavesBlockOpen tells whether a script run statement by statement ends inside a transaction block
// it opened: a BEGIN (or a COMMIT or ROLLBACK AND CHAIN) with no COMMIT or ROLLBACK after it.
func leavesBlockOpen(sts []sqlparse.Statement) bool {
	open := false
	for _, st := range sts {
		if t := st.Node.GetTransactionStmt(); t != nil {
			switch t.Kind {
			case pg_query.TransactionStmtKind_TRANS_STMT_BEGIN, pg_query.TransactionStmtKind_TRANS_STMT_START:
				open = true
			case pg_query.TransactionStmtKind_TRANS_STMT_COMMIT, pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK:
				open = t.Chain
			case pg_query.TransactionStmtKind_TRANS_STMT_PREPARE:
				open = false
			}
		}
	}
	return open
}

// checkSavepoints reports a SAVEPOINT, RELEASE or ROLLBACK TO outside a transaction block of the
// script's own in statements a tool sends as one query (golang-migrate's files, dbmate's
// transaction:false sections): PostgreSQL runs such a query as one implicit transaction block, where
// these fail (25P01, "SAVEPOINT can only be used in transaction blocks"), while the rehearsal's
// transaction would let them pass. LOCK TABLE and SET LOCAL do work in that block.
func (r *reader) checkSavepoints(file, sends, hint string, sts []sqlparse.Statement) {
	open := false
	for _, st := range sts {
		if st.Err != nil || st.Node == nil {
			continue
		}
		t := st.Node.GetTransactionStmt()
		if t == nil {
			continue
		}
		switch t.Kind {
		case pg_query.TransactionStmtKind_TRANS_STMT_BEGIN, pg_query.TransactionStmtKind_TRANS_STMT_START:
			open = true
		case pg_query.TransactionStmtKind_TRANS_STMT_COMMIT, pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK:
			open = open && t.Chain
		case pg_query.TransactionStmtKind_TRANS_STMT_PREPARE:
			open = false
		case pg_query.TransactionStmtKind_TRANS_STMT_SAVEPOINT, pg_query.TransactionStmtKind_TRANS_STMT_RELEASE, pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO:
			if open {
				continue
			}
			word := map[pg_query.TransactionStmtKind]string{
				pg_query.TransactionStmtKind_TRANS_STMT_SAVEPOINT:   "SAVEPOINT",
				pg_query.TransactionStmtKind_TRANS_STMT_RELEASE:     "RELEASE SAVEPOINT",
				pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO: "ROLLBACK TO SAVEPOINT",
			}[t.Kind]
			r.errorf(file, st.Pos.Line, hint,
				"%s as one query, which PostgreSQL runs as one implicit transaction block, where %s fails (%[2]s can only be used in transaction blocks)", sends, word)
			return
		}
	}
}

// onlyInABlock tells a statement that acts only in a transaction block: outside one, as psql runs a
// script's statements without a BEGIN of its own, LOCK TABLE, SAVEPOINT, RELEASE and ROLLBACK TO fail,
// and SET LOCAL, SET CONSTRAINTS and SET TRANSACTION do nothing but warn. Such a script runs as psql
// runs it, statement by statement, so that it fails or goes on as it does there.
func onlyInABlock(n *pg_query.Node) bool {
	switch {
	case n.GetLockStmt() != nil, n.GetConstraintsSetStmt() != nil:
		return true
	case n.GetVariableSetStmt() != nil:
		v := n.GetVariableSetStmt()
		return v.IsLocal || v.Kind == pg_query.VariableSetKind_VAR_SET_MULTI && strings.EqualFold(v.Name, "TRANSACTION")
	case n.GetTransactionStmt() != nil:
		switch n.GetTransactionStmt().Kind {
		case pg_query.TransactionStmtKind_TRANS_STMT_SAVEPOINT, pg_query.TransactionStmtKind_TRANS_STMT_RELEASE, pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO:
			return true
		}
	}
	return false
}

// commitsHalfWay tells whether goose or sql-migrate runs a transactional script partly outside its
// transaction: both run its statements one by one in a transaction of their own (goose
// runSQLMigration, sql-migrate's executor), so a COMMIT of the script's commits that transaction, what
// follows it runs in autocommit, and the tool's own COMMIT at the end only warns. Such a script runs
// statement by statement here too, its COMMIT honoured (an enum value added before it can be used
// after it). One with a statement before that COMMIT that refuses a transaction block, or an enum value
// added before it with more statements between (which may use it), stays in one transaction, where it
// fails as it does under the tool.
func commitsHalfWay(sts []sqlparse.Statement) bool {
	for i, st := range sts[:max(len(sts)-1, 0)] {
		if sqlparse.Commits(st.Node) {
			for j, before := range sts[:i] {
				// Before the COMMIT, in the tool's transaction, an enum value added cannot be used yet.
				if sqlparse.NeedsAutocommit(before.Node) || sqlparse.AddsEnumValue(before.Node) && j < i-1 {
					return false
				}
			}
			return true
		}
	}
	return false
}

// golangMigrateAutocommit tells whether golang-migrate runs a file outside a transaction. Its postgres
// driver sends the whole file as one simple-protocol query (database/postgres/postgres.go Run: io.ReadAll,
// then one ExecContext), which PostgreSQL runs as follows:
//
//   - a query of a single statement is in no transaction block: CREATE INDEX CONCURRENTLY works, and
//     so does a DO block whose body commits or a CALL of a procedure that may commit (the rehearsal
//     runs it in autocommit, as the server does);
//   - a query of several statements is an implicit transaction block, where those fail (25001,
//     2D000): the rehearsal keeps such a file in one transaction, where they fail the same way;
//   - but an explicit COMMIT (or END) in it takes effect, and the statements after it run in a new
//     implicit transaction: an enum value added before it can be used after it. Such a file runs
//     statement by statement with its own BEGIN and COMMIT, as psql runs a plain file. A file whose
//     only COMMIT ends it is one transaction all the same (a BEGIN turns the implicit block into an
//     explicit one), and stays in the rehearsal's, its BEGIN and COMMIT skipped. A file that also
//     holds a statement that fails in any transaction block (CIC, a DO block that commits) stays in
//     one transaction, where it fails as it does under golang-migrate; so does one that rolls back
//     (ROLLBACK discards what the query did before it, which autocommit would keep: the rehearsal
//     refuses it).
//
// A file that ends inside a block it opened (BEGIN with no COMMIT after it) runs statement by
// statement too, and fails at that BEGIN (pg.EndsIdle): the query leaves the block open, and the
// driver then refuses to begin the transaction that records the version on that connection (lib/pq:
// "unexpected transaction status"), so migrate fails with the migration rolled back. (Its pgx driver
// sends that BEGIN, which PostgreSQL ignores, and commits the migration with the version; the
// rehearsal follows the postgres driver, which the documentation's URLs use.)
func golangMigrateAutocommit(sts []sqlparse.Statement) bool {
	if leavesBlockOpen(sts) {
		return true
	}
	if len(sts) == 1 {
		n := sts[0].Node
		return sqlparse.NeedsAutocommit(n) || sqlparse.MayEndTransaction(n)
	}
	split := false
	for _, st := range sts[:len(sts)-1] {
		split = split || sqlparse.Commits(st.Node)
	}
	if !split {
		return false
	}
	for _, st := range sts {
		if sqlparse.NeedsAutocommit(st.Node) || sqlparse.CommitsInside(st.Node) || sqlparse.EndsTransaction(st.Node) {
			return false
		}
	}
	return true
}
