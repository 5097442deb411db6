package migrate

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/schemagate/schemagate/internal/sqlparse"
)

// symlinkTo marks a mapFS entry as a symbolic link to the rest of its content.
const symlinkTo = "\x00symlink:"

// mapFS builds a folder from file names and contents (symlinkTo+target for a symbolic link).
func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for name, content := range files {
		if target, ok := strings.CutPrefix(content, symlinkTo); ok {
			m[name] = &fstest.MapFile{Data: []byte(target), Mode: fs.ModeSymlink}
			continue
		}
		m[name] = &fstest.MapFile{Data: []byte(content)}
	}
	return m
}

// readErrors splits Read's error into its *Error parts; it fails the test on anything else.
func readErrors(t testing.TB, err error) []*Error {
	t.Helper()
	if err == nil {
		return nil
	}
	var parts []error
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		parts = joined.Unwrap()
	} else {
		parts = []error{err}
	}
	out := make([]*Error, 0, len(parts))
	for _, p := range parts {
		var e *Error
		if !errors.As(p, &e) {
			t.Fatalf("error %q (%T) is not a *migrate.Error", p, p)
		}
		out = append(out, e)
	}
	return out
}

// summary describes a migration in one line: "ID up:N down:N" (statement counts, - when absent) and flags.
func summary(m *Migration) string {
	count := func(s *Script) string {
		if s == nil {
			return "-"
		}
		return fmt.Sprint(len(s.Statements))
	}
	out := fmt.Sprintf("%s up:%s down:%s", m.ID(), count(m.Up), count(m.Down))
	if m.Verify != nil {
		out += " verify:" + count(m.Verify)
	}
	if m.NoTransaction {
		out += " notx"
	}
	if m.Down != nil && m.Down.NoTransaction {
		out += " down-notx"
	}
	if m.EnvSub {
		out += " envsub"
	}
	if m.Repeatable {
		out += " repeatable"
	}
	if m.External != "" {
		out += " external=" + m.External
	}
	if len(m.Requires) > 0 {
		out += " requires=" + strings.Join(m.Requires, ",")
	}
	return out
}

func summaries(set *Set) []string {
	if set == nil {
		return nil
	}
	out := make([]string, len(set.Migrations))
	for i, m := range set.Migrations {
		out[i] = summary(m)
	}
	return out
}

// describe renders problems as "file:line: message" without hints, for comparing with substrings.
func describe(errs []*Error) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return out
}

// readCase is one table row shared by the format tests.
type readCase struct {
	name   string
	files  map[string]string
	want   []string // migration summaries, in order
	errs   []string // each error, as "file:line: message substring", in order
	warns  []string // each warning, same form
	format Format   // FormatAuto when empty: the case also checks detection
}

func runReadCases(t *testing.T, format Format, cases []readCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := cmpOr(tc.format, format)
			set, err := Read(mapFS(tc.files), f)
			errs := readErrors(t, err)
			matchProblems(t, "error", describe(errs), tc.errs)
			if set == nil {
				t.Fatalf("Read returned no set (err %v)", err)
			}
			if set.Format != format {
				t.Errorf("Format = %s, want %s", set.Format, format)
			}
			matchProblems(t, "warning", describe(set.Warnings), tc.warns)
			if got := summaries(set); !slices.Equal(got, tc.want) {
				t.Errorf("migrations:\n got %q\nwant %q", got, tc.want)
			}
			for _, m := range set.Migrations {
				checkScripts(t, tc.files, m)
			}
		})
	}
}

func cmpOr(a, b Format) Format {
	if a != "" {
		return a
	}
	return b
}

func matchProblems(t *testing.T, kind string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%ss:\n got %q\nwant %q", kind, got, want)
		return
	}
	for i := range got {
		file, msg, _ := strings.Cut(want[i], " ")
		if !strings.HasPrefix(got[i], file+" ") || !strings.Contains(got[i], msg) {
			t.Errorf("%s %d = %q, want %q then %q", kind, i, got[i], file, msg)
		}
	}
}

