package migrate

import (
	"fmt"
	"strings"
	"testing"
)

func TestReadGoose(t *testing.T) {
	t.Parallel()
	runReadCases(t, FormatGoose, []readCase{
		{
			name: "sections, blocks and options",
			files: map[string]string{
				"00001_init.sql": "-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n-- +goose StatementEnd\nCREATE TABLE t (id int);\n\n-- +goose Down\nDROP TABLE t;\nDROP FUNCTION f;\n",
				"00002_idx.sql":  "-- +goose NO TRANSACTION\n-- +goose ENVSUB ON\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (id);\n-- +goose ENVSUB OFF\n-- +goose Down\nDROP INDEX CONCURRENTLY i;\n",
				"README.md":      "# not a migration\n",
				"embed.go":       "package migrations\n",
			},
			want: []string{"1_init up:2 down:2", "2_idx up:1 down:1 notx down-notx envsub"},
		},
		{
			name: "annotations ignore case and CRLF, numeric order",
			files: map[string]string{
				"10_c.sql":             "-- +goose UP\r\nSELECT 10;\r\n-- +goose down\r\nSELECT -10;\r\n",
				"2_b.sql":              "-- a comment first\n-- +goose up\nSELECT 2;\n",
				"1_a.sql":              "--+goose Up\nSELECT 1;",
				"20240101120000_t.sql": "-- +goose Up\n-- +goose no transaction\nSELECT 3;\n",
			},
			want: []string{"1_a up:1 down:-", "2_b up:1 down:-", "10_c up:1 down:1", "20240101120000_t up:1 down:- notx"},
		},
		{
			name:  "a statement that does not parse is no read error",
			files: map[string]string{"1_bad.sql": "-- +goose Up\nCREATE TABLE t (id int,);\nSELECT 1;\n"},
			want:  []string{"1_bad up:2 down:-"},
		},
		{
			name: "unknown annotations",
			files: map[string]string{
				"1_a.sql": "-- +goose Up\nSELECT 1;\n-- +goose Upp\n-- +goose Up +goose\n-- +goose\n-- +goose NO TRANSACTIONS\n",
			},
			want: []string{"1_a up:1 down:-"},
			errs: []string{`1_a.sql:3: unknown goose annotation "Upp"`, "1_a.sql:4: more than one +goose on a line",
				"1_a.sql:5: empty goose annotation", `1_a.sql:6: unknown goose annotation "NO TRANSACTIONS"`},
		},
		{
			// internal/sqlparser/parser.go: a line is an annotation when it starts with -- and contains
			// +goose (case-sensitive); the annotation is the rest without any -- and the first +goose.
			name: "annotations as goose reads them",
			files: map[string]string{
				"1_upper.sql":   "-- +goose Up\nCREATE TABLE t (id int);\n-- +GOOSE Down\nDROP TABLE t;\n",
				"2_notx.sql":    "-- +goose Up\n-- +GOOSE NO TRANSACTION\nCREATE TABLE u (a int);\nCREATE INDEX CONCURRENTLY u_a ON u (a);\n",
				"3_nospace.sql": "-- +gooseUp\nSELECT 1;\n--+goose   down  \nSELECT 2;\n",
				"4_two.sql":     "-- +goose Up\n-- +goose NO  TRANSACTION\nSELECT 1;\n",
				"5_mention.sql": "-- +goose Up\nSELECT 1;\n-- note: see the +goose docs\nSELECT 2;\n",
				"6_dashes.sql":  "--- +goose Up\nSELECT 1;\n",
				"7_trail.sql":   "-- +goose Up\nSELECT 1;\n-- +goose Down -- drops it\nSELECT 2;\n",
			},
			want: []string{"1_upper up:2 down:-", "2_notx up:2 down:-", "3_nospace up:1 down:1", "4_two up:1 down:-", "5_mention up:2 down:-", "7_trail up:2 down:-"},
			errs: []string{`4_two.sql:2: unknown goose annotation "NO  TRANSACTION"`, `5_mention.sql:3: unknown goose annotation "note: see the  docs"`,
				`6_dashes.sql:0: no -- +goose Up section`, `6_dashes.sql:1: unknown goose annotation "-  Up"`, `7_trail.sql:3: unknown goose annotation "Down  drops it"`},
		},
		{
			// goose lists fs.Glob "*.sql": the extension is case-sensitive.
			name: "upper-case extension is ignored",
			files: map[string]string{
				"1_a.SQL": "-- +goose Up\nCREATE TABLE t (id bigint);\n",
				"2_b.sql": "-- +goose Up\nCREATE TABLE u (id bigint);\n",
			},
			want:  []string{"2_b up:1 down:-"},
			warns: []string{"1_a.SQL:0: ignored: goose only reads .sql files"},
		},
		{
			name:  "byte-order mark",
			files: map[string]string{"1_a.sql": "\uFEFF-- +goose Up\nSELECT 1;\n"},
			want:  []string{"1_a up:1 down:-"},
			errs:  []string{"1_a.sql:1: goose refuses a file that starts with a byte-order mark"},
		},
		{
			name:  "indented annotation",
			files: map[string]string{"1_a.sql": "-- +goose Up\nSELECT 1;\n  -- +goose Down\nSELECT 2;\n"},
			want:  []string{"1_a up:2 down:-"},
			errs:  []string{"1_a.sql:3: goose annotation must start its line"},
		},
		{
			name: "misplaced sections",
			files: map[string]string{
				"1_noup.sql":   "CREATE TABLE t (id int);\n",
				"2_downup.sql": "-- +goose Down\nSELECT 1;\n-- +goose Up\nSELECT 2;\n",
				"3_twice.sql":  "-- +goose Up\nSELECT 1;\n-- +goose Up\nSELECT 2;\n-- +goose Down\n-- +goose Down\n",
				"4_before.sql": "-- a comment is fine\nSELECT 0;\n-- +goose Up\nSELECT 1;\n",
				// goose skips only blank and -- lines before the Up annotation.
				"5_license.sql": "  \n/* Copyright the authors */\n-- +goose NO TRANSACTION\n-- +goose Up\nSELECT 1;\n",
			},
			want: []string{"2_downup up:1 down:1", "3_twice up:2 down:0", "4_before up:1 down:-", "5_license up:1 down:- notx"},
			errs: []string{"1_noup.sql:0: no -- +goose Up section", "2_downup.sql:1: -- +goose Down before -- +goose Up",
				"3_twice.sql:3: second -- +goose Up (the first is on line 1)", "3_twice.sql:6: second -- +goose Down (the first is on line 5)",
				"4_before.sql:2: SQL before the first -- +goose Up line: goose refuses the file (\"unexpected state 0\")",
				"5_license.sql:2: block comment before the first -- +goose Up line: goose allows only blank lines and -- comments there; goose refuses the file"},
		},
		{
			name: "statement blocks",
			files: map[string]string{
				"1_open.sql":   "-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n-- +goose Down\nSELECT 2;\n",
				"2_end.sql":    "-- +goose Up\nSELECT 1;\n-- +goose StatementEnd\n",
				"3_nested.sql": "-- +goose Up\n-- +goose StatementBegin\n-- +goose StatementBegin\nSELECT 1;\n-- +goose StatementEnd\n",
				"4_out.sql":    "-- +goose StatementBegin\n-- +goose Up\nSELECT 1;\n",
				"5_eof.sql":    "-- +goose Up\nSELECT 1;\n-- +goose Down\n-- +goose StatementBegin\nSELECT 2;\n",
			},
			want: []string{"1_open up:1 down:1", "2_end up:1 down:-", "3_nested up:1 down:-", "4_out up:1 down:-", "5_eof up:1 down:1"},
			errs: []string{"1_open.sql:2: StatementBegin is never closed", "2_end.sql:3: StatementEnd without StatementBegin",
				"3_nested.sql:3: StatementBegin inside another StatementBegin block", "4_out.sql:1: StatementBegin outside the",
				"5_eof.sql:4: StatementBegin is never closed"},
		},
		{
			name: "file names",
			files: map[string]string{
				"1_a.sql":                      "-- +goose Up\nSELECT 1;\n",
				"001_b.sql":                    "-- +goose Up\nSELECT 1;\n",
				"2.sql":                        "-- +goose Up\nSELECT 2;\n",
				"0_zero.sql":                   "-- +goose Up\nSELECT 0;\n",
				"3_code.go":                    "package migrations\n\nimport \"github.com/pressly/goose/v3\"\n",
				"4_code_test.go":               "package migrations\n",
				"helpers.go":                   "package migrations\n",
				"schema.sql":                   "CREATE TABLE t (id int);\n",
				"notes.txt":                    "ignored\n",
				"99999999999999999999_big.sql": "-- +goose Up\nSELECT 1;\n",
			},
			want: []string{"1_b up:1 down:-", "1_a up:1 down:-", "3_code up:0 down:- external=go"},
			errs: []string{"0_zero.sql:0: invalid goose version 0", "1_a.sql:0: duplicate version 1 (also 001_b.sql)",
				"2.sql:0: goose file name has no _ after the version",
				"99999999999999999999_big.sql:0: invalid goose version",
				"schema.sql:0: not a goose migration file name: goose refuses the folder (\"could not parse SQL migration file\""},
		},
		{
			// NumericComponent reads the version with strconv.ParseInt, which takes a sign: +5_x.sql is
			// version 5 to goose, ordered as 5, and so is +0007_y.go; -3_z.sql is a version below 1, which
			// goose refuses, and -4_w.go a file it skips (collectGoMigrations skips a .go file whose
			// version does not read).
			name: "signed versions",
			files: map[string]string{
				"+5_x.sql":   "-- +goose Up\nSELECT 5;\n",
				"10_ten.sql": "-- +goose Up\nSELECT 10;\n",
				"2_two.sql":  "-- +goose Up\nSELECT 2;\n",
				"+0007_y.go": "package migrations\n\nimport \"github.com/pressly/goose/v3\"\n",
				"-3_z.sql":   "-- +goose Up\nSELECT 3;\n",
				"-4_w.go":    "package migrations\n",
				"+_plus.sql": "-- +goose Up\nSELECT 1;\n",
				"+6_dup.sql": "-- +goose Up\nSELECT 6;\n",
				"6_dup2.sql": "-- +goose Up\nSELECT 6;\n",
			},
			want: []string{"2_two up:1 down:-", "5_x up:1 down:-", "6_dup up:1 down:-", "6_dup2 up:1 down:-", "7_y up:0 down:- external=go", "10_ten up:1 down:-"},
			errs: []string{"+_plus.sql:0: not a goose migration file name", "-3_z.sql:0: invalid goose version -3: goose refuses the folder",
				"6_dup2.sql:0: duplicate version 6 (also +6_dup.sql)"},
			warns: []string{"-4_w.go:0: ignored: no goose version (version -4 is below 1): goose skips this Go file"},
		},
		{
			// goose collects a .go file as a Go migration when its name has a version (NumericComponent,
			// migration.go), and skips any other (collectGoMigrations, migrate.go) unless its code
			// registers a migration: goose.AddMigration and its kin name it after the file that calls
			// them (runtime.Caller), and goose.Up then refuses the folder, whose registered migrations'
			// names must have a version too ("could not parse go migration file"). schemagate runs no Go
			// code, whatever the version: one with a version keeps its place, not run.
			name: "Go files",
			files: map[string]string{
				"1_a.sql":                     "-- +goose Up\nSELECT 1;\n",
				"2_code.go":                   gooseGo("goose.AddMigrationContext(up, down)"),
				"3_unreg.go":                  "package migrations\n\nfunc helper() {}\n",
				"0_zero.go":                   gooseGo("goose.AddMigrationContext(up, down)"),
				"000_nothing.go":              "package migrations\n\nfunc helper() {}\n",
				"0_off.go":                    "package migrations\n\n// goose.AddMigrationContext(up, down) waits for the backfill\nvar s = \"goose.AddMigration(up, down)\"\n",
				"-5_neg.go":                   gooseGo("g.AddMigrationNoTxContext(up, down)"),
				"99999999999999999999_big.go": "package migrations\n",
				"6.go":                        "package migrations\n",
				"7x_y.go":                     "package migrations\n",
				"helpers.go":                  "package migrations\n\nfunc AddMigration(up, down int) {}\n",
				"register.go":                 gooseGo("AddMigration(up, down)"),
				"8_a_test.go":                 gooseGo("goose.AddMigration(up, down)"),
			},
			want: []string{"1_a up:1 down:-", "2_code up:0 down:- external=go", "3_unreg up:0 down:- external=go"},
			errs: []string{
				"-5_neg.go:6: registers a goose Go migration (AddMigrationNoTxContext) under a name without a goose version (version -5 is below 1): goose refuses the folder",
				"0_zero.go:6: registers a goose Go migration (AddMigrationContext) under a name without a goose version (version 0 is below 1): goose refuses the folder",
				"register.go:6: registers a goose Go migration (AddMigration) under a name without a goose version (no _ after a version): goose refuses the folder",
			},
			warns: []string{
				"000_nothing.go:0: ignored: no goose version (version 000 is below 1): goose skips this Go file",
				"0_off.go:0: ignored: no goose version (version 0 is below 1): goose skips this Go file",
				"6.go:0: ignored: no goose version (no _ after a version): goose skips this Go file",
				"7x_y.go:0: ignored: no goose version (\"7x\" before the first _ is not a number): goose skips this Go file",
				"99999999999999999999_big.go:0: ignored: no goose version (99999999999999999999 is beyond goose's last version, 9223372036854775807): goose skips this Go file",
			},
		},
		{
			// goose ends a statement at each line whose last word ends with ; (outside StatementBegin and
			// StatementEnd), and drops or refuses one left without it.
			name: "split as goose splits",
			files: map[string]string{
				"1_fn.sql":     "-- +goose Up\nCREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  PERFORM 1;\n  RETURN 1;\nEND;\n$$;\n\n-- +goose Down\nDROP FUNCTION f();\n",
				"2_ok.sql":     "-- +goose Up\n-- a comment;\nCREATE TABLE a (\n  id int, -- the key;\n  note text\n); -- done\nSELECT 'x;\ny';\n-- +goose StatementBegin\nDO $$ BEGIN PERFORM 1;\nEND $$;\n-- +goose StatementEnd\n-- +goose Down\nDROP TABLE a;\n",
				"3_nosemi.sql": "-- +goose Up\nCREATE TABLE b (id int)\n-- +goose Down\nDROP TABLE b\n",
			},
			want: []string{"1_fn up:1 down:1", "2_ok up:3 down:1", "3_nosemi up:1 down:1"},
			errs: []string{"1_fn.sql:4: goose ends a statement at this line (its last word ends with ;), inside the statement that starts on line 2 and ends on line 7",
				// goose cuts inside the string literal too ('x; ends with ;); the comments and the block do not cut.
				"2_ok.sql:7: goose ends a statement at this line (its last word ends with ;), inside the statement that starts on line 7 and ends on line 8",
				"3_nosemi.sql:2: statement without ; at the end of its last line: goose refuses the file",
				"3_nosemi.sql:4: statement without ; at the end of its last line: goose refuses the file"},
		},
		{
			// ParseSQLMigration skips only empty lines ("") and, while its buffer is empty, comment lines
			// before a statement: a line of white space goes into the buffer, and so do the comment lines
			// after it, which missingSemicolonError then refuses at the Down annotation and at the end.
			name: "comment after a line of white space",
			files: map[string]string{
				"1_a.sql": "-- +goose Up\nCREATE TABLE a (id int);\n  \n-- TODO index\n-- +goose Down\nDROP TABLE a;\n\t\n-- the end\n",
				"2_b.sql": "-- +goose Up\nCREATE TABLE b (id int);\n\n-- note\n  \n-- +goose Down\n  \n-- kept with the statement\nDROP TABLE b;\n",
			},
			want: []string{"1_a up:1 down:1", "2_b up:1 down:1"},
			errs: []string{"1_a.sql:4: goose keeps this comment line as statement text, as it follows a line of white space (goose skips only empty lines and, before a statement, comment lines), and no line ending with ; follows it: goose refuses the file (\"unexpected unfinished SQL query: ...: missing semicolon?\")",
				"1_a.sql:8: goose keeps this comment line as statement text"},
		},
		{
			// ParseSQLMigration skips the StatementEnd line of a block that gave it no text as a comment,
			// so it stays in its StatementEnd state: it sends an empty statement and leaves out the next
			// line that is not empty, a comment or an annotation (NO TRANSACTION and ENVSUB keep it).
			name: "line after a block without a statement",
			files: map[string]string{
				"1_a.sql": "-- +goose Up\n-- +goose StatementBegin\n-- CREATE FUNCTION f() ... later\n\n-- +goose StatementEnd\n\n-- +goose NO TRANSACTION\n-- a note\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n",
				"2_b.sql": "-- +goose Up\n-- +goose StatementBegin\n-- +goose StatementEnd\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\n-- +goose StatementEnd\nCREATE TABLE b (id int);\n",
				"3_c.sql": "-- +goose Up\n-- +goose StatementBegin\n   \n-- +goose StatementEnd\nCREATE TABLE c (id int);\n",
			},
			want: []string{"1_a up:1 down:1 notx down-notx", "2_b up:2 down:-", "3_c up:1 down:-"},
			errs: []string{"1_a.sql:9: goose leaves out this line: the StatementBegin/StatementEnd block that ends on line 5 holds no statement, so goose sends an empty one"},
		},
		{
			name: "bad content",
			files: map[string]string{
				"1_latin1.sql": "-- +goose Up\nSELECT 1;\nSELECT 'caf\xe9';\n",
				"2_empty.sql":  " \n\t\n",
				"3_void.sql":   "",
				"4_updown.sql": "-- +goose Up\n-- nothing here\n-- +goose Down\nDROP TABLE t;\n",
				"5_noop.sql":   "-- +goose Up\n-- +goose Down\n",
			},
			want: []string{"4_updown up:0 down:1", "5_noop up:0 down:0"},
			errs: []string{"1_latin1.sql:3: file is not valid UTF-8 (byte 0xe9 at offset 34)", "2_empty.sql:0: empty file",
				"3_void.sql:0: empty file"},
			// migration_sql.go runSQLMigration runs no statement and records the version.
			warns: []string{"4_updown.sql:1: -- +goose Up section has no SQL statement but the down script has: goose records migration 4_updown and runs nothing for its up",
				"5_noop.sql:1: migration 5_noop has no SQL statement; goose runs it as a no-op"},
		},
	})
}

