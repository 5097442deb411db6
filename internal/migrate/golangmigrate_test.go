package migrate

import (
	"fmt"
	"strings"
	"testing"
)

func TestReadGolangMigrate(t *testing.T) {
	t.Parallel()
	runReadCases(t, FormatGolangMigrate, []readCase{
		{
			name: "pairs in numeric order",
			files: map[string]string{
				"10_c.up.sql":    "ALTER TABLE t ADD c int;",
				"2_b.up.sql":     "CREATE INDEX i ON t (id);\nCREATE INDEX j ON t (id);",
				"2_b.down.sql":   "DROP INDEX j;\nDROP INDEX i;\n",
				"1_a.up.sql":     "CREATE TABLE t (id int);\n",
				"1_a.down.sql":   "DROP TABLE t;\n",
				"README.md":      "# docs",
				"3_.up.sql":      "SELECT 1;",
				"sub/4_x.up.sql": "SELECT 1;", // golang-migrate reads only the top of the folder
			},
			want: []string{"1_a up:1 down:1", "2_b up:2 down:2", "3 up:1 down:-", "10_c up:1 down:-"},
		},
		{
			name: "duplicates and orphans",
			files: map[string]string{
				"1_a.up.sql":      "SELECT 1;",
				"001_b.up.sql":    "SELECT 2;",
				"1_a.down.sql":    "SELECT 3;",
				"01_c.down.sql":   "SELECT 4;",
				"5_gone.down.sql": "DROP TABLE t;",
			},
			// migrate.go newMigration: a version without an up file is an "empty" migration, which
			// golang-migrate records and runs nothing for; migrating down runs its down file.
			want:  []string{"1_b up:1 down:1", "5_gone up:0 down:1"},
			errs:  []string{"1_a.down.sql:0: duplicate down version 1 (also 01_c.down.sql)", "1_a.up.sql:0: duplicate up version 1 (also 001_b.up.sql)"},
			warns: []string{"5_gone.down.sql:0: down file without an up file: golang-migrate records version 5 and runs nothing for its up"},
		},
		{
			name: "names that fit no pattern",
			files: map[string]string{
				"1_a.up.sql":                      "SELECT 1;",
				"2_b.sql":                         "SELECT 2;",
				"3_c.UP.sql":                      "SELECT 3;",
				"4_d.up.psql":                     "SELECT 4;",
				"18446744073709551616_big.up.sql": "SELECT 5;",
				"schema.sql":                      "SELECT 6;",
				"notes.txt":                       "not read",
			},
			// source/iofs Init: a name source.Parse refuses (no match, or a version beyond uint64) is
			// skipped ("continue"), so the folder still migrates without it.
			want: []string{"1_a up:1 down:-", "4_d up:1 down:-"},
			warns: []string{"18446744073709551616_big.up.sql:0: ignored: golang-migrate never runs it: its version 18446744073709551616 is larger than",
				"2_b.sql:0: ignored: not a golang-migrate file name: golang-migrate never runs it",
				"3_c.UP.sql:0: ignored: not a golang-migrate file name: golang-migrate never runs it",
				"4_d.up.psql:0: read as a migration: golang-migrate runs every", "schema.sql:0: ignored: not a golang-migrate file name"},
		},
		{
			name: "a stray .sql file does not fail the folder",
			files: map[string]string{
				"1_a.up.sql":   "CREATE TABLE a (id int);",
				"1_a.down.sql": "DROP TABLE a;",
				"2_notes.sql":  "-- notes\nSELECT 1;",
			},
			want:  []string{"1_a up:1 down:1"},
			warns: []string{"2_notes.sql:0: ignored: not a golang-migrate file name: golang-migrate never runs it (it skips the names it cannot parse)"},
		},
		{
			name: "an upper-case direction is skipped, and the hint says how to name it",
			files: map[string]string{
				"1_a.up.sql":       "CREATE TABLE a (id int);",
				"2_Add_B.UP.sql":   "CREATE TABLE b (id int);",
				"2_Add_B.Down.sql": "DROP TABLE b;",
			},
			want:  []string{"1_a up:1 down:-"},
			warns: []string{"2_Add_B.Down.sql:0: ignored: not a golang-migrate file name", "2_Add_B.UP.sql:0: ignored: not a golang-migrate file name"},
		},
		{
			// source/parse.go: ^([0-9]+)_(.*)\.(down|up)\.(.*)$, whatever the extension.
			name: "any extension is a migration",
			files: map[string]string{
				"1_a.up.SQL":        "CREATE TABLE a (id int);",
				"2_b.up.pgsql":      "CREATE TABLE b (id int);",
				"2_b.down.pgsql":    "DROP TABLE b;",
				"3_c.up.sql.bak":    "CREATE TABLE c (id int);",
				"4_d.down.up.sql":   "SELECT 4;", // title "d.down", an up
				"5_e.up.":           "SELECT 5;",
				"6_f.up.sql":        "SELECT 6;",
				"6_f.up.sql~":       "SELECT 7;", // an editor's backup: a second up of version 6
				"7_g.down.sql.orig": "SELECT 8;",
			},
			want: []string{"1_a up:1 down:-", "2_b up:1 down:1", "3_c up:1 down:-", "4_d.down up:1 down:-", "5_e up:1 down:-", "6_f up:1 down:-", "7_g up:0 down:1"},
			errs: []string{"6_f.up.sql~:0: duplicate up version 6 (also 6_f.up.sql)"},
			warns: []string{"2_b.down.pgsql:0: read as a migration", "2_b.up.pgsql:0: read as a migration", "3_c.up.sql.bak:0: (here .sql.bak)",
				"5_e.up.:0: (here .)", "6_f.up.sql~:0: (here .sql~)", "7_g.down.sql.orig:0: (here .sql.orig)",
				"7_g.down.sql.orig:0: down file without an up file: golang-migrate records version 7"},
		},
		{
			name: "empty and non-UTF-8 files",
			files: map[string]string{
				"1_a.up.sql":   "",
				"2_b.up.sql":   "-- only a comment\n",
				"3_c.up.sql":   "-- nothing\n",
				"3_c.down.sql": "DROP TABLE t;",
				"4_d.up.sql":   "SELECT 1;\n\n\xc3\x28;",
				"4_d.down.sql": "SELECT 1;", // its up is reported; it is not "without an up" as well
				"5_e.up.sql":   "\uFEFFSELECT 1;",
			},
			// database/postgres/postgres.go runStatement returns at once for a blank file, and
			// runMigrations records the version: an empty up is a no-op migration.
			want: []string{"1_a up:0 down:-", "2_b up:0 down:-", "3_c up:0 down:1", "5_e up:1 down:-"},
			errs: []string{"4_d.up.sql:3: file is not valid UTF-8 (byte 0xc3 at offset 11)"},
			warns: []string{"1_a.up.sql:0: empty up file: golang-migrate records version 1 and runs nothing",
				"2_b.up.sql:0: migration 2_b has no SQL statement; golang-migrate runs it as a no-op",
				"3_c.up.sql:0: up script has no SQL statement but the down script has: golang-migrate records migration 3_c and runs nothing for its up"},
		},
		{
			// database/postgres/postgres.go runs nothing for a blank file: an empty down marks an
			// irreversible migration.
			name: "empty down file is no down",
			files: map[string]string{
				"1_a.up.sql":   "CREATE TABLE a (id int);",
				"1_a.down.sql": "",
				"2_b.up.sql":   "CREATE TABLE b (id int);",
				"2_b.down.sql": " \n\t\n",
				"3_c.down.sql": "", // a version golang-migrate records, running nothing either way
			},
			want: []string{"1_a up:1 down:0", "2_b up:1 down:0", "3_c up:0 down:0"},
			warns: []string{"1_a.down.sql:0: empty down file: golang-migrate runs nothing, so the migration has no down", "2_b.down.sql:0: empty down file", "3_c.down.sql:0: empty down file",
				"3_c.down.sql:0: down file without an up file: golang-migrate records version 3"},
		},
		{
			// An editor's lock file is a dangling link; golang-migrate never opens a name that does not
			// start with a digit.
			name: "dot files are not opened",
			files: map[string]string{
				"1_a.up.sql":   "CREATE TABLE a (id int);",
				".#1_a.up.sql": symlinkTo + "root@host.1234:1700000000",
				".DS_Store":    "",
			},
			want: []string{"1_a up:1 down:-"},
		},
	})
}