// checkScripts verifies what every script promises: SQL is the file's text at Start, statements lie
// inside it in order, their positions agree with the file's lines, and the checksum is set.
func checkScripts(t testing.TB, files map[string]string, m *Migration) {
	t.Helper()
	if len(m.Checksum) != 64 {
		t.Errorf("%s: checksum %q", m.ID(), m.Checksum)
	}
	for _, s := range []*Script{m.Up, m.Down, m.Verify} {
		if s == nil {
			continue
		}
		src, ok := files[s.File]
		if !ok {
			t.Errorf("%s: script file %q is not in the folder", m.ID(), s.File)
			continue
		}
		written := s.SQL
		if s.Source != "" {
			written = s.Source // variables substituted: the statements are in the substituted text
		}
		if s.Start < 0 || s.Start+len(written) > len(src) || src[s.Start:s.Start+len(written)] != written {
			t.Errorf("%s: SQL of %s is not the file's text at offset %d", m.ID(), s.File, s.Start)
			continue
		}
		if s.Source != "" {
			src = src[:s.Start] + s.SQL + src[s.Start+len(s.Source):]
		}
		checkStatements(t, src, s.Start, s.Start+len(s.SQL), s)
	}
}

func checkStatements(t testing.TB, src string, start, end int, s *Script) {
	t.Helper()
	prev := start
	for _, st := range s.Statements {
		if st.Pos.Offset < prev || st.End < st.Pos.Offset || st.End > end {
			t.Errorf("%s: statement %q at %d..%d outside %d..%d or out of order", s.File, st.SQL, st.Pos.Offset, st.End, prev, end)
			return
		}
		// goose and sql-migrate send their statements line by line, sql-migrate without the lines it
		// drops (scannedScript).
		scanned, _, _ := scannedText(src, st.Pos.Offset, st.End, nil)
		dropped, _, _ := scannedText(src, st.Pos.Offset, st.End, sqlMigrateDrops)
		if !strings.HasPrefix(src[st.Pos.Offset:], st.SQL) && !strings.HasPrefix(scanned, st.SQL) && !strings.HasPrefix(dropped, st.SQL) &&
			!strings.Contains(src[st.Pos.Offset:st.End], "\x00") {
			t.Errorf("%s: statement %q is not the file's text at %v", s.File, st.SQL, st.Pos)
		}
		line := 1 + strings.Count(src[:st.Pos.Offset], "\n")
		lineStart := strings.LastIndexByte(src[:st.Pos.Offset], '\n') + 1
		if line == 1 && strings.HasPrefix(src, "\uFEFF") {
			lineStart = min(len("\uFEFF"), st.Pos.Offset) // an editor shows no column for the mark
		}
		col := 1 + len([]rune(src[lineStart:st.Pos.Offset]))
		if st.Pos.Line != line || st.Pos.Column != col {
			t.Errorf("%s: statement %q at %d:%d, want %d:%d", s.File, st.SQL, st.Pos.Line, st.Pos.Column, line, col)
		}
		prev = st.End
	}
}

func TestReadUnknownFormat(t *testing.T) {
	t.Parallel()
	set, err := Read(mapFS(map[string]string{"1.sql": "SELECT 1;"}), Format("liquibase"))
	errs := readErrors(t, err)
	if set != nil || len(errs) != 1 || !strings.Contains(errs[0].Msg, `unknown migration format "liquibase"`) ||
		!strings.Contains(errs[0].Msg, "golang-migrate") {
		t.Fatalf("Read = %v, %v; want one unknown-format error naming the formats", set, err)
	}
}

func TestReadNoMigrations(t *testing.T) {
	t.Parallel()
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			t.Parallel()
			_, err := Read(mapFS(map[string]string{"README.md": "# migrations\n"}), f)
			errs := readErrors(t, err)
			if len(errs) != 1 || !strings.Contains(errs[0].Msg, "no "+string(f)+" migrations found") || errs[0].Hint == "" {
				t.Fatalf("err = %v; want one no-migrations error with a hint of what was looked for", err)
			}
		})
	}
	_, err := Read(mapFS(map[string]string{"README.md": "#"}), FormatAuto)
	errs := readErrors(t, err)
	if len(errs) != 1 || errs[0].Msg != "no migrations found" || !strings.Contains(errs[0].Hint, "sqitch.plan") {
		t.Fatalf("auto: err = %v; want no migrations found, with what was looked for", err)
	}
}