// TestReadGoosePositions checks that statements of the down section keep their place in the file.
func TestReadGoosePositions(t *testing.T) {
	t.Parallel()
	src := "-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE t (\n  id int\n);\n-- +goose StatementEnd\n\n-- +goose Down\n  DROP TABLE t;  SELECT 'é', 1;\n\tSELEC 2;\n"
	set, err := Read(mapFS(map[string]string{"7_t.sql": src}), FormatGoose)
	if err != nil {
		t.Fatal(err)
	}
	m := set.Migrations[0]
	if m.Up.Start != len("-- +goose Up\n") || m.Up.SQL != src[m.Up.Start:m.Down.Start-len("-- +goose Down\n")] {
		t.Errorf("up section = %d %q", m.Up.Start, m.Up.SQL)
	}
	var got []string
	for _, s := range []*Script{m.Up, m.Down} {
		for _, st := range s.Statements {
			g := fmt.Sprintf("%s:%d:%d %s", s.File, st.Pos.Line, st.Pos.Column, st.SQL)
			if st.Err != nil {
				g += fmt.Sprintf(" (error at %d:%d)", st.Err.Pos.Line, st.Err.Pos.Column)
			}
			got = append(got, g)
		}
	}
	want := []string{
		"7_t.sql:3:1 CREATE TABLE t (\n  id int\n)",
		"7_t.sql:9:3 DROP TABLE t",
		"7_t.sql:9:18 SELECT 'é', 1",
		"7_t.sql:10:2 SELEC 2 (error at 10:2)",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("statements:\n got %q\nwant %q", got, want)
	}
}

