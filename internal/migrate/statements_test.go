package migrate

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// readOne reads the folder files of format and returns its only migration.
func readOne(t testing.TB, format Format, files map[string]string) *Migration {
	t.Helper()
	set, err := Read(mapFS(files), format)
	if err != nil {
		t.Fatalf("read %v: %v", files, err)
	}
	if len(set.Migrations) != 1 {
		t.Fatalf("read %d migrations, want 1", len(set.Migrations))
	}
	return set.Migrations[0]
}

// TestSameStatements: an up whose text changed outside its statements (comments anywhere, blank space)
// runs the same statements; one whose tokens changed does not, comments inside strings, dollar-quoted
// bodies and quoted identifiers included, nor one whose tool now runs it outside a transaction.
func TestSameStatements(t *testing.T) {
	t.Parallel()
	const fn = "CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT 'x' -- body\n$$;\n"
	for _, tc := range []struct {
		name     string
		format   Format
		was, now string
		same     bool
	}{
		{"comment typo fixed", FormatGolangMigrate, "-- add the tabel\nCREATE TABLE a (id int);\n", "-- add the table\nCREATE TABLE a (id int);\n", true},
		{"comment line added", FormatGolangMigrate, "CREATE TABLE a (id int);\n", "-- why: audit\nCREATE TABLE a (id int);\n-- done\n", true},
		{"comment inside a statement", FormatGolangMigrate, "CREATE TABLE a (\n  id int -- key\n);\n", "CREATE TABLE a (\n  id /* the key */ int -- the key\n);\n", true},
		{"nested block comment", FormatGolangMigrate, "SELECT /* a /* b */ c */ 1;\n", "SELECT /* a /* B */ c; */ 1;\n", true},
		{"reindented", FormatGolangMigrate, "CREATE TABLE a (id int, b text);\n", "CREATE TABLE a (\n\tid int,\n\tb  text\n);\n", true},
		{"comment between statements", FormatGolangMigrate, "SELECT 1;\nSELECT 2;\n", "SELECT 1;\n/* step two; really */\nSELECT 2;\n", true},
		{"comment-looking string literal", FormatGolangMigrate, "INSERT INTO a VALUES ('-- not a comment');\n", "INSERT INTO a VALUES ('-- not a Comment');\n", false},
		{"E'' string with -- inside", FormatGolangMigrate, "SELECT E'a\\'-- b';\n", "SELECT E'a\\'-- c';\n", false},
		{"E'' string, comment after it", FormatGolangMigrate, "SELECT E'a\\'-- b'; -- one\n", "SELECT E'a\\'-- b'; -- two\n", true},
		{"block comment inside a string", FormatGolangMigrate, "SELECT '/* x */';\n", "SELECT '/* y */';\n", false},
		{"dollar-quoted body", FormatGolangMigrate, fn, strings.Replace(fn, "-- body", "-- the body", 1), false},
		{"comment inside a quoted identifier", FormatGolangMigrate, "CREATE TABLE \"a--b\" (id int);\n", "CREATE TABLE \"a--c\" (id int);\n", false},
		{"statement changed", FormatGolangMigrate, "CREATE TABLE a (id int);\n", "CREATE TABLE a (id bigint);\n", false},
		{"keyword case", FormatGolangMigrate, "CREATE TABLE a (id int);\n", "create table a (id int);\n", false},
		{"statement split in two", FormatGolangMigrate, "SELECT 1; SELECT 2;\n", "SELECT 1; SELECT 2; SELECT 3;\n", false},
		{"psql meta line (golang-migrate sends it to the server)", FormatGolangMigrate, "SELECT 1;\n\\set x 1\n", "SELECT 1;\n\\set x 2\n", false},
		{"goose comment", FormatGoose, "-- +goose Up\n-- note\nCREATE TABLE a (id int);\n", "-- +goose Up\n-- a longer note\n\nCREATE TABLE a (id int);\n", true},
		{"goose statement block", FormatGoose, "-- +goose Up\nCREATE TABLE a (id int);\n", "-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE a (id int);\n-- +goose StatementEnd\n", true},
		{"goose NO TRANSACTION", FormatGoose, "-- +goose Up\nCREATE TABLE a (id int);\n", "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE TABLE a (id int);\n", false},
		{"goose ENVSUB", FormatGoose, "-- +goose Up\nCREATE TABLE a (id int);\n", "-- +goose Up\n-- +goose ENVSUB ON\nCREATE TABLE a (id int);\n", false},
		{"dbmate comment", FormatDbmate, "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\n", "-- migrate:up\n-- the a table\nCREATE TABLE a (id int);\n\n-- migrate:down\n", true},
		{"dbmate transaction:false", FormatDbmate, "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\n", "-- migrate:up transaction:false\nCREATE TABLE a (id int);\n-- migrate:down\n", false},
		{"sql-migrate notransaction", FormatSQLMigrate, "-- +migrate Up\nCREATE TABLE a (id int);\n", "-- +migrate Up notransaction\nCREATE TABLE a (id int);\n", false},
		// An unclosed /* the splitter passes over (the server refuses the file: "unterminated /* comment").
		{"unclosed comment added at the end", FormatGolangMigrate, "CREATE TABLE a (id int);\n", "CREATE TABLE a (id int);\n/* TODO: index a later\n", false},
		{"unclosed comment over a statement", FormatGolangMigrate, "SELECT 1;\n", "SELECT 1;\n/* oops\nDROP TABLE x;\n", false},
		{"dbmate unclosed comment", FormatDbmate, "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\n", "-- migrate:up\nCREATE TABLE a (id int);\n/* todo\n-- migrate:down\n", false},
		// String constants continue each other across a line break only: 'a' /* x */ 'b' is a syntax error.
		{"comment between continued strings", FormatGolangMigrate, "SELECT 'a'\n'b';\n", "SELECT 'a' /* x */ 'b';\n", false},
		{"line comment between continued strings made a block comment", FormatGolangMigrate, "SELECT 'a' -- x\n'b';\n", "SELECT 'a' /* x */ 'b';\n", false},
		{"continued strings made one line", FormatGolangMigrate, "SELECT 'a'\n'b';\n", "SELECT 'a' 'b';\n", false},
		{"sql-migrate comment", FormatSQLMigrate, "-- +migrate Up\n-- x\nCREATE TABLE a (id int);\n", "-- +migrate Up\n-- y\nCREATE TABLE a (\n  id int);\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			name := map[Format]string{FormatGolangMigrate: "1_a.up.sql", FormatGoose: "00001_a.sql", FormatDbmate: "20240101000000_a.sql", FormatSQLMigrate: "1_a.sql"}[tc.format]
			was := readOne(t, tc.format, map[string]string{name: tc.was})
			now := readOne(t, tc.format, map[string]string{name: tc.now})
			if got := now.SameStatements(was); got != tc.same {
				a, _ := was.Up.StatementsForm()
				b, _ := now.Up.StatementsForm()
				t.Errorf("SameStatements = %v, want %v\nwas %q\nnow %q", got, tc.same, a, b)
			}
			if got := now.StatementsChecksum() == was.StatementsChecksum() && now.StatementsChecksum() != ""; got != tc.same {
				t.Errorf("equal statements checksums = %v, want %v", got, tc.same)
			}
		})
	}
}

