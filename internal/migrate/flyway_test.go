package migrate

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/repofs"
)

func TestReadFlyway(t *testing.T) {
	t.Parallel()
	runReadCases(t, FormatFlyway, []readCase{
		{
			name: "versions part by part, undo, repeatables last, subfolders, settings",
			files: map[string]string{
				"V1__init.sql":                 "CREATE TABLE t (id int);",
				"V1.10__later.sql":             "SELECT 110;",
				"V1_2__underscored.sql":        "SELECT 12;",
				"U1_2__underscored.sql":        "SELECT -12;",
				"V1.2.1__patch.sql":            "SELECT 121;",
				"V2__index.sql":                "CREATE INDEX CONCURRENTLY i ON t (id);",
				"V2__index.sql.conf":           "# script settings\nexecuteInTransaction = false\nencoding=UTF-8\n",
				"U2__index.sql":                "DROP INDEX CONCURRENTLY i;",
				"U2__index.sql.conf":           "executeInTransaction=FALSE",
				"R__views.sql":                 "CREATE OR REPLACE VIEW v AS SELECT 1;",
				"R__a_functions.sql":           "SELECT 1;",
				"sub/V3__deeper.sql":           "SELECT 3;",
				"beforeMigrate.sql":            "SELECT 0;",
				"README.md":                    "docs",
				".hidden/V9__not_read.sql":     "SELECT 9;",
				"V10__trailing_zero_parts.sql": "SELECT 10;",
				"V10.0.1__after_ten.sql":       "SELECT 1001;",
				"views.sql":                    "SELECT 4;",
			},
			want: []string{
				"1_init up:1 down:-", "1.2_underscored up:1 down:1", "1.2.1_patch up:1 down:-", "1.10_later up:1 down:-",
				"2_index up:1 down:1 notx down-notx", "3_deeper up:1 down:-", "10_trailing_zero_parts up:1 down:-",
				"10.0.1_after_ten up:1 down:-", "a_functions up:1 down:- repeatable", "views up:1 down:- repeatable",
			},
			warns: []string{"beforeMigrate.sql:0: ignored: Flyway callback script", "views.sql:0: ignored: not a Flyway migration file name"},
		},
		{
			name: "duplicates and undo without migration",
			files: map[string]string{
				"V1__a.sql":      "SELECT 1;",
				"V1.0__b.sql":    "SELECT 2;",
				"sub/V01__c.sql": "SELECT 3;",
				"U7__gone.sql":   "SELECT 4;",
				"R__v.sql":       "SELECT 5;",
				"other/R__v.sql": "SELECT 6;",
			},
			want: []string{"1.0_b up:1 down:-", "v up:1 down:- repeatable"},
			errs: []string{"U7__gone.sql:0: undo script without a versioned migration", "V1__a.sql:0: duplicate version 1 (also V1.0__b.sql)",
				"other/R__v.sql:0: duplicate repeatable migration \"v\" (also R__v.sql)", "sub/V01__c.sql:0: duplicate version 01 (also V1.0__b.sql)"},
		},
		{
			// Flyway's SqlMigrationResolver skips a file whose name ResourceNameParser finds invalid (a
			// version that is no number, a prefix in another case): only validateMigrationNaming=true
			// (false by default) makes ResourceNameValidator refuse them ("Invalid SQL filenames found").
			// Baseline migrations are names Flyway runs.
			name: "versioned-looking names that fit no pattern",
			files: map[string]string{
				"V1__ok.sql":    "SELECT 1;",
				"V2_single.sql": "SELECT 2;",
				"V3.x__bad.sql": "SELECT 3;",
				"v4__lower.sql": "SELECT 4;",
				"B5__base.sql":  "SELECT 5;",
				"views.sql":     "SELECT 7;",
				"README.md":     "docs",
			},
			want: []string{"1_ok up:1 down:-"},
			errs: []string{"B5__base.sql:0: Flyway baseline migrations are not supported"},
			warns: []string{"V2_single.sql:0: ignored: Flyway file name has no __ between version and description: Flyway skips such a name (validateMigrationNaming is false)",
				"V3.x__bad.sql:0: ignored: invalid Flyway version 3.x", "v4__lower.sql:0: ignored: Flyway prefixes are case-sensitive: V, U and R",
				"views.sql:0: ignored: not a Flyway migration file name"},
		},
		{
			name: "validateMigrationNaming=true refuses them",
			files: map[string]string{
				"flyway.conf":       "flyway.validateMigrationNaming=true\n",
				"V1__ok.sql":        "SELECT 1;",
				"V2_single.sql":     "SELECT 2;",
				"V3.x__bad.sql":     "SELECT 3;",
				"v4__lower.sql":     "SELECT 4;",
				"views.sql":         "SELECT 7;",
				"beforeMigrate.sql": "SELECT 0;",
				"README.md":         "docs",
			},
			want: []string{"1_ok up:1 down:-"},
			errs: []string{"V2_single.sql:0: Flyway file name has no __ between version and description",
				"V3.x__bad.sql:0: invalid Flyway version 3.x", "v4__lower.sql:0: Flyway prefixes are case-sensitive: V, U and R",
				"views.sql:0: not a Flyway migration file name: Flyway refuses it (validateMigrationNaming=true)"},
			warns: []string{"beforeMigrate.sql:0: ignored: Flyway callback script"},
		},
		{
			name: "validateMigrationNaming=true in flyway.toml",
			files: map[string]string{
				"flyway.toml":   "[flyway]\nvalidateMigrationNaming = true\n",
				"V1__ok.sql":    "SELECT 1;",
				"V2_single.sql": "SELECT 2;",
				"views.sql":     "SELECT 7;",
			},
			want: []string{"1_ok up:1 down:-"},
			errs: []string{"V2_single.sql:0: Flyway file name has no __ between version and description",
				"views.sql:0: not a Flyway migration file name: Flyway refuses it (validateMigrationNaming=true)"},
		},
		{
			name: "script settings",
			files: map[string]string{
				"V1__a.sql":      "SELECT 1;",
				"V1__a.sql.conf": "executeInTransaction\nmixed=1\nexecuteInTransaction=maybe\n",
				"V2__b.sql.conf": "executeInTransaction=false",
				"V3__c.sql":      "\n",
				"V4__d.sql":      "-- nothing yet",
				"U4__d.sql":      "SELECT 1;",
			},
			want: []string{"1_a up:1 down:-", "4_d up:0 down:1"},
			// A line with a key alone is the key with an empty value (java.util.Properties), which
			// SqlScriptMetadata refuses for executeInTransaction.
			errs: []string{"V1__a.sql.conf:1: invalid executeInTransaction value \"\"", "V1__a.sql.conf:2: unknown Flyway script setting \"mixed\"",
				"V1__a.sql.conf:3: invalid executeInTransaction value \"maybe\"", "V2__b.sql.conf:0: script settings for a missing script V2__b.sql",
				"V3__c.sql:0: empty file"},
			warns: []string{"V4__d.sql:0: V script has no SQL statement but the down script has: Flyway records migration 4_d and runs nothing for its up"},
		},
		{
			// ParserSqlScript.parse: with mixed false, a script that holds statements Flyway runs outside
			// a transaction and others is refused at the statement by which both kinds are found,
			// repeatable and undo scripts too; a script whose .conf sets executeInTransaction is not.
			name: "mixed statements refused",
			files: map[string]string{
				"V1__a.sql":      "VACUUM t;\n\nCREATE SUBSCRIPTION s CONNECTION 'host=db' PUBLICATION p WITH (connect = false);\nSELECT 1;\n",
				"U1__a.sql":      "DROP SUBSCRIPTION s;\nSELECT 1;\n",
				"V2__b.sql":      "CREATE TABLE b (id int);\nCREATE INDEX CONCURRENTLY b_i ON b (id);\n",
				"V2__b.sql.conf": "executeInTransaction=false\n",
				"R__c.sql":       "SELECT 1;\nDISCARD ALL;\n",
			},
			want: []string{"1_a up:3 down:2", "2_b up:2 down:- notx", "c up:2 down:- repeatable"},
			errs: []string{"R__c.sql:2: Flyway refuses a script that mixes statements it runs outside a transaction with others while mixed is false",
				"U1__a.sql:2: Flyway refuses", "V1__a.sql:4: Flyway refuses"},
		},
		{
			// A script's .conf is read as a flyway.conf is (ConfigUtils.loadConfigurationFromReader, from
			// SqlScriptMetadata.fromResource): "key: value" and "key value" are settings, ! a comment.
			name: "script settings as Java properties",
			files: map[string]string{
				"V1__a.sql":      "CREATE INDEX CONCURRENTLY a_i ON t (id);",
				"V1__a.sql.conf": "! settings\nexecuteInTransaction: false\n",
				"V2__b.sql":      "CREATE INDEX CONCURRENTLY b_i ON t (id);",
				"V2__b.sql.conf": "executeInTransaction   false\nplaceholderReplacement:false\n",
				"V3__c.sql":      "SELECT 1;",
				"V3__c.sql.conf": "executeInTransaction=fal\\\n  se\n",
			},
			want: []string{"1_a up:1 down:- notx", "2_b up:1 down:- notx", "3_c up:1 down:- notx"},
		},
		{
			// ResourceNameParser.java: the description is the name with _ as spaces; repeatables run in
			// the order of their descriptions (ResolvedMigrationComparator).
			name: "repeatables by description",
			files: map[string]string{
				"V1__init.sql":            "CREATE TABLE a (id int);",
				"R__create-functions.sql": "SELECT 1;",
				"R__create_views.sql":     "SELECT 2;",
				"R__my_view.sql":          "SELECT 3;",
				"R__my view.sql":          "SELECT 4;",
			},
			want: []string{"1_init up:1 down:-", "create_views up:1 down:- repeatable", "create-functions up:1 down:- repeatable", "my view up:1 down:- repeatable"},
			errs: []string{`R__my_view.sql:0: duplicate repeatable migration "my view" (also R__my view.sql)`},
		},
		{
			// ResolvedMigrationComparator compares descriptions with Java's String.compareTo, by UTF-16
			// code unit: an emoji (U+1F600, the surrogates D83D DE00) sorts before a full-width form
			// (U+FF61) and a private-use character (U+E000), where byte or code point order puts it last.
			name: "repeatables in Java's string order",
			files: map[string]string{
				"R__view_\uff61.sql":      "SELECT 1;",
				"R__view_\U0001F600.sql":  "SELECT 2;",
				"R__view_\ue000.sql":      "SELECT 3;",
				"R__view_\u4e2d.sql":      "SELECT 4;",
				"R__view_\U0001F600a.sql": "SELECT 5;",
				"R__view_\U0001F601.sql":  "SELECT 6;",
			},
			want: []string{"view_\u4e2d up:1 down:- repeatable", "view_\U0001F600 up:1 down:- repeatable", "view_\U0001F600a up:1 down:- repeatable",
				"view_\U0001F601 up:1 down:- repeatable", "view_\ue000 up:1 down:- repeatable", "view_\uff61 up:1 down:- repeatable"},
		},
		{
			// ResourceNameParser.parse: a repeatable name must have nothing before its first separator
			// (no version); the description after it may be empty, and so may both when the name is the
			// prefix alone (splitAtFirstSeparator of "" is "" and ""). SqlMigrationResolver runs such a
			// script as the repeatable migration with the description "", first in description order.
			name: "repeatable with an empty description",
			files: map[string]string{
				"V1__init.sql":    "CREATE TABLE a (id int);",
				"R__.sql":         "CREATE OR REPLACE VIEW v AS SELECT 1;",
				"R__a_view.sql":   "CREATE OR REPLACE VIEW av AS SELECT 2;",
				"other/R.sql":     "CREATE OR REPLACE VIEW w AS SELECT 3;",
				"Rx__version.sql": "SELECT 4;",
			},
			want:  []string{"1_init up:1 down:-", "R__ up:1 down:- repeatable", "a_view up:1 down:- repeatable"},
			errs:  []string{`other/R.sql:0: duplicate repeatable migration with an empty description (also R__.sql)`},
			warns: []string{"Rx__version.sql:0: ignored: not a Flyway migration file name"},
		},
		{
			// splitAtSeparator: without __ all of the name is the version, the description empty.
			name: "version without description",
			files: map[string]string{
				"V1.sql":    "CREATE TABLE a (id int);",
				"V1_1.sql":  "SELECT 11;",
				"U1.sql":    "DROP TABLE a;",
				"V2__b.sql": "SELECT 2;",
			},
			want: []string{"1 up:1 down:1", "1.1 up:1 down:-", "2_b up:1 down:-"},
		},
		{
			// Flyway's sqlMigrationSuffixes end with ".sql", compared case-sensitively.
			name: "upper-case extension is ignored",
			files: map[string]string{
				"V1__init.sql":     "CREATE TABLE a (id int);",
				"V2__more.SQL":     "CREATE TABLE b (id int);",
				"sub/R__views.Sql": "SELECT 1;",
			},
			want:  []string{"1_init up:1 down:-"},
			warns: []string{"V2__more.SQL:0: ignored: Flyway only reads .sql files", "sub/R__views.Sql:0: ignored: Flyway only reads .sql files"},
		},
	})
}

