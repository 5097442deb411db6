package migrate

import (
	"bytes"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// Fuzz inputs are folders packed into bytes: records separated by 0x1e, each "name 0x1f content".
// The seed corpora under testdata/fuzz/<FuzzName>/ are real-looking folders of each format.

func unpackFolder(data []byte) (fstest.MapFS, map[string]string) {
	fsys := fstest.MapFS{}
	files := map[string]string{}
	for i, rec := range bytes.Split(data, []byte{0x1e}) {
		if i >= 32 {
			break
		}
		name, content, ok := bytes.Cut(rec, []byte{0x1f})
		if !ok || !fs.ValidPath(string(name)) || string(name) == "." {
			continue
		}
		fsys[string(name)] = &fstest.MapFile{Data: content}
		files[string(name)] = string(content)
	}
	// A name that is both a file and a folder ("a" and "a/b") makes no sense on disk.
	for name := range fsys {
		for dir := name; dir != "."; {
			dir = pathDir(dir)
			if _, clash := fsys[dir]; clash && dir != "." {
				delete(fsys, dir)
				delete(files, dir)
			}
		}
	}
	return fsys, files
}

func pathDir(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[:i]
		}
	}
	return "."
}

// fuzzRead reads a packed folder and checks what holds for any input: no panic, only *Error problems,
// scripts that are the file's own text with statements inside them in order, and the same result twice.
func fuzzRead(t *testing.T, format Format, data []byte) { fuzzReadWith(t, format, Options{}, data) }

// fuzzReadWith is fuzzRead with the tool's settings opts.
func fuzzReadWith(t *testing.T, format Format, opts Options, data []byte) {
	fsys, files := unpackFolder(data)
	set, err := ReadWith(fsys, format, opts)
	errs := readErrors(t, err)
	for _, e := range errs {
		if e.Msg == "" || e.Line < 0 {
			t.Errorf("bad error %+v", e)
		}
	}
	if set == nil {
		if format != FormatAuto || len(errs) == 0 {
			t.Fatalf("no set and errors %v", errs)
		}
		return
	}
	if format != FormatAuto && set.Format != format {
		t.Errorf("Format = %s, want %s", set.Format, format)
	}
	for _, m := range set.Migrations {
		if m.Up == nil {
			t.Fatalf("%s has no up script", m.ID())
		}
		checkScripts(t, files, m)
		if format == FormatSQLMigrate {
			checkSQLMigrateSent(t, m)
		}
	}
	again, err2 := ReadWith(fsys, format, opts)
	if fmt.Sprint(err) != fmt.Sprint(err2) || !slices.Equal(summaries(set), summaries(again)) {
		t.Errorf("two reads differ:\n%v\n%v", err, err2)
	}
	for i := range again.Migrations {
		if again.Migrations[i].Checksum != set.Migrations[i].Checksum {
			t.Errorf("%s: checksum differs between reads", set.Migrations[i].ID())
		}
	}
}

// checkSQLMigrateSent checks that sql-migrate's statements are what it sends: without a line that starts
// with "-- " (sqlMigrateDrops). (bufio.ScanLines takes one carriage return off a line: "0\r\r\n" is
// sent as "0\r\n", so a CR before a line break may stay.)
func checkSQLMigrateSent(t *testing.T, m *Migration) {
	t.Helper()
	for _, s := range []*Script{m.Up, m.Down} {
		if s == nil {
			continue
		}
		for _, st := range s.Statements {
			if strings.Contains(st.SQL, "\n-- ") {
				t.Errorf("%s: statement at %v holds a line sql-migrate does not send: %q", s.File, st.Pos, st.SQL)
			}
		}
	}
}

func FuzzReadGoose(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) { fuzzRead(t, FormatGoose, b) })
}
func FuzzReadDbmate(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) { fuzzRead(t, FormatDbmate, b) })
}
func FuzzReadSQLMigrate(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) { fuzzRead(t, FormatSQLMigrate, b) })
}
func FuzzReadGolangMigrate(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) { fuzzRead(t, FormatGolangMigrate, b) })
}

// FuzzReadGolangMigrateMultiStatement reads golang-migrate folders as x-multi-statement runs them (its
// seeds are FuzzReadGolangMigrate's, with files cut inside function bodies, strings and comments).
func FuzzReadGolangMigrateMultiStatement(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzReadWith(t, FormatGolangMigrate, Options{MultiStatement: true, MultiStatementMaxSize: 100}, b)
	})
}
func FuzzReadFlyway(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) { fuzzRead(t, FormatFlyway, b) })
}
func FuzzReadSqitch(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) { fuzzRead(t, FormatSqitch, b) })
}
func FuzzReadPlain(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) { fuzzRead(t, FormatPlain, b) })
}
func FuzzReadAuto(f *testing.F) { f.Fuzz(func(t *testing.T, b []byte) { fuzzRead(t, FormatAuto, b) }) }
func FuzzReadAtlas(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) { fuzzRead(t, FormatAtlas, b) })
}
