package migrate

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestFlywaySchemas: Flyway creates its schemas before the first migration (createSchemas, true by
// default): the default schema first when the list lacks it, then flyway.schemas in order
// (SchemaHistoryFactory.prepareSchemas, DbSchemas.create). Before each migration it puts the default
// schema, quoted, in front of the connection's search_path (PostgreSQLConnection.changeCurrentSchemaTo):
// defaultSchema, else the first of schemas, else nothing changes.
func TestFlywaySchemas(t *testing.T) {
	for _, k := range []string{"FLYWAY_CONFIG_FILES", "FLYWAY_SCHEMAS", "FLYWAY_DEFAULT_SCHEMA", "FLYWAY_CREATE_SCHEMAS", "FLYWAY_ENVIRONMENT"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Chdir(t.TempDir())
	for _, c := range []struct {
		name, file, conf string
		env              map[string]string
		schemas          []string
		searchPath       string
	}{
		{name: "nothing set"},
		{name: "schemas", file: "flyway.conf", conf: "flyway.schemas=app\n", schemas: []string{"app"}, searchPath: `"app"`},
		{name: "default schema outside the list", file: "flyway.conf", conf: "flyway.schemas=a, b\nflyway.defaultSchema=Main\n",
			schemas: []string{"Main", "a", "b"}, searchPath: `"Main"`},
		{name: "default schema in the list", file: "flyway.conf", conf: "flyway.schemas=a,b\nflyway.defaultSchema=b\n",
			schemas: []string{"a", "b"}, searchPath: `"b"`},
		{name: "createSchemas=false", file: "flyway.conf", conf: "flyway.schemas=app\nflyway.createSchemas=false\n", searchPath: `"app"`},
		{name: "environment variables", env: map[string]string{"FLYWAY_SCHEMAS": "x,y", "FLYWAY_DEFAULT_SCHEMA": `we"ird`},
			schemas: []string{`we"ird`, "x", "y"}, searchPath: `"we""ird"`},
		{name: "flyway.toml", file: "flyway.toml", conf: "[environments.default]\nschemas = [\"app\", \"audit\"]\n[flyway]\ncreateSchemas = true\n",
			schemas: []string{"app", "audit"}, searchPath: `"app"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"V1__t.sql": "CREATE TABLE t (id bigint);\n"}
			if c.file != "" {
				files[c.file] = c.conf
			}
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			schemas, searchPath := flywaySchemas(mapFS(files))
			if !slices.Equal(schemas, c.schemas) || searchPath != c.searchPath {
				t.Errorf("schemas %q, search path %q; want %q, %q", schemas, searchPath, c.schemas, c.searchPath)
			}
		})
	}
}

// TestFlywayEnvironmentOverrides: in a flyway.toml, the flyway table of the environment Flyway runs with
// (FLYWAY_ENVIRONMENT, else flyway.environment, else "default") overrides the settings of [flyway], of the
// FLYWAY_* variables and of the command line, setting by setting (ClassicConfiguration:
// getEnvironmentOverrides().getX() != null ? it : getModernFlyway().getX()); its placeholders replace the
// others as a whole. Another environment's table changes nothing. The environment's url, user and
// schemas are those of the environment the variables select.
func TestFlywayEnvironmentOverrides(t *testing.T) {
	for _, k := range []string{"FLYWAY_CONFIG_FILES", "FLYWAY_SCHEMAS", "FLYWAY_DEFAULT_SCHEMA", "FLYWAY_CREATE_SCHEMAS", "FLYWAY_ENVIRONMENT",
		"FLYWAY_EXECUTE_IN_TRANSACTION", "FLYWAY_MIXED", "FLYWAY_TABLE", "FLYWAY_PLACEHOLDERS_OWNER", "FLYWAY_PLACEHOLDERS_SCHEMA",
		"FLYWAY_SQL_MIGRATION_SEPARATOR", "FLYWAY_VALIDATE_MIGRATION_NAMING", "FLYWAY_USER", "FLYWAY_URL"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Chdir(t.TempDir())
	toml := `[environments.default]
url = "jdbc:postgresql://localhost/app"
schemas = ["app"]

[environments.ci]
url = "jdbc:postgresql://ci/billing"
user = "ci_deployer"
schemas = ["billing", "audit"]

[environments.ci.flyway]
defaultSchema = "audit"
createSchemas = false
executeInTransaction = false
sqlMigrationSeparator = "--"
table = "ci_history"

[environments.ci.flyway.placeholders]
owner = "ci_owner"

[environments.other.flyway]
mixed = true

[flyway]
environment = "ci"
table = "history"
sqlMigrationSeparator = "__"

[flyway.placeholders]
owner = "root_owner"
schema = "root_schema"
`
	files := map[string]string{
		"flyway.toml": toml,
		"V1--t.sql":   "CREATE TABLE t (o text DEFAULT '${owner}', u text DEFAULT '${flyway:user}');\n",
	}
	fsys := mapFS(files)
	st := (&reader{fsys: fsys}).loadFlywaySettings()
	if st.table != "ci_history" || st.defaultSchema != "audit" || st.createSchemas || st.inTransaction || st.mixed ||
		st.naming.separator != "--" || st.user != "ci_deployer" || st.schemas != "billing,audit" ||
		len(st.placeholders) != 1 || st.placeholders["owner"] != "ci_owner" {
		t.Errorf("settings of the ci environment: table %q, defaultSchema %q, createSchemas %v, executeInTransaction %v, mixed %v, separator %q, user %q, schemas %q, placeholders %q",
			st.table, st.defaultSchema, st.createSchemas, st.inTransaction, st.mixed, st.naming.separator, st.user, st.schemas, st.placeholders)
	}
	if schemas, searchPath := flywaySchemas(fsys); schemas != nil || searchPath != `"audit"` {
		t.Errorf("schemas %q, search path %q; want none created (createSchemas = false) and \"audit\"", schemas, searchPath)
	}
	set, err := Read(fsys, FormatFlyway)
	if err != nil {
		t.Fatal(err)
	}
	if got := summaries(set); !slices.Equal(got, []string{"1_t up:1 down:- notx"}) {
		t.Errorf("migrations %q, want 1_t outside a transaction", got)
	}
	if sql := set.Migrations[0].Up.Statements[0].SQL; sql != "CREATE TABLE t (o text DEFAULT 'ci_owner', u text DEFAULT 'ci_deployer')" {
		t.Errorf("SQL %s", sql)
	}

	// The overrides win over the FLYWAY_* variables, which win over [flyway] and the environment's url,
	// user and schemas; FLYWAY_ENVIRONMENT selects the environment.
	t.Setenv("FLYWAY_DEFAULT_SCHEMA", "from_variable")
	t.Setenv("FLYWAY_PLACEHOLDERS_SCHEMA", "variable_schema")
	t.Setenv("FLYWAY_USER", "variable_user")
	st = (&reader{fsys: fsys}).loadFlywaySettings()
	if st.defaultSchema != "audit" || st.user != "variable_user" || st.placeholders["schema"] != "" {
		t.Errorf("with FLYWAY_* set: defaultSchema %q, user %q, placeholders %q; want audit, variable_user, the environment's only",
			st.defaultSchema, st.user, st.placeholders)
	}
	t.Setenv("FLYWAY_ENVIRONMENT", "default")
	st = (&reader{fsys: fsys}).loadFlywaySettings()
	if st.table != "history" || st.defaultSchema != "from_variable" || !st.inTransaction || st.naming.separator != "__" ||
		st.schemas != "app" || st.placeholders["owner"] != "root_owner" || st.placeholders["schema"] != "variable_schema" {
		t.Errorf("FLYWAY_ENVIRONMENT=default: table %q, defaultSchema %q, executeInTransaction %v, separator %q, schemas %q, placeholders %q",
			st.table, st.defaultSchema, st.inTransaction, st.naming.separator, st.schemas, st.placeholders)
	}
}

// unsetFlywayEnv clears the FLYWAY_* variables that change how a Flyway folder reads, and runs the test
// in an empty working directory, so that only the folder's configuration is read.
func unsetFlywayEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "FLYWAY_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	t.Chdir(t.TempDir())
}

// TestFlywayConfByteOrderMark: ConfigUtils.loadConfigurationFile decodes a flyway.conf with an
// InputStreamReader, which keeps a byte-order mark, and String.trim does not drop it: it starts the
// first key, "\uFEFFflyway.placeholders.owner", which no longer starts with "flyway.", so Flyway
// neither reads nor refuses it. The setting is lost silently: an error names it. A mark before a
// comment or a blank line costs nothing.
func TestFlywayConfByteOrderMark(t *testing.T) {
	unsetFlywayEnv(t)
	script := "CREATE TABLE t (owner text DEFAULT '${owner}');\n"
	readCasesInOrder(t, FormatFlyway, []readCase{
		{
			name:  "before a setting",
			files: map[string]string{"flyway.conf": "\uFEFFflyway.placeholders.owner=app\nflyway.table=history\n", "V1__t.sql": script},
			errs: []string{"V1__t.sql:1: no value for Flyway placeholder ${owner}",
				`flyway.conf:1: the file starts with a byte-order mark, which Flyway reads as part of the first key ("\uFEFFflyway.placeholders.owner"): Flyway ignores the setting flyway.placeholders.owner`},
		},
		{
			name:  "before a comment",
			files: map[string]string{"flyway.conf": "\uFEFF# settings\r\nflyway.placeholders.owner=app\r\n", "V1__t.sql": script},
			want:  []string{"1_t up:1 down:-"},
		},
		{
			name:  "before a blank line",
			files: map[string]string{"flyway.conf": "\uFEFF\nflyway.placeholders.owner=app\n", "V1__t.sql": script},
			want:  []string{"1_t up:1 down:-"},
		},
	})
}

// TestFlywayScriptConfPlaceholders: Flyway reads a script's settings file through
// PlaceholderReplacingReader.create (SqlScriptMetadata.fromResource), with the configuration's
// placeholders and the built-in ones, whatever placeholderReplacement says: a placeholder takes its
// value there, and one without a value fails the migration ("No value provided for placeholder").
func TestFlywayScriptConfPlaceholders(t *testing.T) {
	unsetFlywayEnv(t)
	files := map[string]string{
		"flyway.conf":          "flyway.placeholders.in_tx=false\nflyway.placeholders.replace=false\n",
		"V1__index.sql":        "CREATE INDEX CONCURRENTLY i ON t (id);\n",
		"V1__index.sql.conf":   "executeInTransaction=${in_tx}\n",
		"V2__keep.sql":         "SELECT '${kept}';\n",
		"V2__keep.sql.conf":    "placeholderReplacement=${replace}\n",
		"V3__missing.sql":      "SELECT 3;\n",
		"V3__missing.sql.conf": "# settings\nexecuteInTransaction=${nowhere}\n",
	}
	readCasesInOrder(t, FormatFlyway, []readCase{{
		name:  "placeholders in script settings",
		files: files,
		want:  []string{"1_index up:1 down:- notx", "2_keep up:1 down:-", "3_missing up:1 down:-"},
		errs:  []string{`V3__missing.sql.conf:2: no value for Flyway placeholder ${nowhere}: Flyway replaces placeholders in a script's settings too, and fails on this one ("No value provided for placeholder")`},
	}})
	// Off for the scripts, placeholderReplacement=false leaves those of the settings files replaced.
	readCasesInOrder(t, FormatFlyway, []readCase{{
		name: "placeholderReplacement=false",
		files: with(files, map[string]string{"flyway.conf": "flyway.placeholders.in_tx=false\nflyway.placeholderReplacement=false\n",
			"V2__keep.sql": "", "V2__keep.sql.conf": "", "V3__missing.sql": "", "V3__missing.sql.conf": ""}),
		want: []string{"1_index up:1 down:- notx"},
	}})
}

// TestFlywayOutOfOrder: Set.OutOfOrder is Flyway's outOfOrder, from the configuration Flyway reads:
// flyway.conf, flyway.toml's [flyway] table and the selected environment's flyway table over it, and
// FLYWAY_OUT_OF_ORDER over the files. It is off by default.
func TestFlywayOutOfOrder(t *testing.T) {
	unsetFlywayEnv(t)
	for _, c := range []struct {
		name, file, conf string
		env              map[string]string
		want             bool
	}{
		{name: "default"},
		{name: "flyway.conf", file: "flyway.conf", conf: "flyway.outOfOrder=true\n", want: true},
		{name: "flyway.toml", file: "flyway.toml", conf: "[flyway]\noutOfOrder = true\n", want: true},
		{name: "environment table", file: "flyway.toml", conf: "[flyway]\noutOfOrder = false\nenvironment = \"ci\"\n[environments.ci]\nurl = \"jdbc:postgresql://ci/app\"\n[environments.ci.flyway]\noutOfOrder = true\n", want: true},
		{name: "variable over the file", file: "flyway.conf", conf: "flyway.outOfOrder=true\n", env: map[string]string{"FLYWAY_OUT_OF_ORDER": "false"}},
		{name: "variable", env: map[string]string{"FLYWAY_OUT_OF_ORDER": "true"}, want: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"V1__t.sql": "CREATE TABLE t (id bigint);\n"}
			if c.file != "" {
				files[c.file] = c.conf
			}
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			set, err := Read(mapFS(files), FormatFlyway)
			if err != nil {
				t.Fatal(err)
			}
			if set.OutOfOrder != c.want {
				t.Errorf("OutOfOrder = %v, want %v", set.OutOfOrder, c.want)
			}
		})
	}
}

