package migrate

import (
	"strings"
	"testing"
)

func TestReadSQLMigrate(t *testing.T) {
	t.Parallel()
	runReadCases(t, FormatSQLMigrate, []readCase{
		{
			name: "sections, options, order",
			files: map[string]string{
				"10_c.sql":  "-- +migrate Up notransaction\nCREATE INDEX CONCURRENTLY i ON t (id);\n-- +migrate Down notransaction\nDROP INDEX CONCURRENTLY i;\n",
				"2_b.sql":   "-- +migrate Down\nDROP FUNCTION f;\n-- +migrate Up\n-- +migrate StatementBegin\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n-- +migrate StatementEnd\n",
				"1_a.sql":   "-- +migrate Up\nCREATE TABLE t (id int);\n",
				"init.sql":  "-- +migrate Up\nSELECT 1;\n",
				"README.md": "docs",
			},
			want: []string{"1_a up:1 down:-", "2_b up:1 down:1", "10_c up:1 down:1 notx down-notx", "init up:1 down:-"},
		},
		{
			// migrate.go applyMigration runs no statement and records the file: a no-op, not an error.
			name: "an empty up with a down",
			files: map[string]string{
				"1_a.sql": "-- +migrate Up\n-- todo\n-- +migrate Down\nDROP TABLE t;\n",
			},
			want:  []string{"1_a up:0 down:1"},
			warns: []string{"1_a.sql:1: -- +migrate Up section has no SQL statement but the down script has: sql-migrate records migration 1_a and runs nothing for its up"},
		},
		{
			name: "commands are case-sensitive and spelled exactly",
			files: map[string]string{
				"1_a.sql": "-- +migrate up\n-- +migrate Up\nSELECT 1;\n--+migrate Down\n-- +migrate Upp\n-- +migrate StatementBegin notransaction\n-- +migrate\n-- +migrate Down notx\n",
			},
			// sql-migrate ignores an option it does not know: the command still counts (line 6 begins a
			// statement that never ends, line 8 a down section)
			want: []string{"1_a up:1 down:0"},
			errs: []string{`1_a.sql:1: unknown sql-migrate command "up"`, `1_a.sql:4: sql-migrate only reads commands written "-- +migrate <command>"`,
				`1_a.sql:5: unknown sql-migrate command "Upp"`, `1_a.sql:6: unknown sql-migrate option "notransaction"`,
				"1_a.sql:6: StatementBegin is never closed",
				"1_a.sql:7: empty sql-migrate command", `1_a.sql:8: unknown sql-migrate option "notx"`},
		},
		{
			name: "a misspelled option is one error",
			files: map[string]string{
				"1_t.sql": "-- +migrate Up notransactions\nCREATE TABLE t (id int);\n-- +migrate Down\nDROP TABLE t;\n",
			},
			want: []string{"1_t up:1 down:1"},
			errs: []string{`1_t.sql:1: unknown sql-migrate option "notransactions"`},
		},
		{
			name: "missing up, outside text, duplicates",
			files: map[string]string{
				"1_a.sql":  "SELECT 1;\n",
				"2_b.sql":  "SELECT 0;\n-- +migrate Up\nSELECT 1;\n",
				"02_c.sql": "-- +migrate Up\nSELECT 1;\n",
				"3_d.sql":  "-- +migrate Down\nSELECT 1;\n",
			},
			want: []string{"02_c up:1 down:-", "2_b up:1 down:-", "3_d up:0 down:1"}, // equal numbers: "02_c.sql" < "2_b.sql"
			errs: []string{"1_a.sql:0: no -- +migrate Up section", "2_b.sql:1: SQL before the first"},
			// sqlparse.go ParseMigration needs an Up or a Down command, not both.
			warns: []string{"3_d.sql:0: no -- +migrate Up section: sql-migrate runs nothing for the migration's up"},
		},
		{
			name: "split as sql-migrate splits",
			files: map[string]string{
				"1_fn.sql": "-- +migrate Up\nCREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN 1;\nEND\n$$;\n-- +migrate Down\nDROP FUNCTION f()\n",
			},
			want: []string{"1_fn up:1 down:1"},
			errs: []string{"1_fn.sql:4: sql-migrate ends a statement at this line (its last word ends with ;), inside the statement that starts on line 2 and ends on line 6",
				"1_fn.sql:8: statement without ; at the end of its last line: sql-migrate refuses the file"},
		},
		{
			// ParseMigration sets ignoreSemicolons at a StatementBegin inside a section only and clears
			// it at StatementEnd: a StatementBegin before the first section or inside a block, and a
			// StatementEnd outside one, change nothing (goose refuses them).
			name: "StatementBegin and StatementEnd sql-migrate ignores",
			files: map[string]string{
				"1_a.sql": "-- +migrate StatementBegin\n-- +migrate Up\nCREATE TABLE a (id int);\n-- +migrate StatementEnd\n" +
					"-- +migrate StatementBegin\n-- +migrate StatementBegin\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\n-- +migrate StatementEnd\n-- +migrate StatementEnd\n" +
					"-- +migrate Down\nDROP FUNCTION f();\nDROP TABLE a;\n",
			},
			want: []string{"1_a up:2 down:2"},
			warns: []string{"1_a.sql:1: ignored: sql-migrate ignores a StatementBegin before the first -- +migrate Up or -- +migrate Down line",
				"1_a.sql:4: ignored: StatementEnd without StatementBegin: sql-migrate ignores it",
				"1_a.sql:6: ignored: sql-migrate ignores a StatementBegin inside the block that starts on line 5",
				"1_a.sql:9: ignored: StatementEnd without StatementBegin"},
		},
		{
			// ParseMigration leaves out only the lines that start with "-- ": an indented comment, "--"
			// alone or "--x" is statement text, and one left at the end of a section without a line
			// ending with ; is errNoTerminator, at the next Up or Down command and at the end.
			name: "comment lines sql-migrate keeps",
			files: map[string]string{
				"1_a.sql": "-- +migrate Up\nCREATE TABLE a (id int);\n--CREATE INDEX a_i ON a (id);\n\n-- +migrate Down\nDROP TABLE a;\n  -- the end\n",
				"2_b.sql": "-- +migrate Up\nCREATE TABLE b (id int);\n--\n-- +migrate Down\nDROP TABLE b;\n",
				"3_c.sql": "-- +migrate Up\n  -- kept\nCREATE TABLE c (id int);\n-- dropped\n\n-- +migrate Down\nDROP TABLE c;\n",
			},
			want: []string{"1_a up:1 down:1", "2_b up:1 down:1", "3_c up:1 down:1"},
			errs: []string{"1_a.sql:3: sql-migrate keeps this comment line as statement text (it leaves out only lines that start with \"-- \"), and no line ending with ; follows it: sql-migrate refuses the file (\"The last statement must be ended by a semicolon",
				"1_a.sql:7: sql-migrate keeps this comment line as statement text",
				"2_b.sql:3: sql-migrate keeps this comment line as statement text"},
		},
		{
			// sql-migrate keys migrations by file name: one number may have several, ordered by name.
			name: "several migrations of one day",
			files: map[string]string{
				"20240101-b.sql": "-- +migrate Up\nSELECT 2;\n",
				"20240101-a.sql": "-- +migrate Up\nSELECT 1;\n",
				"20240102.sql":   "-- +migrate Up\nSELECT 3;\n",
			},
			want: []string{"20240101_a up:1 down:-", "20240101-b up:1 down:-", "20240102 up:1 down:-"},
		},
		{
			// migrate.go Migration.Less: leading numbers when both have one and they differ, numbered
			// first, else the file names as plain strings.
			name: "order of Migration.Less",
			files: map[string]string{
				"1_a10.sql": "-- +migrate Up\nSELECT 1;\n",
				"1_a9.sql":  "-- +migrate Up\nSELECT 2;\n",
				"01_b.sql":  "-- +migrate Up\nSELECT 3;\n",
				"2_x.sql":   "-- +migrate Up\nSELECT 4;\n",
				"10_y.sql":  "-- +migrate Up\nSELECT 5;\n",
				"a10.sql":   "-- +migrate Up\nSELECT 6;\n",
				"a9.sql":    "-- +migrate Up\nSELECT 7;\n",
				"B.sql":     "-- +migrate Up\nSELECT 8;\n",
			},
			want: []string{"01_b up:1 down:-", "1_a10 up:1 down:-", "1_a9 up:1 down:-", "2_x up:1 down:-", "10_y up:1 down:-",
				"B up:1 down:-", "a10 up:1 down:-", "a9 up:1 down:-"},
		},
		{
			// migrate.go Migration.VersionInt panics on a leading number strconv.ParseInt cannot take as
			// an int64, when Less sorts the files: 9223372036854775807 is the last one it takes.
			name: "leading number beyond int64",
			files: map[string]string{
				"99999999999999999999_a.sql": "-- +migrate Up\nCREATE TABLE a (id bigint);\n",
				"9223372036854775808_b.sql":  "-- +migrate Up\nSELECT 1;\n",
				"9223372036854775807_c.sql":  "-- +migrate Up\nSELECT 2;\n",
				"2_d.sql":                    "-- +migrate Up\nSELECT 3;\n",
			},
			want: []string{"2_d up:1 down:-", "9223372036854775807_c up:1 down:-"},
			errs: []string{`9223372036854775808_b.sql:0: sql-migrate cannot parse the leading number 9223372036854775808 as an int64: it panics ("Could not parse "9223372036854775808" into int64")`,
				"99999999999999999999_a.sql:0: sql-migrate cannot parse the leading number 99999999999999999999 as an int64"},
		},
		{
			// sql-migrate reads names ending in .sql (strings.HasSuffix, case-sensitive).
			name: "upper-case extension is ignored",
			files: map[string]string{
				"1_a.SQL": "-- +migrate Up\nSELECT 1;\n",
				"2_b.sql": "-- +migrate Up\nSELECT 2;\n",
			},
			want:  []string{"2_b up:1 down:-"},
			warns: []string{"1_a.SQL:0: ignored: sql-migrate only reads .sql files"},
		},
		{
			// sqlparse.go ParseMigration: each Up or Down command switches direction and appends to it.
			name: "repeated sections append",
			files: map[string]string{
				"1_a.sql": "-- +migrate Up\nCREATE TABLE a (id bigint);\n-- +migrate Down\nDROP TABLE a;\n-- +migrate Up\nCREATE TABLE b (id bigint);\n",
				"2_b.sql": "-- +migrate Up\nSELECT 1;\n-- +migrate Down\nSELECT -1;\n-- +migrate Up notransaction\nSELECT 2;\n-- +migrate Down\nSELECT -2;\n",
				"3_c.sql": "-- +migrate Down\nDROP TABLE IF EXISTS t;\n",
				"4_d.sql": "\uFEFF-- +migrate Up\nSELECT 1;\n",
				"5_e.sql": "\uFEFF-- a comment\n-- +migrate Up\nSELECT 1;\n",
			},
			want:  []string{"1_a up:2 down:1", "2_b up:2 down:2 notx", "3_c up:0 down:1", "4_d up:1 down:-", "5_e up:1 down:-"},
			errs:  []string{"4_d.sql:1: sql-migrate does not see a command after a byte-order mark"},
			warns: []string{"3_c.sql:0: no -- +migrate Up section"},
		},
	})
}