func TestCompareFlywayVersions(t *testing.T) {
	t.Parallel()
	versions := [][]string{{"1", "10"}, {"2"}, {"1", "9"}, {"1"}, {"1", "2", "1"}, {"1", "2"}, {"10"}, {"99999999999999999999999"}}
	slices.SortFunc(versions, compareFlywayVersions)
	want := [][]string{{"1"}, {"1", "2"}, {"1", "2", "1"}, {"1", "9"}, {"1", "10"}, {"2"}, {"10"}, {"99999999999999999999999"}}
	if !slices.EqualFunc(versions, want, slices.Equal) {
		t.Errorf("sorted = %q, want %q", versions, want)
	}
	if compareFlywayVersions([]string{"1", "0", "0"}, []string{"01"}) != 0 {
		t.Error("1.0.0 and 01 should be the same version")
	}
}

// TestFlywayKeys: every migration of a Flyway folder has its own Key, repeatable ones by name (R__ for
// R__.sql, whose description is empty), and Find looks them up by it (they have no version, so the empty
// one finds nothing).
func TestFlywayKeys(t *testing.T) {
	set, err := readMap(t, FormatFlyway, map[string]string{
		"V1__a.sql": "CREATE TABLE a (id int);", "R__a_view.sql": "CREATE OR REPLACE VIEW av AS SELECT 1;",
		"R__b_view.sql": "CREATE OR REPLACE VIEW bv AS SELECT 2;", "R__.sql": "CREATE OR REPLACE VIEW v AS SELECT 3;",
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range set.Migrations {
		if seen[m.Key()] || set.Find(m.Key()) != m {
			t.Errorf("key %q of %s is shared or not found", m.Key(), m.ID())
		}
		seen[m.Key()] = true
	}
	if !seen["1"] || !seen["R__a_view"] || !seen["R__"] || set.Find("") != nil {
		t.Errorf("keys %v, Find(\"\") = %v; want 1, R__a_view, R__b_view, R__ and nothing for the empty version", seen, set.Find(""))
	}
	// The repeatable migration with an empty description is named by its key, and found by it.
	if m := set.Lookup("R__"); m == nil || m.ID() != "R__" || m.Up.File != "R__.sql" {
		t.Errorf("Lookup(R__) = %v, want the migration of R__.sql named R__", m)
	}
}

// TestFlywayNamingSettings: Flyway names scripts {prefix}{version}{separator}{description}{suffix}
// with the prefixes, separator and suffixes of its configuration (sqlMigrationPrefix,
// undoSqlMigrationPrefix, repeatableSqlMigrationPrefix, sqlMigrationSeparator, sqlMigrationSuffixes;
// ResourceNameParser.java). A flyway.conf or flyway.toml in the migration folder is read when the
// working directory has none, and makes the folder a Flyway one.
func TestFlywayNamingSettings(t *testing.T) {
	for _, k := range []string{"FLYWAY_CONFIG_FILES", "FLYWAY_SQL_MIGRATION_SEPARATOR", "FLYWAY_SQL_MIGRATION_PREFIX",
		"FLYWAY_SQL_MIGRATION_SUFFIXES", "FLYWAY_REPEATABLE_SQL_MIGRATION_PREFIX", "FLYWAY_UNDO_SQL_MIGRATION_PREFIX",
		"FLYWAY_VALIDATE_MIGRATION_NAMING"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Chdir(t.TempDir())
	dash := map[string]string{
		"flyway.conf":   "flyway.sqlMigrationSeparator=-\n",
		"V1-t.sql":      "CREATE TABLE t (id int);\n",
		"V1_1-more.sql": "ALTER TABLE t ADD COLUMN a int;\n",
		"U1-t.sql":      "DROP TABLE t;\n",
		"R-v.sql":       "CREATE OR REPLACE VIEW v AS SELECT id FROM t;\n",
		"V2__old.sql":   "SELECT 2;\n",
	}
	for _, format := range []Format{FormatAuto, FormatFlyway} {
		readCasesInOrder(t, FormatFlyway, []readCase{{
			name:   "separator - from flyway.conf, " + string(format),
			format: format,
			files:  dash,
			want:   []string{"1_t up:1 down:1", "1.1_more up:1 down:-", "v up:1 down:- repeatable"},
			warns:  []string{"V2__old.sql:0: ignored: Flyway file name has no - between version and description"},
		}})
	}
	toml := map[string]string{
		"flyway.toml": "[flyway]\nsqlMigrationPrefix = \"M\"\nundoSqlMigrationPrefix = \"D\"\nrepeatableSqlMigrationPrefix = \"RR\"\n" +
			"sqlMigrationSeparator = \"--\"\nsqlMigrationSuffixes = [\".pgsql\", \".sql\"]\n",
		"M1--init.pgsql":  "CREATE TABLE t (id int);\n",
		"D1--init.pgsql":  "DROP TABLE t;\n",
		"M2--more.sql":    "ALTER TABLE t ADD COLUMN a int;\n",
		"RR--view.pgsql":  "CREATE OR REPLACE VIEW v AS SELECT id FROM t;\n",
		"sub/M3--x.pgsql": "SELECT 3;\n",
		"V4__std.sql":     "SELECT 4;\n",
		"notes.txt":       "x",
	}
	readCasesInOrder(t, FormatFlyway, []readCase{{
		name:  "prefixes, separator and suffixes from flyway.toml",
		files: toml,
		want:  []string{"1_init up:1 down:1", "2_more up:1 down:-", "3_x up:1 down:-", "view up:1 down:- repeatable"},
		warns: []string{"V4__std.sql:0: ignored: not a Flyway migration file name"},
	}})

	// The environment overrides the files, as in the Flyway CLI.
	t.Setenv("FLYWAY_SQL_MIGRATION_SEPARATOR", "__")
	readCasesInOrder(t, FormatFlyway, []readCase{{
		name:  "FLYWAY_SQL_MIGRATION_SEPARATOR",
		files: with(dash, map[string]string{"V1-t.sql": "", "U1-t.sql": "", "V1_1-more.sql": "", "R-v.sql": ""}),
		want:  []string{"2_old up:1 down:-"},
	}})
	os.Unsetenv("FLYWAY_SQL_MIGRATION_SEPARATOR")
	t.Setenv("FLYWAY_VALIDATE_MIGRATION_NAMING", "true")
	readCasesInOrder(t, FormatFlyway, []readCase{{
		name:  "FLYWAY_VALIDATE_MIGRATION_NAMING",
		files: map[string]string{"V1__t.sql": "SELECT 1;\n", "views.sql": "SELECT 2;\n"},
		want:  []string{"1_t up:1 down:-"},
		errs:  []string{"views.sql:0: not a Flyway migration file name: Flyway refuses it (validateMigrationNaming=true)"},
	}})
	os.Unsetenv("FLYWAY_VALIDATE_MIGRATION_NAMING")

	// A flyway.conf in the working directory is the one Flyway reads: the folder's own is ignored, and said so.
	if err := os.WriteFile("flyway.conf", []byte("flyway.sqlMigrationPrefix=V\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	readCasesInOrder(t, FormatFlyway, []readCase{{
		name:   "flyway.conf in the working directory wins",
		format: FormatFlyway,
		files:  map[string]string{"flyway.conf": "flyway.sqlMigrationSeparator=-\n", "V1__t.sql": "SELECT 1;\n"},
		want:   []string{"1_t up:1 down:-"},
		warns:  []string{"flyway.conf:0: ignored: Flyway reads its configuration from the working directory"},
	}})
}

// readCasesInOrder is runReadCases for a test that sets the environment or the working directory: its
// cases run one after the other, with the settings of the moment.
func readCasesInOrder(t *testing.T, format Format, cases []readCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			set, err := Read(mapFS(tc.files), cmpOr(tc.format, format))
			matchProblems(t, "error", describe(readErrors(t, err)), tc.errs)
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

// TestReadFlywayLocations: Flyway reads scripts only from its locations (flyway.locations, a flyway.toml's
// locations, an environment's), with their subfolders and wildcards; a location that does not exist is
// skipped (failOnMissingLocations=true fails); one schemagate cannot read (the classpath, cloud storage, a
// path out of the folder) says what was done, and a script outside the locations is not Flyway's, for
// detection too.
func TestReadFlywayLocations(t *testing.T) {
	t.Parallel()
	pg := map[string]string{"db/pg/V1__a.sql": "CREATE TABLE a (id bigint);", "db/h2/V2__h2_only.sql": "CREATE TABLE b (id bigint) ENGINE=MEMORY;"}
	runReadCases(t, FormatFlyway, []readCase{
		{
			name:  "flyway.conf locations",
			files: with(pg, map[string]string{"flyway.conf": "flyway.locations=filesystem:db/pg\n"}),
			want:  []string{"1_a up:1 down:-"},
		},
		{
			name:  "flyway.toml locations",
			files: with(pg, map[string]string{"flyway.toml": "[flyway]\nlocations = [\"filesystem:db/pg\"]\n"}),
			want:  []string{"1_a up:1 down:-"},
		},
		{
			name: "an environment's locations override [flyway]'s",
			files: with(pg, map[string]string{"flyway.toml": "[flyway]\nlocations = [\"filesystem:db/h2\"]\n\n" +
				"[environments.default]\nurl = \"jdbc:postgresql://localhost/app\"\n\n[environments.default.flyway]\nlocations = [\"filesystem:./db/pg/\"]\n"}),
			want: []string{"1_a up:1 down:-"},
		},
		{
			name: "several locations, subfolders, a sub-location read once, a script out of them ignored",
			files: map[string]string{
				"flyway.conf":          "flyway.locations=filesystem:db/a, filesystem:db/a/sub,filesystem:db/b\n",
				"db/a/V1__a.sql":       "SELECT 1;",
				"db/a/sub/V2__b.sql":   "SELECT 2;",
				"db/b/deep/V3__c.sql":  "SELECT 3;",
				"db/c/V4__d.sql":       "SELECT 4;",
				"db/c/V5__bad.SQL":     "SELECT 5;",
				"V6__at_the_top.sql":   "SELECT 6;",
				"db/b/R__views.sql":    "SELECT 7;",
				"db/c/V1__a.sql.conf":  "executeInTransaction=false\n",
				"db/a/V1__a.sql.conf":  "executeInTransaction=false\n",
				"db/c/V1__a_again.sql": "SELECT 1;",
			},
			want: []string{"1_a up:1 down:- notx", "2_b up:1 down:-", "3_c up:1 down:-", "views up:1 down:- repeatable"},
		},
		{
			name: "wildcards",
			files: map[string]string{
				"flyway.conf":            "flyway.locations=filesystem:db/**/pg,filesystem:rel?ase/*\n",
				"db/pg/V1__a.sql":        "SELECT 1;",
				"db/x/pg/V2__b.sql":      "SELECT 2;",
				"db/x/y/pg/z/V3__c.sql":  "SELECT 3;",
				"db/h2/V4__d.sql":        "SELECT 4;",
				"db/pgx/V5__e.sql":       "SELECT 5;",
				"release/one/V6__f.sql":  "SELECT 6;",
				"release/V7__top.sql":    "SELECT 7;",
				"releases/one/V8__g.sql": "SELECT 8;",
			},
			want: []string{"1_a up:1 down:-", "2_b up:1 down:-", "3_c up:1 down:-", "6_f up:1 down:-"},
		},
		{
			name:  "a missing location is skipped",
			files: with(pg, map[string]string{"flyway.conf": "flyway.locations=filesystem:db/pg,filesystem:db/mysql\n"}),
			want:  []string{"1_a up:1 down:-"},
			warns: []string{`flyway.conf:1: ignored: Flyway location filesystem:db/mysql does not exist (db/mysql in the migration folder): Flyway skips it ("Skipping filesystem location: db/mysql (not found)")`},
		},
		{
			name:  "failOnMissingLocations",
			files: with(pg, map[string]string{"flyway.conf": "flyway.failOnMissingLocations=true\nflyway.locations=filesystem:db/pg,filesystem:db/mysql\n"}),
			want:  []string{"1_a up:1 down:-"},
			errs:  []string{`flyway.conf:2: Flyway location filesystem:db/mysql does not exist: Flyway fails ("Failed to find filesystem location", failOnMissingLocations=true)`},
		},
		{
			// Without a filesystem location the classpath one stands for the folder (--dir pointed at
			// src/main/resources/db/migration); beside one, its scripts are not rehearsed.
			name:  "classpath only: the folder is read",
			files: with(pg, map[string]string{"flyway.conf": "flyway.locations=db/migration\n"}),
			want:  []string{"1_a up:1 down:-", "2_h2_only up:1 down:-"},
			warns: []string{"flyway.conf:1: Flyway location db/migration is on the Java classpath, which schemagate cannot see: it reads the migration folder in its stead"},
		},
		{
			name:  "classpath, cloud storage and an unknown prefix beside a filesystem location",
			files: with(pg, map[string]string{"flyway.toml": "[flyway]\nlocations = [\"filesystem:db/pg\", \"classpath:db/migration\", \"s3:bucket/sql\", \"ftp:host/sql\"]\n"}),
			want:  []string{"1_a up:1 down:-"},
			errs:  []string{`flyway.toml:2: Flyway location ftp:host/sql has an unknown prefix "ftp:": Flyway refuses it ("Unknown prefix for location")`},
			warns: []string{"flyway.toml:2: Flyway location s3:bucket/sql is in cloud storage, which schemagate does not read: its scripts are not rehearsed",
				"flyway.toml:2: Flyway location classpath:db/migration is on the Java classpath, which schemagate cannot see: its scripts are not rehearsed"},
		},
		{
			name:  "out of the folder, above it, absolute",
			files: with(pg, map[string]string{"flyway.conf": "flyway.locations=filesystem:db/pg,filesystem:../other,filesystem:..,filesystem:/srv/sql\n"}),
			want:  []string{"1_a up:1 down:-", "2_h2_only up:1 down:-"},
			errs: []string{"flyway.conf:1: Flyway location filesystem:../other is outside the migration folder: schemagate cannot rehearse its scripts",
				"flyway.conf:1: Flyway location filesystem:/srv/sql is an absolute path: schemagate cannot tell where it is in the migration folder"},
			warns: []string{"flyway.conf:1: Flyway location filesystem:.. holds the migration folder and more: schemagate reads the migration folder only"},
		},
	})
}

// TestFlywayLocationsWorkingDirectory: a location set in the working directory's configuration (or in
// FLYWAY_LOCATIONS) is relative to the working directory, where Flyway runs; --dir may be a folder
// below it.
func TestFlywayLocationsWorkingDirectory(t *testing.T) {
	for _, k := range []string{"FLYWAY_CONFIG_FILES", "FLYWAY_LOCATIONS", "FLYWAY_ENVIRONMENT"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	top := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		p := filepath.Join(top, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("flyway.conf", "flyway.locations=filesystem:db/pg\n")
	write("db/pg/V1__a.sql", "SELECT 1;")
	write("db/h2/V2__b.sql", "SELECT 2;")
	t.Chdir(top)
	versions := func(t *testing.T, dir string) []string {
		t.Helper()
		set, err := ReadDir(dir, FormatFlyway)
		if err != nil {
			t.Fatalf("read %s: %v", dir, err)
		}
		var out []string
		for _, m := range set.Migrations {
			out = append(out, m.Version)
		}
		return out
	}
	// Detection: a script outside the locations is none of Flyway's, so other/ is golang-migrate's.
	write("other/h2/V2__b.sql", "SELECT 2;")
	write("other/1_init.up.sql", "SELECT 1;")
	fsys, err := repofs.Open("other")
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	if f, err := Detect(fsys); f != FormatGolangMigrate {
		t.Errorf("Detect(other) = %q, %v; want golang-migrate (other/h2 is outside Flyway's location db/pg)", f, err)
	}
	if got := versions(t, "db"); !slices.Equal(got, []string{"1"}) {
		t.Errorf("--dir db with filesystem:db/pg in ./flyway.conf: %v, want [1]", got)
	}
	if got := versions(t, "."); !slices.Equal(got, []string{"1"}) {
		t.Errorf("--dir . with filesystem:db/pg: %v, want [1]", got)
	}
	t.Setenv("FLYWAY_LOCATIONS", "filesystem:"+filepath.Join(top, "db", "h2"))
	if got := versions(t, "db"); !slices.Equal(got, []string{"2"}) {
		t.Errorf("FLYWAY_LOCATIONS (absolute) over the file: %v, want [2]", got)
	}
}

// TestFlywayRenameHintsNameWhatFlywayReads: a rename hint for a file Flyway skips proposed names Flyway
// skips too: 4_d.sql "rename it V4_d.sql" (one _ where __ goes), 5-e.sql "V5-e.sql", v2_b.sql
// "V2_b.sql". A hint names a file Flyway reads, or no new name.
func TestFlywayRenameHintsNameWhatFlywayReads(t *testing.T) {
	t.Parallel()
	set, err := Read(mapFS(map[string]string{"V1__a.sql": "SELECT 1;", "4_d.sql": "SELECT 4;", "5-e.sql": "SELECT 5;", "v2_b.sql": "SELECT 2;"}), FormatFlyway)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, w := range set.Warnings {
		lines = append(lines, w.Error())
	}
	got := strings.Join(lines, "\n")
	for file, want := range map[string]string{"4_d.sql": "rename it V4__d.sql", "v2_b.sql": "rename it V2__b.sql"} {
		if !strings.Contains(got, file) || !strings.Contains(got, want) {
			t.Errorf("warnings lack %q for %s:\n%s", want, file, got)
		}
	}
	for _, bad := range []string{"V4_d.sql", "V5-e.sql", "V2_b.sql", "rename it V5"} {
		if strings.Contains(got, bad+" if") || strings.Contains(got, "rename it "+bad) || (bad == "rename it V5" && strings.Contains(got, bad)) {
			t.Errorf("a hint proposes %s, which Flyway skips too:\n%s", bad, got)
		}
	}
	if !strings.Contains(got, "5-e.sql") {
		t.Errorf("5-e.sql is not warned of:\n%s", got)
	}
}