// TestGolangMigrateSkippedNames: a file golang-migrate skips is a note that names it, says why it never
// runs and how to name it if it is a migration.
func TestGolangMigrateSkippedNames(t *testing.T) {
	t.Parallel()
	set, err := Read(mapFS(map[string]string{
		"1_a.up.sql": "SELECT 1;", "2_Add_B.UP.sql": "SELECT 2;", "3_notes.sql": "SELECT 3;",
	}), FormatGolangMigrate)
	if err != nil {
		t.Fatalf("the folder does not read: %v", err)
	}
	want := []string{
		"2_Add_B.UP.sql: ignored: not a golang-migrate file name: golang-migrate never runs it (it skips the names it cannot parse) (hint: golang-migrate matches .up. and .down. in lower case only: rename it 2_Add_B.up.sql if it is a migration)",
		"3_notes.sql: ignored: not a golang-migrate file name: golang-migrate never runs it (it skips the names it cannot parse) (hint: golang-migrate reads {version}_{title}.up.sql and .down.sql: rename it 3_notes.up.sql (its down, if any, 3_notes.down.sql) if it is a migration; otherwise move it out of the migration folder)",
	}
	var got []string
	for _, w := range set.Warnings {
		got = append(got, w.Error())
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("warnings:\n got %q\nwant %q", got, want)
	}
}

