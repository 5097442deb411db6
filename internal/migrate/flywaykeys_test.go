package migrate

import (
	"os"
	"strings"
	"testing"
)

// TestFlywayUnknownSettings: Flyway refuses a flyway.* setting it does not know. From a flyway.conf,
// ClassicConfiguration.configure takes each setting it knows out of the properties and
// ConfigUtils.checkConfigurationForUnrecognisedProperties refuses what is left under "flyway." ("Unknown
// configuration property"); other keys it ignores. From a flyway.toml, ModernConfigurationManager refuses
// the keys of [flyway] that no FlywayModel field or plugin takes ("Unknown: 'flyway.x'. Possible values:
// ...?"), and an environment's settings (url, schemas) are not [flyway] ones (flyway/flyway#3848); the
// Community edition ignores them when the file has other top-level settings (Flyway Desktop's). A setting
// that older versions read and current ones refuse is a note.
func TestFlywayUnknownSettings(t *testing.T) {
	for _, k := range []string{"FLYWAY_CONFIG_FILES", "FLYWAY_VALIDATE_MIGRATION_NAMING", "FLYWAY_ENVIRONMENT"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Chdir(t.TempDir())
	for _, c := range []struct {
		name, file, conf string
		errs, hints      []string
		warns            []string
	}{
		{
			name: "flyway.conf", file: "flyway.conf",
			conf: "# settings\nflyway.shemas=app\nflyway.sqlMigrationPrefx=V\nflyway.url=jdbc:postgresql://localhost/app\n" +
				"flyway.placeholders.owner=app\nflyway.jdbcProperties.ssl=true\nflyway.postgresql.transactional.lock=false\n" +
				"flyway.baselineOnMigrate=true\nflyway.cherryPick=2\nflyway.frobnicate=1\napp.other=Flyway ignores it\n" +
				"flyway.postgresql.transactional.lok=false\nflyway.ignoreMissingMigrations=true\nflyway.installedBy=ci\n" +
				"flyway.validateMigrationNaming=false\nflyway.Schemas=app\n",
			errs: []string{`flyway.conf:2: unknown Flyway setting "flyway.shemas": Flyway refuses it`,
				`flyway.conf:3: unknown Flyway setting "flyway.sqlMigrationPrefx"`, `flyway.conf:10: unknown Flyway setting "flyway.frobnicate"`,
				`flyway.conf:12: unknown Flyway setting "flyway.postgresql.transactional.lok"`, `flyway.conf:16: unknown Flyway setting "flyway.Schemas"`},
			hints: []string{"did you mean flyway.schemas?", "did you mean flyway.sqlMigrationPrefix?", "", "did you mean flyway.postgresql.transactional.lock?",
				"did you mean flyway.schemas?"},
			warns: []string{`flyway.conf:13: flyway.ignoreMissingMigrations: Flyway 9 and later refuse it`},
		},
		{
			name: "flyway.toml", file: "flyway.toml",
			conf: "[environments.default]\nurl = \"jdbc:postgresql://localhost/app\"\nschemas = [\"app\"]\n\n[flyway]\nlocations = [\"filesystem:.\"]\n" +
				"shemas = [\"app\"]\nurl = \"jdbc:postgresql://localhost/app\"\nvalidateMigrationNamng = true\nmigrationResolvers = []\n\n" +
				"[flyway.placeholders]\nowner = \"app\"\n\n[flyway.postgresql.transactional]\nlock = false\n\n[flyway.frobnicate]\nx = 1\n",
			errs: []string{`flyway.toml:7: unknown Flyway setting "flyway.shemas"`, `flyway.toml:8: "flyway.url" is an environment setting: Flyway refuses it in [flyway]`,
				`flyway.toml:9: unknown Flyway setting "flyway.validateMigrationNamng"`, `flyway.toml:18: unknown Flyway setting "flyway.frobnicate"`},
			hints: []string{"did you mean schemas? It is an environment setting: write it under [environments.default]",
				"write url under [environments.default]", "did you mean flyway.validateMigrationNaming?", ""},
		},
		{
			// ModernConfigurationManager.configurePlugins checks the flyway table of the environment Flyway
			// runs with as it checks [flyway] ("environments.NAME.flyway." keys), and no other: there an
			// environment's own settings (url, schemas) and [flyway]'s own (environment, outputType: fields
			// of FlywayModel, not FlywayEnvironmentModel) are unknown too. Another environment's table is a
			// note.
			name: "flyway.toml environment overrides", file: "flyway.toml",
			conf: "[flyway]\nenvironment = \"ci\"\n\n[environments.ci]\nurl = \"jdbc:postgresql://ci/app\"\n\n[environments.ci.flyway]\n" +
				"mixed = true\nshemas = [\"app\"]\nurl = \"jdbc:postgresql://ci/app\"\nenvironment = \"prod\"\nplaceholders.owner = \"app\"\n" +
				"postgresql.transactional.lock = false\nlocations = [\"filesystem:.\"]\ndefaultShema = \"h\"\n\n" +
				"[environments.prod.flyway]\nmixd = true\n\n[environments.inline]\nflyway = { frobnicate = 1 }\n",
			errs: []string{`flyway.toml:9: unknown Flyway setting "environments.ci.flyway.shemas": Flyway refuses it ("Unknown: 'environments.ci.flyway.shemas'")`,
				`flyway.toml:10: "environments.ci.flyway.url" is an environment setting: Flyway refuses it in [environments.ci.flyway]`,
				`flyway.toml:11: "environments.ci.flyway.environment" is no environment override: Flyway refuses it in [environments.ci.flyway]`,
				`flyway.toml:15: unknown Flyway setting "environments.ci.flyway.defaultShema"`},
			hints: []string{"did you mean schemas? It is an environment setting: write it under [environments.ci]", "write url under [environments.ci]",
				"write environment in [flyway]", "did you mean environments.ci.flyway.defaultSchema?"},
			warns: []string{`flyway.toml:18: unknown Flyway setting "environments.prod.flyway.mixd": Flyway refuses it when it runs with the environment prod (it runs with ci here)`,
				`flyway.toml:21: unknown Flyway setting "environments.inline.flyway.frobnicate": Flyway refuses it when it runs with the environment inline`},
		},
		{
			// Settings of Redgate's builds in the same name space, which Flyway Desktop and the documentation
			// write, and a setting Flyway 6 removed (helper-61's survey of 52 real configuration files).
			name: "flyway.conf with Redgate settings", file: "flyway.conf",
			conf: "flyway.schemaModelLocation=./schema-model\nflyway.email=a@example.com\nflyway.token=t\nflyway.offlinePermitPath=p\n" +
				"flyway.clickhouse.clusterName=c\nflyway.db2z.sqlId=s\nflyway.akv.vaultUrl=u\nflyway.snapshot.historyTable=h\n" +
				"flyway.sqlMigrationSuffix=.pgsql\n",
			warns: []string{`flyway.conf:9: flyway.sqlMigrationSuffix: Flyway 6 and later refuse it`},
		},
		{
			name: "flyway.toml with Redgate settings", file: "flyway.toml",
			conf: "[flyway]\nschemaModelLocation = \"./schema-model\"\nschemaModelSchemas = [\"app\"]\ntoken = \"t\"\npublishResult = true\n" +
				"checkDriftOnMigrate = true\npipelineId = \"p\"\n\n[flyway.generate]\nlocation = \"x\"\n\n[flyway.migrate]\nsaveSnapshot = true\n\n" +
				"[flyway.nativeConnectors]\nprocessTimeout = 1\n\n[flyway.diff]\nsource = \"dev\"\n",
		},
		{
			name: "flyway.toml of Flyway Desktop", file: "flyway.toml",
			conf:  "databaseType = \"PostgreSql\"\n\n[flywayDesktop]\ndevelopmentEnvironment = \"development\"\n\n[flyway]\nshemas = [\"app\"]\n",
			warns: []string{`flyway.toml:7: unknown Flyway setting "flyway.shemas": Flyway Community ignores it`},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(mapFS(map[string]string{c.file: c.conf, "V1__t.sql": "CREATE TABLE t (id bigint);\n"}), FormatFlyway)
			errs := readErrors(t, err)
			matchProblems(t, "error", describe(errs), c.errs)
			for i, e := range errs {
				if i < len(c.hints) && (!strings.Contains(e.Hint, c.hints[i]) || c.hints[i] == "" && strings.Contains(e.Hint, "did you mean")) {
					t.Errorf("error %d %s: hint %q, want %q", i, e.Msg, e.Hint, c.hints[i])
				}
			}
			set, _ := Read(mapFS(map[string]string{c.file: c.conf, "V1__t.sql": "CREATE TABLE t (id bigint);\n"}), FormatFlyway)
			matchProblems(t, "warning", describe(set.Warnings), c.warns)
		})
	}
}

