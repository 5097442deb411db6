package migrate

import "testing"

func TestReadPlain(t *testing.T) {
	t.Parallel()
	runReadCases(t, FormatPlain, []readCase{
		{
			name: "natural order, versions from leading numbers or names",
			files: map[string]string{
				"10-users.sql":   "CREATE TABLE users (id int);",
				"2_init.sql":     "CREATE SCHEMA app;",
				"1.sql":          "SELECT 1;",
				"seed.sql":       "INSERT INTO users VALUES (1);",
				"functions.SQL":  "SELECT 2;",
				"notes.md":       "docs",
				"sub/9_deep.sql": "SELECT 9;",
			},
			want: []string{"1 up:1 down:-", "2_init up:1 down:-", "10_users up:1 down:-", "functions up:1 down:-", "seed up:1 down:-"},
			// a shell glob runs 10-users.sql before 2_init.sql
			warns: []string{"10-users.sql:0: schemagate runs 2_init.sql before 10-users.sql (natural order), but a shell glob"},
		},
		{
			name:  "zero-padded: both orders agree",
			files: map[string]string{"02_init.sql": "SELECT 1;", "10_users.sql": "SELECT 2;", "01_a.sql": "SELECT 3;"},
			want:  []string{"01_a up:1 down:-", "02_init up:1 down:-", "10_users up:1 down:-"},
		},
		{
			name:   "auto-detected",
			format: FormatAuto,
			files:  map[string]string{"001_a.sql": "SELECT 1;", "002_b.sql": "SELECT 2;"},
			want:   []string{"001_a up:1 down:-", "002_b up:1 down:-"},
		},
		{
			name: "down scripts, duplicates, bad files",
			files: map[string]string{
				"1_a.sql":    "SELECT 1;",
				"01_b.sql":   "SELECT 2;",
				"x.down.sql": "SELECT 3;",
				"3_e.sql":    "  ",
				"4_f.sql":    "SELECT '\x80';",
				"5_g.sql":    "-- later\n",
				"6_h.sql":    "CREATE TABLE (;", // a syntax error is the lint's business
			},
			want:  []string{"1_a up:1 down:-", "01_b up:1 down:-", "5_g up:0 down:-", "6_h up:1 down:-"},
			errs:  []string{"01_b.sql:0: duplicate version 01 (also 1_a.sql)", "3_e.sql:0: empty file", "4_f.sql:1: file is not valid UTF-8", "x.down.sql:0: plain folders have no down scripts"},
			warns: []string{"5_g.sql:0: migration 5_g has no SQL statement"},
		},
		{
			// pg_dump (15.14+, 16.10+, 17.6+) writes \restrict and \unrestrict; psql runs them, the server never sees them.
			name: "psql meta-commands",
			files: map[string]string{
				"1_dump.sql": "\\restrict k3y\nSET search_path = '';\nCOPY t FROM stdin;\n\\N\n\\.\n\\unrestrict k3y\n",
				"2_set.sql":  "\\set ON_ERROR_STOP on\n\\echo adding\nSELECT 1;\n\\dt\n\\q\n",
				"3_bad.sql":  "\\connect other\nSELECT 1;\n\\ir more.sql\n\\if :x\n\\endif\n\\copy t from 'x'\n\\gexec\n\\frobnicate\n\\q\nSELECT 2;",
			},
			want: []string{"1_dump up:2 down:-", "2_set up:1 down:-", "3_bad up:2 down:-"},
			errs: []string{
				"3_bad.sql:1: psql meta-command \\connect is not supported",
				"3_bad.sql:3: psql meta-command \\ir is not supported",
				"3_bad.sql:4: psql meta-command \\if is not supported",
				"3_bad.sql:5: psql meta-command \\endif is not supported",
				"3_bad.sql:6: psql meta-command \\copy is not supported",
				"3_bad.sql:7: psql meta-command \\gexec is not supported",
				"3_bad.sql:8: psql meta-command \\frobnicate is not supported",
				"3_bad.sql:9: psql meta-command \\q is not supported",
			},
		},
	})
}