// corpora are real migration folders of other projects (see testdata/corpora/README.md, copied from the team's shared references).
const corpora = "../../testdata/corpora"

func corpus(t *testing.T, name string) fs.FS {
	t.Helper()
	dir := corpora + "/" + name
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("corpus %s: %v", name, err)
	}
	return os.DirFS(dir)
}

func TestReadCorpora(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dir    string
		format Format
		want   []string
		warns  int
	}{
		{"golang-migrate-examples", FormatGolangMigrate, []string{
			"1085649617_create_users_table up:1 down:1",
			"1185749658_add_city_to_users up:1 down:1",
			"1285849751_add_index_on_user_emails up:1 down:1 notx",
			"1385949617_create_books_table up:1 down:1",
			"1485949617_create_movies_table up:1 down:1",
			"1585849751_just_a_comment up:0 down:-",
			"1685849751_another_comment up:0 down:-",
			"1785849751_another_comment up:0 down:-",
			"1885849751_another_comment up:0 down:-",
		}, 4},
		{"goose-testdata", FormatGoose, []string{
			"1_table up:3 down:3",
			"2_insert up:3 down:1",
			"3_alter up:1 down:1",
			"4_empty up:0 down:-",
			"5_no_tx up:1 down:1 notx down-notx",
			"6_complex up:1 down:1",
		}, 1},
		{"openfga", FormatGoose, []string{
			"1_initialize_schema up:8 down:5",
			"2_add_authorization_model_version up:1 down:1",
			"3_add_reverse_lookup_index up:1 down:1",
			"4_add_authorization_model_serialized_protobuf up:1 down:1",
			"5_add_conditions_to_tuples up:2 down:2",
			"6_add_collate_index up:2 down:2 notx down-notx",
		}, 0},
		{"dbmate-testdata", FormatDbmate, []string{
			"20151129054053_test_migration up:2 down:1",
			"20200227231541_test_posts up:1 down:1",
		}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			t.Parallel()
			fsys := corpus(t, tc.dir)
			if f, err := Detect(fsys); err != nil || f != tc.format {
				t.Fatalf("Detect = %s, %v; want %s", f, err, tc.format)
			}
			set, err := Read(fsys, FormatAuto)
			if err != nil {
				t.Fatal(err)
			}
			if got := summaries(set); !slices.Equal(got, tc.want) {
				t.Errorf("migrations:\n got %q\nwant %q", got, tc.want)
			}
			if len(set.Warnings) != tc.warns {
				t.Errorf("warnings = %q, want %d", describe(set.Warnings), tc.warns)
			}
			files := readAll(t, fsys)
			for _, m := range set.Migrations {
				checkScripts(t, files, m)
				for _, s := range []*Script{m.Up, m.Down} {
					for _, st := range stmts(s) {
						if st.Err != nil {
							t.Errorf("%s:%v: %v", s.File, st.Pos, st.Err)
						}
					}
				}
			}
		})
	}
}