// TestSQLMigrateCommentLines: sql-migrate leaves every line that starts with "-- " out of the
// statements it sends (sqlparse.go ParseMigration: comments skipped, "-- +" lines never written), inside
// StatementBegin/StatementEnd, strings and dollar-quoted bodies too, and sends each line it keeps
// without a carriage return; an indented comment, "--x" and "--" stay. The statements carry that SQL,
// each positioned (and a syntax error too) where it stands in the file.
func TestSQLMigrateCommentLines(t *testing.T) {
	t.Parallel()
	up := strings.Join([]string{
		"-- +migrate Up",                   // 1
		"-- a leading comment",             // 2
		"CREATE TABLE t (",                 // 3
		"-- the id",                        // 4
		"  id int,",                        // 5
		"  -- indented: kept",              // 6
		"  name text",                      // 7
		");",                               // 8
		"-- +migrate StatementBegin",       // 9
		"CREATE FUNCTION f() RETURNS text", // 10
		"LANGUAGE plpgsql AS $$",           // 11
		"BEGIN",                            // 12
		"-- dropped inside the body",       // 13
		"--kept",                           // 14
		"  RETURN 'a",                      // 15
		"-- dropped inside the string",     // 16
		"b';",                              // 17
		"END",                              // 18
		"$$;",                              // 19
		"-- +migrate StatementEnd",         // 20
		"  INSERT INTO t VALUES (1, 'x",    // 21
		"-- +other: dropped too",           // 22
		"--",                               // 23
		"y');",                             // 24
		"-- +migrate Down",                 // 25
		"SELECT 1",                         // 26
		"-- gone",                          // 27
		"FROM FROM;",                       // 28
		"",
	}, "\n")
	want := []struct {
		sql       string
		line, col int
	}{
		{"CREATE TABLE t (\n  id int,\n  -- indented: kept\n  name text\n)", 3, 1},
		{"CREATE FUNCTION f() RETURNS text\nLANGUAGE plpgsql AS $$\nBEGIN\n--kept\n  RETURN 'a\nb';\nEND\n$$", 10, 1},
		{"INSERT INTO t VALUES (1, 'x\n--\ny')", 21, 3},
	}
	for _, crlf := range []bool{false, true} {
		src := up
		if crlf {
			src = strings.ReplaceAll(up, "\n", "\r\n")
		}
		files := map[string]string{"1_a.sql": src}
		set, err := Read(mapFS(files), FormatSQLMigrate)
		if err != nil || len(set.Migrations) != 1 {
			t.Fatalf("crlf %v: %v, %v", crlf, summaries(set), err)
		}
		m := set.Migrations[0]
		checkScripts(t, files, m)
		if len(m.Up.Statements) != len(want) {
			t.Fatalf("crlf %v: %d up statements, want %d", crlf, len(m.Up.Statements), len(want))
		}
		for i, w := range want {
			st := m.Up.Statements[i]
			if st.SQL != w.sql || st.Pos.Line != w.line || st.Pos.Column != w.col || st.Err != nil {
				t.Errorf("crlf %v: statement %d at %d:%d %q (%v)\nwant at %d:%d %q", crlf, i, st.Pos.Line, st.Pos.Column, st.SQL, st.Err, w.line, w.col, w.sql)
			}
		}
		if sts := m.Down.Statements; len(sts) != 1 || sts[0].Err == nil || sts[0].Err.Pos.Line != 28 || sts[0].Err.Pos.Column != 6 ||
			sts[0].SQL != "SELECT 1\nFROM FROM" || sts[0].Pos.Line != 26 {
			t.Errorf("crlf %v: down %+v; want SELECT 1\\nFROM FROM on line 26 with its syntax error at 28:6", crlf, sts)
		}
	}
}