// TestStatementsSentAsOneQuery: outside a transaction, goose and sql-migrate send what lies between two
// line ends with ; as one query, and dbmate sends a transaction:false section whole; PostgreSQL runs a
// query of several statements as one transaction, where CREATE INDEX CONCURRENTLY fails. The folder is
// refused at that statement's line. Statements on lines of their own, and a lone statement, are fine;
// a dbmate section of several statements that all may run in a transaction runs as one (atomic).
func TestStatementsSentAsOneQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		format Format
		files  map[string]string
		err    string // "" when the folder reads
		noTx   bool
	}{
		{"goose, same line", FormatGoose, map[string]string{"1_a.sql": "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE TABLE t (a int, b int);\nCREATE INDEX CONCURRENTLY ia ON t (a); CREATE INDEX CONCURRENTLY ib ON t (b);\n"},
			"1_a.sql:4: goose sends this statement in one query", false},
		{"goose, own lines", FormatGoose, map[string]string{"1_a.sql": "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE TABLE t (a int, b int);\nCREATE INDEX CONCURRENTLY ia ON t (a);\nCREATE INDEX CONCURRENTLY ib ON t (b);\n"},
			"", true},
		{"goose, after a block", FormatGoose, map[string]string{"1_a.sql": "-- +goose NO TRANSACTION\n-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$\n-- +goose StatementEnd\nCREATE INDEX CONCURRENTLY ia ON t (a);\n"},
			"", true},
		{"sql-migrate, same line", FormatSQLMigrate, map[string]string{"1_a.sql": "-- +migrate Up notransaction\nCREATE TABLE t (a int); CREATE INDEX CONCURRENTLY ia ON t (a);\n"},
			"1_a.sql:2: sql-migrate sends this statement in one query", false},
		{"dbmate, several statements", FormatDbmate, map[string]string{"20240101000000_a.sql": "-- migrate:up transaction:false\nCREATE TABLE t (a bigint);\nCREATE INDEX CONCURRENTLY i1 ON t (a);\n-- migrate:down\nDROP TABLE t;\n"},
			"20240101000000_a.sql:3: dbmate sends a section it runs outside a transaction as one query", false},
		{"dbmate, alone", FormatDbmate, map[string]string{"20240101000000_a.sql": "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i1 ON t (a);\n-- migrate:down transaction:false\nDROP INDEX CONCURRENTLY i1;\n"},
			"", true},
		{"dbmate, several that may share a transaction", FormatDbmate, map[string]string{"20240101000000_a.sql": "-- migrate:up transaction:false\nCREATE TABLE t (a bigint);\nCREATE INDEX i1 ON t (a);\n-- migrate:down\nDROP TABLE t;\n"},
			"", false},
	}
	for _, tc := range tests {
		set, err := readMap(t, tc.format, tc.files)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case set.Migrations[0].NoTransaction != tc.noTx:
			t.Errorf("%s: NoTransaction %v, want %v", tc.name, set.Migrations[0].NoTransaction, tc.noTx)
		}
	}
}

