package migrate

import "testing"

func TestReadDbmate(t *testing.T) {
	t.Parallel()
	runReadCases(t, FormatDbmate, []readCase{
		{
			name: "blocks and options in file-name order",
			files: map[string]string{
				"20240102000000_b.sql": "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (id);\n\n-- migrate:down transaction:false\nDROP INDEX CONCURRENTLY i;\n",
				"20240101000000_a.sql": "-- a header comment\n--migrate:up\ncreate table t (id int);\ninsert into t values (1);\n-- migrate:down transaction:true\ndrop table t;\n",
				"20240103000000_c.sql": "-- migrate:up\nSELECT 1;\n-- migrate:down transaction:false\nSELECT 2;\n",
				"README.md":            "docs",
			},
			want: []string{"20240101000000_a up:2 down:1", "20240102000000_b up:1 down:1 notx down-notx", "20240103000000_c up:1 down:1 down-notx"},
		},
		{
			name: "unknown directives and options",
			files: map[string]string{
				"1_a.sql": "-- migrate:upp\n-- migrate:up\nSELECT 1;\n-- migrate:UP\n-- migrate:down transaction:off\n-- migrate:down notx\n -- migrate:down\n",
			},
			// Lines 5 and 6 are down directives to dbmate whatever their options: line 5 starts the
			// down section, and line 6 is a second one.
			want: []string{"1_a up:1 down:0"},
			errs: []string{`1_a.sql:1: unknown dbmate directive "migrate:upp"`, `1_a.sql:4: unknown dbmate directive "migrate:UP"`,
				`1_a.sql:5: unknown dbmate option "transaction:off"`, `1_a.sql:6: unknown dbmate option "notx"`,
				`1_a.sql:6: second -- migrate:down with no -- migrate:up since the one on line 5: dbmate refuses it ("dbmate requires each migration to define an up block`,
				"1_a.sql:7: dbmate directive must start its line"},
		},
		{
			// dbmate's patterns (?m)^--\s*migrate:up(\s*$|\s+\S+) and ^--\s*migrate:down(\s*$|\s+\S+) match
			// a directive line whatever words follow it: a bad option is reported on its line alone, and
			// the line still starts its section. dbmate itself ignores an option it does not know (and a
			// transaction value other than "false"), so such a section runs in a transaction; of two
			// transaction options the last one counts (pkg/dbmate/migration.go parseMigrationOptions).
			name: "bad options keep their section",
			files: map[string]string{
				"1_case.sql":  "-- migrate:up transaction:FALSE\nCREATE TABLE t (id bigint);\n-- migrate:down\nDROP TABLE t;\n",
				"2_space.sql": "-- migrate:up transaction: false\nCREATE TABLE u (id bigint);\n-- migrate:down\nDROP TABLE u;\n",
				"3_extra.sql": "-- migrate:up transaction:false foo:bar\nCREATE INDEX CONCURRENTLY i ON t (id);\n-- migrate:down transaction:FALSE\nDROP INDEX i;\n",
				"4_last.sql":  "-- migrate:up transaction:false transaction:true\nCREATE TABLE v (id bigint);\n-- migrate:down transaction:true transaction:false\nDROP TABLE v;\n",
			},
			want: []string{"1_case up:1 down:1", "2_space up:1 down:1", "3_extra up:1 down:1 notx", "4_last up:1 down:1 down-notx"},
			errs: []string{`1_case.sql:1: unknown dbmate option "transaction:FALSE"`, `2_space.sql:1: unknown dbmate option "transaction:"`,
				`3_extra.sql:1: unknown dbmate option "foo:bar"`, `3_extra.sql:3: unknown dbmate option "transaction:FALSE"`},
		},
		{
			// dbmate 2 cuts a file into sections at each -- migrate:up line, each with its own up and down
			// blocks and options (pkg/dbmate/migration.go getMigrationSectionSubstrings, parseMigrationSection),
			// and runs them in file order, up and down alike (db.go Migrate, Rollback). A section with two
			// down blocks is refused with ErrParseMissingUp, one without a down block with
			// ErrParseMissingDown. Migrate records the version after each section's up block, so the second
			// section fails on PostgreSQL with a duplicate key in schema_migrations (amacneil/dbmate#820).
			name: "several up and down pairs",
			files: map[string]string{
				"1_pairs.sql": "-- migrate:up\nCREATE TABLE a (id bigint);\n-- migrate:down\nDROP TABLE a;\n" +
					"-- migrate:up\nCREATE TABLE b (id bigint);\nCREATE TABLE c (id bigint);\n-- migrate:down\nDROP TABLE c;\nDROP TABLE b;\n",
				"2_downs.sql": "-- migrate:up\nCREATE TABLE d (id bigint);\n-- migrate:down\nDROP TABLE d;\n-- migrate:down\nSELECT 1;\n",
				"3_nodown.sql": "-- migrate:up\nCREATE TABLE e (id bigint);\n-- migrate:down\nDROP TABLE e;\n" +
					"-- migrate:up\nCREATE TABLE f (id bigint);\n",
				// Each section has its own transaction option: the index is alone in its section, which
				// dbmate sends as a query of its own.
				"4_options.sql": "-- migrate:up\nCREATE TABLE g (id bigint);\n-- migrate:down\nDROP TABLE g;\n" +
					"-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY g_i ON g (id);\n-- migrate:down transaction:false\nDROP INDEX CONCURRENTLY g_i;\n",
				// A down line before the first up is a comment to dbmate, not a down block: the SQL below it
				// is SQL before the first up, for which dbmate refuses the file.
				"5_order.sql": "-- migrate:down\nSELECT 0;\n-- migrate:up\nCREATE TABLE h (id bigint);\n-- migrate:down\nDROP TABLE h;\n",
			},
			want: []string{"1_pairs up:3 down:3", "2_downs up:1 down:2", "3_nodown up:2 down:1", "4_options up:2 down:2 notx down-notx", "5_order up:1 down:1"},
			errs: []string{
				`1_pairs.sql:5: second -- migrate:up (the first is on line 1): dbmate records the version after each up block, so on PostgreSQL it fails here`,
				`2_downs.sql:5: second -- migrate:down with no -- migrate:up since the one on line 3: dbmate refuses it ("dbmate requires each migration to define an up block`,
				`3_nodown.sql:5: second -- migrate:up (the first is on line 1)`,
				`3_nodown.sql:5: no -- migrate:down after this -- migrate:up: dbmate refuses it ("dbmate requires each migration to define a down block`,
				`4_options.sql:5: second -- migrate:up (the first is on line 1)`,
				`5_order.sql:2: SQL before the first -- migrate:up line: dbmate refuses the file ("dbmate does not support statements preceding the '-- migrate:up' block")`,
			},
			warns: []string{"5_order.sql:1: ignored: dbmate takes a -- migrate:down line before the first -- migrate:up for a comment"},
		},
		{
			// getMigrationSectionSubstrings (pkg/dbmate/migration.go) cuts the file at its -- migrate:up
			// lines and only asks, with statementsPrecedeMigrateBlocks, that every line before the first
			// one be blank or a comment (^\s*--), as a -- migrate:down line is, whatever its options:
			// dbmate drops those lines, and parseMigrationSection reads each section from its up line.
			name: "down line before the first up, with only comments before the up",
			files: map[string]string{
				"1_leading.sql": "-- header\n-- migrate:down\n-- nothing to undo here\n\n-- migrate:up\nCREATE TABLE k (id bigint);\n-- migrate:down\nDROP TABLE k;\n",
				"2_options.sql": "-- migrate:down transaction:false notx\n-- migrate:down\n-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY k_i ON k (id);\n" +
					"-- migrate:down transaction:false\nDROP INDEX CONCURRENTLY k_i;\n",
				// The up line's section still needs its own down line (ErrParseMissingDown).
				"3_nodown.sql": "-- migrate:down\n-- migrate:up\nCREATE TABLE m (id bigint);\n",
			},
			want: []string{"1_leading up:1 down:1", "2_options up:1 down:1 notx down-notx", "3_nodown up:1 down:-"},
			errs: []string{"3_nodown.sql:0: no -- migrate:down section: dbmate refuses it"},
			warns: []string{"1_leading.sql:2: ignored: dbmate takes a -- migrate:down line before the first -- migrate:up for a comment",
				"2_options.sql:1: ignored: dbmate takes a -- migrate:down line", "2_options.sql:2: ignored: dbmate takes a -- migrate:down line",
				"3_nodown.sql:1: ignored: dbmate takes a -- migrate:down line"},
		},
		{
			// statementsPrecedeMigrateBlocks (pkg/dbmate/migration.go) reads the lines before the first
			// -- migrate:up one by one and refuses the file (ErrParseUnexpectedStmt) for any that is
			// neither blank (^\s*$) nor a -- comment (^\s*--): a /* */ comment there is such a line,
			// although it holds no statement. Below the up line it is SQL like any other.
			name: "block comment before the first up",
			files: map[string]string{
				"1_block.sql":  "/* header */\n-- migrate:up\nCREATE TABLE a (id bigint);\n-- migrate:down\nDROP TABLE a;\n",
				"2_multi.sql":  "-- fine\n\n/*\n * header\n */\n-- migrate:up\nCREATE TABLE b (id bigint);\n-- migrate:down\nDROP TABLE b;\n",
				"3_below.sql":  "-- migrate:up\n/* fine here */\nCREATE TABLE c (id bigint);\n-- migrate:down\nDROP TABLE c;\n",
				"4_dashes.sql": "   -- an indented comment is a comment\n\t\r\n-- migrate:up\nCREATE TABLE d (id bigint);\n-- migrate:down\nDROP TABLE d;\n",
				"5_semi.sql":   ";\n-- migrate:up\nCREATE TABLE e (id bigint);\n-- migrate:down\nDROP TABLE e;\n",
			},
			want: []string{"1_block up:1 down:1", "2_multi up:1 down:1", "3_below up:1 down:1", "4_dashes up:1 down:1", "5_semi up:1 down:1"},
			errs: []string{
				`1_block.sql:1: block comment before the first -- migrate:up line: dbmate allows only blank lines and -- comments there; dbmate refuses the file ("dbmate does not support statements preceding the '-- migrate:up' block")`,
				"2_multi.sql:3: block comment before the first -- migrate:up line",
				"5_semi.sql:1: text that is neither a blank line nor a -- comment before the first -- migrate:up line",
			},
		},
		{
			// dbmate's markers are anchored at the start of the line ((?m)^--\s*migrate:up, ^--\s*migrate:down):
			// an indented one is a comment line, which dbmate lets stand before the first -- migrate:up
			// (isCommentLine is ^\s*--). Below it, it is a comment inside the block, which dbmate runs
			// as such: reported, since the SQL under it stays in the block above.
			name: "indented markers",
			files: map[string]string{
				"1_lead.sql":   "  -- migrate:down\n\t-- migrate:up\n-- migrate:up\nCREATE TABLE a (id bigint);\n-- migrate:down\nDROP TABLE a;\n",
				"2_inside.sql": "-- migrate:up\nCREATE TABLE b (id bigint);\n  -- migrate:down\n-- migrate:down\nDROP TABLE b;\n",
				"3_only.sql":   " -- migrate:up\nCREATE TABLE c (id bigint);\n",
			},
			want: []string{"1_lead up:1 down:1", "2_inside up:1 down:1"},
			errs: []string{"2_inside.sql:3: dbmate directive must start its line: dbmate takes an indented one for a comment",
				"3_only.sql:0: no -- migrate:up section"},
			warns: []string{"1_lead.sql:1: ignored: dbmate takes an indented -- migrate:down line for a comment",
				"1_lead.sql:2: ignored: dbmate takes an indented -- migrate:up line for a comment",
				"3_only.sql:1: ignored: dbmate takes an indented -- migrate:up line for a comment"},
		},
		{
			// dbmate's version is the leading digits of the name (`^(\d+).*\.sql$`); what follows, after its
			// separator, is the description.
			name: "dash after the version",
			files: map[string]string{
				"00000000000000-initial-schema.sql": "-- migrate:up\nCREATE TABLE t (id bigint);\n-- migrate:down\nDROP TABLE t;\n",
				"20240101000000_add_users.sql":      "-- migrate:up\nCREATE TABLE users (id bigint);\n-- migrate:down\nDROP TABLE users;\n",
			},
			want: []string{"00000000000000_initial-schema up:1 down:1", "20240101000000_add_users up:1 down:1"},
		},
		{
			name: "sections",
			files: map[string]string{
				"1_noup.sql":    "create table t (id int);\n",
				"2_order.sql":   "-- migrate:down\ndrop table t;\n-- migrate:up\ncreate table t (id int);\n",
				"3_outside.sql": "select 0;\n-- migrate:up\nselect 1;\n-- migrate:down\n",
				"4_empty.sql":   "-- migrate:up\n\n-- migrate:down\ndrop table t;\n",
				"5_noop.sql":    "-- migrate:up\n-- migrate:down\n",
			},
			want: []string{"2_order up:1 down:-", "3_outside up:1 down:0", "4_empty up:0 down:1", "5_noop up:0 down:0"},
			errs: []string{"1_noup.sql:0: no -- migrate:up section", "2_order.sql:0: no -- migrate:down section: dbmate refuses it",
				"2_order.sql:2: SQL before the first -- migrate:up line: dbmate refuses the file",
				"3_outside.sql:1: SQL before the first -- migrate:up line: dbmate refuses the file"},
			// db.go Migrate sends the empty up block (PostgreSQL answers an empty query) and records the
			// version: a migration whose SQL may be in the wrong block, not one dbmate refuses.
			warns: []string{"2_order.sql:1: ignored: dbmate takes a -- migrate:down line before the first -- migrate:up for a comment",
				"4_empty.sql:1: -- migrate:up section has no SQL statement but the down script has: dbmate records migration 4_empty and runs nothing for its up",
				"5_noop.sql:1: migration 5_noop has no SQL statement; dbmate runs it as a no-op"},
		},
		{
			name: "names, duplicates, encoding",
			files: map[string]string{
				"20240101_a.sql": "-- migrate:up\nselect 1;\n-- migrate:down\n",
				"20240101_b.sql": "-- migrate:up\nselect 2;\n-- migrate:down\n",
				"20240102.sql":   "-- migrate:up\nselect 3;\n-- migrate:down\n",
				"seed.sql":       "insert into t values (1);\n",
				"20240103_x.sql": "-- migrate:up\nselect '\xff';\n",
				"20240104_y.sql": "\n\n",
			},
			want:  []string{"20240101_a up:1 down:0", "20240101_b up:1 down:0", "20240102 up:1 down:0"},
			errs:  []string{"20240101_b.sql:0: duplicate version 20240101 (also 20240101_a.sql)", "20240103_x.sql:2: file is not valid UTF-8", "20240104_y.sql:0: empty file"},
			warns: []string{"seed.sql:0: ignored: not a dbmate migration file name"},
		},
		{
			// pkg/dbmate/migration.go parseMigrationContents: ErrParseMissingDown; its up pattern
			// (?m)^--\s*migrate:up does not match after a byte-order mark.
			name: "down required, no byte-order mark",
			files: map[string]string{
				"1_nodown.sql": "-- migrate:up\nCREATE TABLE a (id bigint);\n",
				"2_bom.sql":    "\uFEFF-- migrate:up\nCREATE TABLE b (id bigint);\n-- migrate:down\nDROP TABLE b;\n",
				"3_ok.sql":     "-- migrate:up\nCREATE TABLE c (id bigint);\n-- migrate:down\n",
			},
			want: []string{"1_nodown up:1 down:-", "2_bom up:1 down:1", "3_ok up:1 down:0"},
			errs: []string{"1_nodown.sql:0: no -- migrate:down section: dbmate refuses it", "2_bom.sql:1: dbmate refuses a file that starts with a byte-order mark"},
		},
		{
			// dbmate matches `^(\d+).*\.sql$` (case-sensitive) and never opens other names: an editor's
			// lock file .#1_a.sql is a dangling link.
			name: "names dbmate never reads",
			files: map[string]string{
				"1_a.sql":   "-- migrate:up\nCREATE TABLE a (id bigint);\n-- migrate:down\nDROP TABLE a;\n",
				"2_b.SQL":   "-- migrate:up\nCREATE TABLE b (id bigint);\n-- migrate:down\nDROP TABLE b;\n",
				".#1_a.sql": symlinkTo + "root@host.1234:1700000000",
				".DS_Store": "",
			},
			want:  []string{"1_a up:1 down:1"},
			warns: []string{"2_b.SQL:0: ignored: dbmate only reads .sql files"},
		},
	})
}

