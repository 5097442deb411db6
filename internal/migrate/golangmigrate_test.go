package migrate

import "testing"

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
			want: []string{"1_b up:1 down:1"},
			errs: []string{"1_a.down.sql:0: duplicate down version 1 (also 01_c.down.sql)", "1_a.up.sql:0: duplicate up version 1 (also 001_b.up.sql)",
				"5_gone.down.sql:0: down migration without an up migration"},
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
			want: []string{"1_a up:1 down:-", "4_d up:1 down:-"},
			errs: []string{"18446744073709551616_big.up.sql:0: invalid version 18446744073709551616", "2_b.sql:0: not a golang-migrate file name",
				"3_c.UP.sql:0: not a golang-migrate file name"},
			warns: []string{"4_d.up.psql:0: read as a migration: golang-migrate runs every", "schema.sql:0: ignored: not a golang-migrate file name"},
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
			want: []string{"1_a up:1 down:-", "2_b up:1 down:1", "3_c up:1 down:-", "4_d.down up:1 down:-", "5_e up:1 down:-", "6_f up:1 down:-"},
			errs: []string{"6_f.up.sql~:0: duplicate up version 6 (also 6_f.up.sql)", "7_g.down.sql.orig:0: down migration without an up migration"},
			warns: []string{"2_b.down.pgsql:0: read as a migration", "2_b.up.pgsql:0: read as a migration", "3_c.up.sql.bak:0: (here .sql.bak)",
				"5_e.up.:0: (here .)", "6_f.up.sql~:0: (here .sql~)", "7_g.down.sql.orig:0: (here .sql.orig)"},
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
			want:  []string{"2_b up:0 down:-", "3_c up:0 down:1", "5_e up:1 down:-"},
			errs:  []string{"1_a.up.sql:0: empty file: golang-migrate would run nothing", "3_c.up.sql:0: up script has no SQL statement but the down script has", "4_d.up.sql:3: file is not valid UTF-8 (byte 0xc3 at offset 11)"},
			warns: []string{"2_b.up.sql:0: migration 2_b has no SQL statement; golang-migrate runs it as a no-op"},
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
				"3_c.down.sql": "", // still a down without an up
			},
			want:  []string{"1_a up:1 down:0", "2_b up:1 down:0"},
			errs:  []string{"3_c.down.sql:0: down migration without an up migration"},
			warns: []string{"1_a.down.sql:0: empty down file: golang-migrate runs nothing, so the migration has no down", "2_b.down.sql:0: empty down file", "3_c.down.sql:0: empty down file"},
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