// TestTOMLKeyLines: the line of each key of a TOML file, for the errors about them: table headers,
// dotted keys and the tables they imply, keys after a multi-line string.
func TestTOMLKeyLines(t *testing.T) {
	t.Parallel()
	src := "\uFEFF# flyway.toml\n[flyway]\nlocations = [\n  \"a=b\",\n]\ninitSql = \"\"\"\nshemas = 1\n\"\"\"\npostgresql.transactional.lock = false\n" +
		"\n[flyway.\"placeholders\"]\nowner = 'app'\n[[environments.x.resolvers]]\nurl = 1\n"
	lines := tomlKeyLines(src)
	for key, want := range map[string]int{
		"flyway": 2, "flyway.locations": 3, "flyway.initSql": 6, "flyway.postgresql": 9, "flyway.postgresql.transactional.lock": 9,
		"flyway.placeholders": 11, "flyway.placeholders.owner": 12, "environments.x.resolvers.url": 14, "flyway.shemas": 0,
	} {
		if lines[key] != want {
			t.Errorf("line of %s = %d, want %d", key, lines[key], want)
		}
	}
}

// TestFlywayEnvironmentKeys: Flyway reads an [environments.NAME] table into EnvironmentModel with
// FAIL_ON_UNKNOWN_PROPERTIES off (TomlUtils.loadConfigurationFile); a key it does not know lands in
// unknownConfigurations, which ConfigUtils.warnForUnknownEnvParameters only logs at debug level, and
// Flyway runs without it. A warning names it, with the setting probably meant.
func TestFlywayEnvironmentKeys(t *testing.T) {
	unsetFlywayEnv(t)
	conf := "[environments.default]\nuri = \"jdbc:postgresql://localhost/app\"\nschemas = [\"app\"]\nUser = \"deployer\"\n" +
		"locations = [\"filesystem:.\"]\nprovisioner = \"clean\"\njarDirs = [\"lib\"]\ntoken = \"t\"\nconnectRetries = 3\n" +
		"initSql = \"SET x = 1\"\ndriver = \"org.postgresql.Driver\"\npassword = \"p\"\nconnectRetriesInterval = 1\n\n" +
		"[environments.default.jdbcProperties]\nssl = \"true\"\n\n[environments.default.resolvers.vault]\nurl = \"https://vault\"\n\n" +
		"[environments.default.flyway]\nmixed = true\n\n[environments.ci.frobnicate]\nx = 1\ny = 2\n"
	set, err := Read(mapFS(map[string]string{"flyway.toml": conf, "V1__t.sql": "CREATE TABLE t (id bigint);\n"}), FormatFlyway)
	if err != nil {
		t.Fatal(err)
	}
	matchProblems(t, "warning", describe(set.Warnings), []string{
		`flyway.toml:2: unknown Flyway environment setting "environments.default.uri": Flyway ignores it`,
		`flyway.toml:4: unknown Flyway environment setting "environments.default.User": Flyway ignores it`,
		`flyway.toml:5: unknown Flyway environment setting "environments.default.locations": Flyway ignores it`,
		`flyway.toml:24: unknown Flyway environment setting "environments.ci.frobnicate": Flyway ignores it`,
	})
	hints := []string{"did you mean environments.default.url?", "did you mean environments.default.user?",
		"write locations under [environments.default.flyway]", "Flyway ignores an environment setting it does not know"}
	for i, w := range set.Warnings {
		if i < len(hints) && !strings.Contains(w.Hint, hints[i]) {
			t.Errorf("warning %d %s: hint %q, want %q", i, w.Msg, w.Hint, hints[i])
		}
	}
}