func TestReadDbmatePositions(t *testing.T) {
	t.Parallel()
	src := "-- migrate:up\r\ncreate table t (id int);\r\n\r\n-- migrate:down\r\n\r\n  drop table t;\r\n"
	set, err := Read(mapFS(map[string]string{"20240101_t.sql": src}), FormatDbmate)
	if err != nil {
		t.Fatal(err)
	}
	m := set.Migrations[0]
	up, down := m.Up.Statements[0], m.Down.Statements[0]
	if up.Pos.String() != "2:1" || down.Pos.String() != "6:3" || down.SQL != "drop table t" {
		t.Errorf("up at %v, down %q at %v; want 2:1 and 6:3", up.Pos, down.SQL, down.Pos)
	}
	if m.Down.Start != len("-- migrate:up\r\ncreate table t (id int);\r\n\r\n-- migrate:down\r\n") {
		t.Errorf("down section starts at %d", m.Down.Start)
	}
}

// A bad option's hint says what dbmate makes of it: it ignores the option and runs the section in a
// transaction (unless a transaction:false on the line holds).
func TestDbmateOptionHints(t *testing.T) {
	t.Parallel()
	for opts, want := range map[string]string{
		"transaction:FALSE":         "write transaction:false in lower case: dbmate ignores any other spelling and runs the section in a transaction",
		"transaction: false":        "write transaction:false without a space: dbmate ignores the two words and runs the section in a transaction",
		"transaction:false foo:bar": "dbmate knows only transaction:false and transaction:true; it ignores anything else",
		"notx":                      "dbmate knows only transaction:false and transaction:true; it ignores anything else and runs the section in a transaction",
	} {
		src := "-- migrate:up " + opts + "\nCREATE TABLE t (id bigint);\n-- migrate:down\nDROP TABLE t;\n"
		_, err := Read(mapFS(map[string]string{"1_t.sql": src}), FormatDbmate)
		errs := readErrors(t, err)
		if len(errs) != 1 || errs[0].Line != 1 || errs[0].Hint != want {
			t.Errorf("%q: errors %+v, want one on line 1 with hint %q", opts, errs, want)
		}
	}
}