func TestReadCorpusKestra(t *testing.T) {
	t.Parallel()
	fsys := corpus(t, "kestra")
	if f, err := Detect(fsys); err != nil || f != FormatFlyway {
		t.Fatalf("Detect = %s, %v; want flyway", f, err)
	}
	set, err := Read(fsys, FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, m := range set.Migrations {
		versions = append(versions, m.Version)
		if m.Down != nil || m.Repeatable || m.NoTransaction {
			t.Errorf("%s: unexpected down/repeatable/no-transaction", m.ID())
		}
	}
	// V1_1 … V1_27 without V1_11, ordered by number: 1.9 before 1.10.
	var want []string
	for i := 1; i <= 27; i++ {
		if i != 11 {
			want = append(want, fmt.Sprintf("1.%d", i))
		}
	}
	if !slices.Equal(versions, want) {
		t.Errorf("versions = %q, want %q", versions, want)
	}
	if got := set.Migrations[0].ID(); got != "1.1_initial" {
		t.Errorf("first ID = %q", got)
	}
	files := readAll(t, fsys)
	for _, m := range set.Migrations {
		checkScripts(t, files, m)
		if m.Up.Empty() {
			t.Errorf("%s: no statements", m.ID())
		}
	}
}

// stmts returns the statements of a script that may be absent.
func stmts(s *Script) []sqlparse.Statement {
	if s == nil {
		return nil
	}
	return s.Statements
}

func readAll(t *testing.T, fsys fs.FS) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		out[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestNaturalCompare(t *testing.T) {
	t.Parallel()
	names := []string{"10_b.sql", "2_a.sql", "002_a.sql", "1_z.sql", "a10.sql", "a9.sql", "b.sql", "A.sql", "99999999999999999999999_x.sql"}
	slices.SortFunc(names, naturalCompare)
	want := []string{"1_z.sql", "002_a.sql", "2_a.sql", "10_b.sql", "99999999999999999999999_x.sql", "A.sql", "a9.sql", "a10.sql", "b.sql"}
	if !slices.Equal(names, want) {
		t.Errorf("sorted = %q, want %q", names, want)
	}
}

func TestMigrationID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		m    Migration
		want string
	}{
		{Migration{Version: "1", Name: "init"}, "1_init"},
		{Migration{Version: "1"}, "1"},
		{Migration{Name: "views", Repeatable: true}, "views"},
		{Migration{Version: "users", Name: "users"}, "users"},
		{Migration{Version: "users@v1", Name: "users"}, "users@v1"},
	} {
		if got := tc.m.ID(); got != tc.want {
			t.Errorf("ID(%+v) = %q, want %q", tc.m, got, tc.want)
		}
	}
}

func BenchmarkReadKestra(b *testing.B) {
	fsys := os.DirFS(corpora + "/kestra")
	for b.Loop() {
		if _, err := Read(fsys, FormatAuto); err != nil {
			b.Fatal(err)
		}
	}
}

// TestUpChecksum: the up's own checksum ignores the down and verify scripts and line endings, and
// follows every change of the up.
func TestUpChecksum(t *testing.T) {
	read := func(up, down string) *Migration {
		set, err := readMap(t, FormatGolangMigrate, map[string]string{"1_a.up.sql": up, "1_a.down.sql": down})
		if err != nil {
			t.Fatal(err)
		}
		return set.Migrations[0]
	}
	m := read("CREATE TABLE a (id int);\nCREATE INDEX ON a (id);\n", "DROP TABLE a;\n")
	if fixed := read("CREATE TABLE a (id int);\nCREATE INDEX ON a (id);\n", "DROP TABLE IF EXISTS a;\n"); fixed.Checksum == m.Checksum || !fixed.UpChecksumMatches(m.UpChecksum()) {
		t.Error("a changed down changes the up's checksum, or not the migration's")
	}
	if crlf := read("CREATE TABLE a (id int);\r\nCREATE INDEX ON a (id);\r\n", "DROP TABLE a;\r\n"); !crlf.UpChecksumMatches(m.UpChecksum()) || !m.UpChecksumMatches(crlf.UpChecksum()) {
		t.Error("line endings change the up's checksum")
	}
	if changed := read("CREATE TABLE a (id bigint);\nCREATE INDEX ON a (id);\n", "DROP TABLE a;\n"); changed.UpChecksumMatches(m.UpChecksum()) {
		t.Error("a changed up keeps its checksum")
	}
	if m.UpChecksumMatches("") {
		t.Error("an empty recorded checksum matches")
	}
	// Blank lines at the end change nothing a tool sends: a goose migration that gains its down after
	// a blank line keeps its up, for the rehearsal (SameScript) and the deploy (UpChecksumMatches).
	goose := func(text string) *Migration {
		set, err := readMap(t, FormatGoose, map[string]string{"00001_a.sql": text})
		if err != nil {
			t.Fatal(err)
		}
		return set.Migrations[0]
	}
	was := goose("-- +goose Up\nCREATE TABLE a (id int);\n")
	now := goose("-- +goose Up\nCREATE TABLE a (id int);\n\n\n-- +goose Down\nDROP TABLE a;\n")
	if now.Up.SQL == was.Up.SQL || !SameScript(now.Up, was.Up) || !now.UpChecksumMatches(was.UpChecksum()) {
		t.Errorf("blank lines before the down change the up: %q vs %q", now.Up.SQL, was.Up.SQL)
	}
	if trailing := read("CREATE TABLE a (id int);\nCREATE INDEX ON a (id);", "DROP TABLE a;\n\n"); !trailing.ChecksumMatches(m.Checksum) || !m.SameText(trailing) {
		t.Error("a file's final newline and blank lines change its checksum")
	}
	if edited := goose("-- +goose Up\nCREATE TABLE a (id int);\nSELECT 1;\n\n-- +goose Down\nDROP TABLE a;\n"); SameScript(edited.Up, was.Up) || edited.UpChecksumMatches(was.UpChecksum()) {
		t.Error("an up that gained a statement is the same")
	}
}