// TestGolangMigrateByteOrderMark: golang-migrate sends a file's bytes as they are (database/postgres
// Run: io.ReadAll, then one ExecContext), and PostgreSQL reads a byte-order mark as part of the first
// word: a syntax error at 1:1, which the parse error explains. The checksum is that of the text without
// the mark, as when the reader stripped it.
func TestGolangMigrateByteOrderMark(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"1_a.up.sql":   "\uFEFFCREATE TABLE a (id int);\nSELECT 1;\n",
		"1_a.down.sql": "\uFEFF-- undo\nDROP TABLE a;",
		"2_b.up.sql":   "\uFEFF\n", // not blank to golang-migrate (strings.TrimSpace keeps the mark): it sends it
		"3_c.up.sql":   "CREATE TABLE c (id int);",
	}
	set, err := Read(mapFS(files), FormatGolangMigrate)
	if err != nil {
		t.Fatal(err)
	}
	if got := summaries(set); fmt.Sprint(got) != "[1_a up:2 down:1 2_b up:1 down:- 3_c up:1 down:-]" {
		t.Fatalf("migrations = %q", got)
	}
	for _, m := range set.Migrations {
		checkScripts(t, files, m)
	}
	a := set.Migrations[0]
	for _, s := range []*Script{a.Up, a.Down, set.Migrations[1].Up} {
		if !strings.HasPrefix(s.SQL, "\uFEFF") || s.Start != 0 {
			t.Errorf("%s: SQL %q at %d, want the file with its mark", s.File, s.SQL, s.Start)
		}
		st := s.Statements[0]
		if st.Err == nil || st.Err.Pos.Line != 1 || st.Err.Pos.Column != 1 || !strings.Contains(st.Err.Message, "syntax error") ||
			!strings.Contains(st.Err.Message, "golang-migrate sends the byte-order mark to PostgreSQL, which rejects it: save the file as UTF-8 without BOM") {
			t.Errorf("%s: first statement %q, error %v; want a syntax error at 1:1 that says why", s.File, st.SQL, st.Err)
		}
	}
	if st := a.Up.Statements[1]; st.Err != nil || st.Pos.String() != "2:1" {
		t.Errorf("second statement %q at %v, error %v", st.SQL, st.Pos, st.Err)
	}
	if st := set.Migrations[2].Up.Statements[0]; st.Err != nil {
		t.Errorf("3_c: %v", st.Err)
	}
	plain, err := Read(mapFS(map[string]string{"1_a.up.sql": strings.TrimPrefix(files["1_a.up.sql"], "\uFEFF"),
		"1_a.down.sql": strings.TrimPrefix(files["1_a.down.sql"], "\uFEFF")}), FormatGolangMigrate)
	if err != nil {
		t.Fatal(err)
	}
	if a.Checksum != plain.Migrations[0].Checksum || a.UpChecksum() != plain.Migrations[0].UpChecksum() {
		t.Error("checksum of a file with a byte-order mark differs from the file without it")
	}
}

