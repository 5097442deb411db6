package migrate

import "testing"

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
			name: "commands are case-sensitive and spelled exactly",
			files: map[string]string{
				"1_a.sql": "-- +migrate up\n-- +migrate Up\nSELECT 1;\n--+migrate Down\n-- +migrate Upp\n-- +migrate StatementBegin notransaction\n-- +migrate\n-- +migrate Down notx\n",
			},
			want: []string{"1_a up:1 down:-"},
			errs: []string{`1_a.sql:1: unknown sql-migrate command "up"`, `1_a.sql:4: sql-migrate only reads commands written "-- +migrate <command>"`,
				`1_a.sql:5: unknown sql-migrate command "Upp"`, `1_a.sql:6: unknown sql-migrate option "notransaction"`,
				"1_a.sql:7: empty sql-migrate command", `1_a.sql:8: unknown sql-migrate option "notx"`},
		},
		{
			name: "missing up, outside text, duplicates",
			files: map[string]string{
				"1_a.sql":  "SELECT 1;\n",
				"2_b.sql":  "SELECT 0;\n-- +migrate Up\nSELECT 1;\n",
				"02_c.sql": "-- +migrate Up\nSELECT 1;\n",
				"3_d.sql":  "-- +migrate Down\nSELECT 1;\n",
			},
			want: []string{"2_b up:1 down:-", "02_c up:1 down:-"},
			errs: []string{"1_a.sql:0: no -- +migrate Up section",
				"2_b.sql:1: SQL before the first", "3_d.sql:0: no -- +migrate Up section"},
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
			// sql-migrate keys migrations by file name: one number may have several, ordered by name.
			name: "several migrations of one day",
			files: map[string]string{
				"20240101-b.sql": "-- +migrate Up\nSELECT 2;\n",
				"20240101-a.sql": "-- +migrate Up\nSELECT 1;\n",
				"20240102.sql":   "-- +migrate Up\nSELECT 3;\n",
			},
			want: []string{"20240101_a up:1 down:-", "20240101-b up:1 down:-", "20240102 up:1 down:-"},
		},
	})
}