// TestFIFONamedLikeAMigration: a FIFO (or socket, device) named like a migration is an error naming it,
// not a migration that silently vanishes; it is never opened, so the read does not block.
func TestFIFONamedLikeAMigration(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "1_a.up.sql"), []byte("SELECT 1;"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "2_b.down.sql"), []byte("SELECT 2;"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "2_b.up.sql"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Read(os.DirFS(dir), FormatGolangMigrate)
	if err == nil || !strings.Contains(err.Error(), "2_b.up.sql") || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("error %v, want 2_b.up.sql: not a regular file", err)
	}
}

// TestNonUTF8FileName: a migration whose file name is not UTF-8 (which io/fs cannot open: "invalid
// argument") is an error that says so, naming the file with its bytes escaped.
func TestNonUTF8FileName(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "1_\xff\xfe.up.sql"), []byte("SELECT 1;"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Read(os.DirFS(dir), FormatGolangMigrate)
	if err == nil || !strings.Contains(err.Error(), `1_\xff\xfe.up.sql`) || !strings.Contains(err.Error(), "file name is not valid UTF-8") {
		t.Errorf("error %v, want the file named with its bytes escaped and its name said not to be UTF-8", err)
	}
}

// TestReadFile: one file read on its own gets the transaction mode its folder's reader gives it, and
// what only a folder holds is not asked of it: an atlas file without atlas.sum, a sqitch script without
// its plan, a golang-migrate down file or a Flyway undo script without its up.
func TestReadFile(t *testing.T) {
	t.Parallel()
	const cic = "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON users (a);\n"
	for _, tt := range []struct {
		name, file, src string
		format          Format
		noTx            bool
	}{
		{"golang-migrate up", "db/0005_idx.up.sql", cic, FormatGolangMigrate, true},
		{"golang-migrate down alone", "0005_idx.down.sql", cic, FormatGolangMigrate, true},
		{"golang-migrate, two statements", "0006_x.up.sql", "SELECT 1;\n" + cic, FormatGolangMigrate, false},
		{"flyway", "V5__idx.sql", cic, FormatFlyway, true},
		{"flyway undo alone", "U5__idx.sql", cic, FormatFlyway, true},
		{"plain", "idx.sql", cic, FormatPlain, true},
		{"sqitch without a plan", "deploy/idx.sql", cic, FormatSqitch, true},
		{"atlas without atlas.sum", "1_idx.sql", cic, FormatAtlas, false},
		{"atlas txmode none", "1_idx.sql", "-- atlas:txmode none\n\n" + cic, FormatAtlas, true},
		{"auto", "0005_idx.up.sql", cic, FormatAuto, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set, err := ReadFile(tt.file, []byte(tt.src), tt.format, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(set.Migrations) != 1 || set.Migrations[0].Up == nil || set.Migrations[0].Up.Empty() {
				t.Fatalf("want one migration of the file, got %+v", set.Migrations)
			}
			if m := set.Migrations[0]; m.NoTransaction != tt.noTx || m.Up.File != filepath.Base(tt.file) {
				t.Errorf("NoTransaction %v, file %s; want %v, %s", m.NoTransaction, m.Up.File, tt.noTx, filepath.Base(tt.file))
			}
		})
	}
	// In a folder, an undo script without its V script is still an error.
	if _, err := Read(mapFS(map[string]string{"U5__idx.sql": cic}), FormatFlyway); err == nil || !strings.Contains(err.Error(), "undo script without a versioned migration") {
		t.Errorf("a folder's lone undo script: %v", err)
	}
}