// TestGooseSendsLines: goose (internal/sqlparser/parser.go ParseSQLMigration) reads the file with
// bufio.Scanner and sends each line of a statement followed by "\n": a CRLF file's statements go without
// their carriage returns, which matters in a string or a function body. Unlike sql-migrate it keeps
// every comment line of a statement, at the start of a line or not, inside a dollar-quoted body too.
func TestGooseSendsLines(t *testing.T) {
	t.Parallel()
	src := strings.Join([]string{
		"-- +goose Up",
		"-- +goose StatementBegin",
		"CREATE FUNCTION f() RETURNS text LANGUAGE plpgsql AS $$",
		"BEGIN",
		"-- kept: goose keeps comments inside a statement",
		"  RETURN 'a",
		"b';",
		"END",
		"$$;",
		"-- +goose StatementEnd",
		"-- +goose Down",
		"DROP FUNCTION f();",
		"",
	}, "\r\n")
	files := map[string]string{"1_f.sql": src}
	set, err := Read(mapFS(files), FormatGoose)
	if err != nil || len(set.Migrations) != 1 {
		t.Fatalf("%v, %v", summaries(set), err)
	}
	checkScripts(t, files, set.Migrations[0])
	want := "CREATE FUNCTION f() RETURNS text LANGUAGE plpgsql AS $$\nBEGIN\n-- kept: goose keeps comments inside a statement\n  RETURN 'a\nb';\nEND\n$$"
	if sts := set.Migrations[0].Up.Statements; len(sts) != 1 || sts[0].SQL != want || sts[0].Pos.Line != 3 || sts[0].Pos.Column != 1 {
		t.Errorf("up statements %+v\nwant one at 3:1: %q", sts, want)
	}
}