// TestSQLMigrateKeys: sql-migrate records an applied migration by its file name (gorp_migrations.id is
// "2_pets.sql") and plans by it, so that name is the key: the same file keeps it when a new file of its
// number sorts before it and takes the number as version, a renamed file is another migration, and
// Find and Lookup find a migration by it. The other formats keep their version as the key.
func TestSQLMigrateKeys(t *testing.T) {
	t.Parallel()
	read := func(files map[string]string, format Format) *Set {
		t.Helper()
		set, err := Read(mapFS(files), format)
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	up := func(table string) string { return "-- +migrate Up\nCREATE TABLE " + table + " (id int);\n" }
	keys := func(set *Set) string {
		var out []string
		for _, m := range set.Migrations {
			out = append(out, m.Version+"="+m.Key())
			if !m.KeyedByFile || set.Find(m.Key()) != m || set.Lookup(m.Key()) != m {
				t.Errorf("%s: KeyedByFile %v, Find(%q) = %v, Lookup = %v", m.Up.File, m.KeyedByFile, m.Key(), set.Find(m.Key()), set.Lookup(m.Key()))
			}
		}
		return strings.Join(out, " ")
	}
	base := read(map[string]string{"1_b.sql": up("b"), "2_pets.sql": up("pets")}, FormatSQLMigrate)
	if got, want := keys(base), "1=1_b.sql 2=2_pets.sql"; got != want {
		t.Errorf("base: %q, want %q", got, want)
	}
	// 1_a.sql sorts before 1_b.sql and takes the number 1 as its version: 1_b.sql keeps its key.
	added := read(map[string]string{"1_a.sql": up("a"), "1_b.sql": up("b"), "02_pets.sql": up("pets"), "2_toys.sql": up("toys")}, FormatSQLMigrate)
	if got, want := keys(added), "1=1_a.sql 1_b=1_b.sql 02=02_pets.sql 2_toys=2_toys.sql"; got != want {
		t.Errorf("with a file sorting first: %q, want %q", got, want)
	}
	if base.Find("1_b.sql").SameText(added.Find("1_b.sql")) != true || added.Find("1") != nil {
		t.Errorf("1_b.sql is not found by its file name in both, or the number is a key")
	}
	if m := added.Lookup("1"); m == nil || m.Up.File != "1_a.sql" {
		t.Errorf("Lookup(1) = %v, want the migration of 1_a.sql, which has the number as its version", m)
	}
	// A renamed file is another migration to sql-migrate.
	renamed := read(map[string]string{"1_b.sql": up("b"), "2_add_pets.sql": up("pets")}, FormatSQLMigrate)
	if renamed.Find("2_pets.sql") != nil || renamed.Find("2_add_pets.sql") == nil {
		t.Errorf("keys after the rename: %q", keys(renamed))
	}
	gm := read(map[string]string{"2_pets.up.sql": "CREATE TABLE pets (id int);"}, FormatGolangMigrate)
	if m := gm.Migrations[0]; m.KeyedByFile || m.Key() != "2" {
		t.Errorf("golang-migrate: KeyedByFile %v, key %q, want its version", m.KeyedByFile, m.Key())
	}
}