// TestFirstChangedLine: the finding on an edit that changed no statement points at the first line that
// changed, counted in the file (a goose up section starts after its annotation).
func TestFirstChangedLine(t *testing.T) {
	t.Parallel()
	was := readOne(t, FormatGoose, map[string]string{"00001_a.sql": "-- +goose Up\nCREATE TABLE a (\n  id int -- key\n);\n"})
	now := readOne(t, FormatGoose, map[string]string{"00001_a.sql": "-- +goose Up\nCREATE TABLE a (\n  id int -- the key\n);\n"})
	if got := FirstChangedLine(now.Up, was.Up); got != 3 {
		t.Errorf("FirstChangedLine = %d, want 3", got)
	}
}

// FuzzStatementsForm: comments and blank space put between the tokens of a script never change its
// statements form, and the form never panics.
func FuzzStatementsForm(f *testing.F) {
	for _, s := range []string{"SELECT 1;", "CREATE TABLE a (id int, b text DEFAULT E'x\\'--y');", "SELECT $$ -- a $$, '/*', \"q--\";", "SELECT 1; /* /* */ */ SELECT 2;"} {
		f.Add(s, "-- c\n")
		f.Add(s, "/* c /* d */ */")
	}
	f.Add("''--", "/*\r*/") // a statement that ends the file in a -- comment
	f.Fuzz(func(t *testing.T, sql, comment string) {
		if strings.ContainsRune(sql+comment, 0) || !utf8.ValidString(sql+comment) {
			return
		}
		was, err := Read(mapFS(map[string]string{"1_a.up.sql": sql}), FormatGolangMigrate)
		if err != nil || len(was.Migrations) != 1 {
			return
		}
		form, ok := was.Migrations[0].Up.StatementsForm()
		if !ok {
			return
		}
		// The comment must be one: a -- comment ends at a line break; a block comment must close.
		if c, ok := strings.CutPrefix(comment, "--"); ok {
			if strings.ContainsAny(c, "\r\n") {
				return
			}
			comment += "\n"
		} else if !strings.HasPrefix(comment, "/*") || !closedComment(comment) {
			return
		}
		// Put it before every statement's first token and after its last.
		var b strings.Builder
		last := 0
		for _, st := range was.Migrations[0].Up.Statements {
			b.WriteString(sql[last:st.Pos.Offset])
			b.WriteString(" " + comment + " ")
			b.WriteString(st.SQL)
			// After a line break: a statement that ends the file may end with a -- comment of its own,
			// which would take in what follows on its line (a lone \r ends it too).
			b.WriteString("\n" + comment + " ")
			last = st.Pos.Offset + len(st.SQL)
		}
		b.WriteString(sql[last:])
		now, err := Read(mapFS(map[string]string{"1_a.up.sql": b.String()}), FormatGolangMigrate)
		if err != nil || len(now.Migrations) != 1 {
			t.Fatalf("with comments: %v", err)
		}
		if got, ok := now.Migrations[0].Up.StatementsForm(); !ok || got != form {
			t.Errorf("comments changed the form of %q:\n%q\n%q", sql, form, got)
		}
	})
}

// closedComment tells whether c is one block comment, nested ones closed, and nothing after it.
func closedComment(c string) bool {
	depth := 0
	for i := 0; i < len(c); i++ {
		switch {
		case strings.HasPrefix(c[i:], "/*"):
			depth++
			i++
		case strings.HasPrefix(c[i:], "*/"):
			depth--
			i++
			if depth == 0 {
				return i == len(c)-1
			}
		}
	}
	return false
}