// TestLongLines: goose and sql-migrate read a file with bufio.Scanner, whose buffer holds a line with its
// "\n": goose's 4 MiB (internal/sqlparser/parser.go scanBufSize), sql-migrate's 1 MiB
// (sqlparse/sqlparse.go scanner.Buffer). A line of that size or more fails the file under the tool
// ("bufio.Scanner: token too long"), so it is an error at its line; one byte less reads.
func TestLongLines(t *testing.T) {
	t.Parallel()
	literal := func(n int) string { // an INSERT line of exactly n bytes
		const head, tail = "INSERT INTO t VALUES ('", "');"
		return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
	}
	for _, c := range []struct {
		name   string
		format Format
		up     string
		max    int
		want   string
	}{
		{"goose", FormatGoose, "-- +goose Up", 4 << 20, "1_a.sql:3: line of 4194304 bytes: goose cannot read a line of 4 MiB or more"},
		{"sql-migrate", FormatSQLMigrate, "-- +migrate Up", 1 << 20, "1_a.sql:3: line of 1048576 bytes: sql-migrate cannot read a line of 1 MiB or more"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range []struct {
				n    int
				last string // what ends the long line
				want string
			}{
				{c.max - 1, "\n", ""},
				{c.max - 1, "", ""}, // the file's last line, without a line break
				{c.max, "\n", c.want},
				{c.max, "", c.want},
			} {
				src := c.up + "\nSELECT 1;\n" + literal(tc.n) + tc.last
				set, err := Read(mapFS(map[string]string{"1_a.sql": src}), c.format)
				errs := describe(readErrors(t, err))
				switch {
				case tc.want == "" && (len(errs) != 0 || len(set.Migrations) != 1):
					t.Errorf("a line of %d bytes: errors %q, %d migrations; want it read", tc.n, errs, len(set.Migrations))
				case tc.want != "" && (len(errs) != 1 || !strings.HasPrefix(errs[0], tc.want)):
					t.Errorf("a line of %d bytes: errors %q, want %q", tc.n, errs, tc.want)
				}
			}
		})
	}
}

// gooseGo is a Go file of a goose folder whose init calls register, as goose's examples do.
func gooseGo(register string) string {
	return "package migrations\n\nimport g \"github.com/pressly/goose/v3\"\n\nfunc init() {\n\t" + register + "\n}\n"
}