// TestByteOrderMarkColumns: the statement after a byte-order mark stands at column 1 in every format
// whose tool strips the mark (psql for plain and sqitch, Flyway), as an editor shows it.
func TestByteOrderMarkColumns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		format Format
		files  map[string]string
		file   string
	}{
		{FormatPlain, map[string]string{"1_a.sql": "\uFEFFCREATE TABLE a (id int); SELECT 1;"}, "1_a.sql"},
		{FormatFlyway, map[string]string{"V1__a.sql": "\uFEFFCREATE TABLE a (id int); SELECT 1;"}, "V1__a.sql"},
		{FormatSqitch, map[string]string{
			"sqitch.plan":  "%project=p\n\na 2024-01-01T00:00:00Z n <n@example.com> # a\n",
			"deploy/a.sql": "\uFEFFCREATE TABLE a (id int); SELECT 1;",
			"revert/a.sql": "\uFEFFDROP TABLE a;",
			"verify/a.sql": "\uFEFFSELECT 1;",
		}, "deploy/a.sql"},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			t.Parallel()
			set, err := Read(mapFS(tc.files), tc.format)
			if err != nil {
				t.Fatal(err)
			}
			m := set.Migrations[0]
			checkScripts(t, tc.files, m)
			if m.Up.File != tc.file || len(m.Up.Statements) != 2 {
				t.Fatalf("up %s with %d statements", m.Up.File, len(m.Up.Statements))
			}
			if got := m.Up.Statements[0].Pos.String() + " " + m.Up.Statements[1].Pos.String(); got != "1:1 1:26" {
				t.Errorf("positions %s, want 1:1 1:26", got)
			}
			for _, st := range m.Up.Statements {
				if st.Err != nil {
					t.Errorf("%q: %v", st.SQL, st.Err)
				}
			}
		})
	}
}

// TestGolangMigrateOnlyIgnoredFiles: a folder whose only migration golang-migrate skips (a version past
// uint64) has no migrations, and the error says why beside "no golang-migrate migrations found": the
// note on the skipped file, which a failed read would otherwise not show.
func TestGolangMigrateOnlyIgnoredFiles(t *testing.T) {
	t.Parallel()
	_, err := Read(mapFS(map[string]string{"18446744073709551616_a.up.sql": "SELECT 1;\n"}), FormatGolangMigrate)
	got := describe(readErrors(t, err))
	matchProblems(t, "error", got, []string{
		":0: no golang-migrate migrations found",
		"18446744073709551616_a.up.sql:0: ignored: golang-migrate never runs it: its version 18446744073709551616 is larger",
	})
}

// TestGolangMigrateDownOnlyVersion: a version with a down file alone is a migration whose up is an
// empty script named after that file, which its report, checksum and deploy history name.
func TestGolangMigrateDownOnlyVersion(t *testing.T) {
	t.Parallel()
	set, err := readMap(t, FormatGolangMigrate, map[string]string{"1_a.up.sql": "SELECT 1;", "2_gone.down.sql": "DROP TABLE t;"})
	if err != nil {
		t.Fatal(err)
	}
	m := set.Find("2")
	if m == nil || m.ID() != "2_gone" || m.Up == nil || m.Up.File != "2_gone.down.sql" || !m.Up.Empty() || m.Up.SQL != "" ||
		m.Down == nil || len(m.Down.Statements) != 1 || strings.Join(m.Files(), " ") != "2_gone.down.sql" {
		t.Fatalf("version 2: %+v", m)
	}
}