// TestFlywayValidateSettings: Set.NoValidate is validateOnMigrate=false and Set.IgnorePatterns is
// ignoreMigrationPatterns (default *:future), from flyway.conf, flyway.toml (a list, or one string), the
// selected environment's flyway table over [flyway], and FLYWAY_VALIDATE_ON_MIGRATE and
// FLYWAY_IGNORE_MIGRATION_PATTERNS over the files. FlywayPasses says what Flyway's migrate goes on past.
// A pattern Flyway refuses is an error where it is set.
func TestFlywayValidateSettings(t *testing.T) {
	unsetFlywayEnv(t)
	for _, c := range []struct {
		name, file, conf string
		env              map[string]string
		noValidate       bool
		patterns         string // Set.IgnorePatterns, joined with commas
		missing, ignored string // why FlywayPasses a versioned migration missing, ignored; "" when it does not
		err              string // the read error, file:line: message
	}{
		{name: "default", patterns: "*:future"},
		{name: "flyway.conf", file: "flyway.conf", conf: "flyway.validateOnMigrate=false\nflyway.ignoreMigrationPatterns=*:missing, Versioned:Ignored\n",
			noValidate: true, patterns: "*:missing,versioned:ignored", missing: "validateOnMigrate=false", ignored: "validateOnMigrate=false"},
		{name: "patterns in flyway.conf", file: "flyway.conf", conf: "flyway.ignoreMigrationPatterns=*:missing,versioned:ignored\n",
			patterns: "*:missing,versioned:ignored", missing: "ignoreMigrationPatterns *:missing", ignored: "ignoreMigrationPatterns versioned:ignored"},
		{name: "repeatables only", file: "flyway.conf", conf: "flyway.ignoreMigrationPatterns=repeatable:*\n", patterns: "repeatable:*"},
		{name: "none", file: "flyway.conf", conf: "flyway.ignoreMigrationPatterns=\n", patterns: ""},
		{name: "flyway.toml", file: "flyway.toml", conf: "[flyway]\nvalidateOnMigrate = true\nignoreMigrationPatterns = [\"*:missing\", \"*:future\"]\n",
			patterns: "*:missing,*:future", missing: "ignoreMigrationPatterns *:missing"},
		{name: "flyway.toml, one string", file: "flyway.toml", conf: "[flyway]\nignoreMigrationPatterns = \"*:ignored\"\n",
			patterns: "*:ignored", ignored: "ignoreMigrationPatterns *:ignored"},
		{name: "environment table", file: "flyway.toml",
			conf:       "[flyway]\nenvironment = \"ci\"\nignoreMigrationPatterns = [\"*:missing\"]\n[environments.ci]\nurl = \"jdbc:postgresql://ci/app\"\n[environments.ci.flyway]\nvalidateOnMigrate = false\nignoreMigrationPatterns = [\"*:future\"]\n",
			noValidate: true, patterns: "*:future", missing: "validateOnMigrate=false", ignored: "validateOnMigrate=false"},
		{name: "variables over the file", file: "flyway.conf", conf: "flyway.validateOnMigrate=false\nflyway.ignoreMigrationPatterns=*:missing\n",
			env: map[string]string{"FLYWAY_VALIDATE_ON_MIGRATE": "true", "FLYWAY_IGNORE_MIGRATION_PATTERNS": "*:ignored"}, patterns: "*:ignored", ignored: "ignoreMigrationPatterns *:ignored"},
		{name: "bad state in flyway.conf", file: "flyway.conf", conf: "flyway.outOfOrder=false\nflyway.ignoreMigrationPatterns=*:missing,*:deleted\n",
			err: `flyway.conf:2: ignoreMigrationPatterns: invalid migration state "deleted" in "*:deleted"`},
		{name: "bad pattern in flyway.toml's environment", file: "flyway.toml",
			conf: "[environments.default]\nurl = \"jdbc:postgresql://x/app\"\n\n[environments.default.flyway]\nignoreMigrationPatterns = [\"missing\"]\n",
			err:  `flyway.toml:5: ignoreMigrationPatterns: invalid pattern "missing"`},
		{name: "bad type in the variable", env: map[string]string{"FLYWAY_IGNORE_MIGRATION_PATTERNS": "baseline:missing"},
			err: `FLYWAY_IGNORE_MIGRATION_PATTERNS: invalid migration type "baseline" in "baseline:missing"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"V1__t.sql": "CREATE TABLE t (id bigint);\n"}
			if c.file != "" {
				files[c.file] = c.conf
			}
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			set, err := Read(mapFS(files), FormatFlyway)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var patterns []string
			for _, p := range set.IgnorePatterns {
				patterns = append(patterns, p.String())
			}
			if set.NoValidate != c.noValidate || strings.Join(patterns, ",") != c.patterns {
				t.Errorf("NoValidate %v, IgnorePatterns %v; want %v, %s", set.NoValidate, patterns, c.noValidate, c.patterns)
			}
			for _, s := range []struct{ state, want string }{{"missing", c.missing}, {"ignored", c.ignored}} {
				if ok, why := set.FlywayPasses(false, s.state); ok != (s.want != "") || why != s.want {
					t.Errorf("FlywayPasses(versioned, %s) = %v, %q; want %q", s.state, ok, why, s.want)
				}
			}
			if ok, _ := set.FlywayPasses(true, "missing"); c.name == "repeatables only" && !ok {
				t.Error("repeatable:* does not let a missing repeatable pass")
			}
			if ok, why := set.FlywayPasses(false, ""); ok != c.noValidate {
				t.Errorf("FlywayPasses(a changed checksum) = %v, %q; want %v: only validateOnMigrate=false lets it pass", ok, why, c.noValidate)
			}
		})
	}
}
