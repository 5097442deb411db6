package migrate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/schemagate/schemagate/internal/suggest"
)

// Flyway refuses a flyway.* setting it does not know, so a misspelt one (flyway.shemas) stops it
// instead of being ignored. From a flyway.conf, ClassicConfiguration.configure takes out of the
// properties each setting it (or a plugin) knows, and ConfigUtils.checkConfigurationForUnrecognisedProperties
// refuses what is left under "flyway." ("Unknown configuration property"); keys without that prefix it
// ignores. From a flyway.toml, ModernConfigurationManager refuses the keys of [flyway] that neither a
// FlywayModel field nor a plugin takes ("Unknown: 'flyway.x'. Possible values: ...?") — an environment's
// settings (url, user, schemas) belong under [environments.NAME], not [flyway] (flyway/flyway#3848) —
// except that the Community edition lets them pass when the file has other top-level settings (Flyway
// Desktop writes [flywayDesktop] and databaseType): then they are a note. The lists below are those of
// Flyway 11 and 12 (ConfigUtils, FlywayModel and FlywayEnvironmentModel, the plugins' ConfigurationExtension
// fields), settings schemagate does not use included.

// flywaySettingNames are the settings a flyway.conf and the [flyway] table of a flyway.toml share,
// without the "flyway." prefix. (Flyway 11 refuses flyway.environment in a flyway.conf, which has no
// environments, flyway/flyway#4004; schemagate lets it pass, as it always has.)
var flywaySettingNames = []string{
	"baselineDescription", "baselineMigrationPrefix", "baselineOnMigrate", "baselineVersion", "batch",
	"callbackLocations", "callbacks", "cherryPick", "cleanDisabled", "communityDBSupportEnabled", "createSchemas",
	"defaultSchema", "detectEncoding", "dryRunOutput", "encoding", "environment", "errorOverrides",
	"executeInTransaction", "failOnMissingLocations", "failOnMissingTarget", "group", "ignoreMigrationPatterns",
	"installedBy", "jarDirs", "kerberosConfigFile", "licenseKey", "locations", "lockRetryCount", "loggers", "mixed",
	"outOfOrder", "outputLogsInJson", "outputProgress", "outputQueryResults", "outputType", "placeholderPrefix",
	"placeholderReplacement", "placeholderSeparator", "placeholderSuffix", "powershellExecutable",
	"repeatableSqlMigrationPrefix", "reportEnabled", "reportFilename", "scriptPlaceholderPrefix",
	"scriptPlaceholderSuffix", "skipDefaultCallbacks", "skipDefaultResolvers", "skipExecutingMigrations",
	"sqlMigrationPrefix", "sqlMigrationSeparator", "sqlMigrationSuffixes", "stream", "table", "tablespace", "target",
	"undoSqlMigrationPrefix", "validateMigrationNaming", "validateOnMigrate",
	// Redgate's settings in the same name space (schema model, authentication, pipelines; Flyway 10.16+),
	// which Flyway Desktop writes: "Flyway Namespace" in Flyway's documentation, and the Community
	// build's stubs (PATTokenConfigurationExtensionStub, OfflinePermitConfigurationExtensionStub).
	"checkDriftOnMigrate", "email", "offlinePermitPath", "pipelineId", "publishResult", "schemaModelLocation",
	"schemaModelSchemas", "token",
}

// flywayConfOnly are the settings of a flyway.conf that a flyway.toml keeps elsewhere: the connection's,
// under [environments.NAME], and those of the command line and the Gradle plugin.
var flywayConfOnly = []string{
	"configFileEncoding", "configFiles", "configurations", "connectRetries", "connectRetriesInterval", "driver",
	"initSql", "password", "resolvers", "schemas", "url", "user",
}

// flywayTOMLOnly are the [flyway] settings of a flyway.toml that a flyway.conf does not have.
var flywayTOMLOnly = []string{"color", "environmentProvisionMode", "migrationResolvers", "provisionMode"}

// flywayEnvironmentNames are the settings of an environment in a flyway.toml (EnvironmentModel).
var flywayEnvironmentNames = []string{
	"connectRetries", "connectRetriesInterval", "driver", "initSql", "jdbcProperties", "password", "provisioner",
	"resolvers", "schemas", "token", "url", "user",
}

// flywayNamespaces are groups of settings Flyway takes whatever their names: placeholders, JDBC
// properties, and the plugins' (other databases', Redgate editions'), whose fields schemagate does not
// check. PostgreSQL's one setting is checked (flywayPostgreSQLLock).
var flywayNamespaces = []string{
	"add", "akv", "check", "clickhouse", "dapr", "db2z", "deploy", "diff", "diffText", "gcsm", "generate", "init",
	"jdbcProperties", "migrate", "model", "nativeConnectors", "oracle", "placeholders", "plugins", "prepare",
	"propertyResolvers", "snapshot", "sqlserver", "undo", "vault",
}

// flywayPostgreSQLLock is the PostgreSQL plugin's setting (PostgreSQLConfigurationExtension).
const flywayPostgreSQLLock = "postgresql.transactional.lock"

// flywayRemoved are settings older Flyway versions read and current ones refuse: since is the first
// version that refuses it, pattern the ignoreMigrationPatterns entry that replaces it, or setting the
// setting that does ("" for none).
var flywayRemoved = map[string]struct {
	since            int
	pattern, setting string
}{
	"sqlMigrationSuffix":      {6, "", "sqlMigrationSuffixes"},
	"ignoreMissingMigrations": {9, "*:missing", ""},
	"ignoreIgnoredMigrations": {9, "*:ignored", ""},
	"ignorePendingMigrations": {9, "*:pending", ""},
	"ignoreFutureMigrations":  {9, "*:future", ""},
	"cleanOnValidationError":  {12, "", ""},
}

// flywayTOMLSince is the first Flyway version that reads flyway.toml.
const flywayTOMLSince = 10

// checkFlywayConfKey reports a key of a flyway.conf that Flyway does not know, and tells whether it is one.
func (r *reader) checkFlywayConfKey(file string, line int, key string) (unknown bool) {
	name, ok := strings.CutPrefix(key, "flyway.")
	if !ok {
		return false // Flyway ignores it
	}
	if slices.Contains(flywaySettingNames, name) || slices.Contains(flywayConfOnly, name) || inFlywayNamespace(strings.Split(name, ".")) {
		return false
	}
	if rm, ok := flywayRemoved[name]; ok {
		hint := "remove it"
		if rm.pattern != "" {
			hint = "write flyway.ignoreMigrationPatterns=" + rm.pattern + " instead"
		} else if rm.setting != "" {
			hint = "write flyway." + rm.setting + " instead (schemagate does not read " + name + ")"
		}
		r.warnf(file, line, hint, "%s: Flyway %d and later refuse it (\"Unknown configuration property\"); older versions read it", key, rm.since)
		return true
	}
	known := append(append(slices.Clone(flywaySettingNames), flywayConfOnly...), flywayPostgreSQLLock)
	hint := "Flyway refuses a flyway.* setting it does not know; check its spelling (names are case-sensitive)"
	if near := nearestName(name, known); near != "" {
		hint = "did you mean flyway." + near + "?"
	}
	r.errorf(file, line, hint, "unknown Flyway setting %q: Flyway refuses it (\"Unknown configuration property\")", key)
	return true
}

// inFlywayNamespace tells the parts of a setting's name (without "flyway.") that one of flywayNamespaces
// takes, or that lead to PostgreSQL's setting.
func inFlywayNamespace(parts []string) bool {
	if len(parts) > 1 && slices.Contains(flywayNamespaces, parts[0]) {
		return true
	}
	lock := strings.Split(flywayPostgreSQLLock, ".")
	return len(parts) == len(lock) && slices.Equal(parts, lock)
}

// flywayRootOnly are the settings of the [flyway] table that an environment's flyway table does not
// take (FlywayModel's own fields, not FlywayEnvironmentModel's): Flyway refuses them there.
var flywayRootOnly = []string{"color", "environment", "environmentProvisionMode", "outputLogsInJson", "outputProgress", "outputType", "provisionMode"}

// flywayKeyProblem is a key of a flyway.toml that Flyway refuses: what it is, what Flyway does with it
// (for a note, why it is one) and how to write it.
type flywayKeyProblem struct {
	file          string
	line          int
	env           string // for a key of an environment's flyway table, the environment
	what, refuses string
	hint          string
	note          bool // not an error: the Community edition ignores it, or only later versions refuse it
}

// reportEnvKeys reports the keys of the environments' flyway tables that Flyway refuses when it runs
// with that environment (ModernConfigurationManager.configurePlugins checks the current environment's
// table as it checks [flyway], and no other): errors for the environment Flyway runs with, notes for
// the others.
func (r *reader) reportEnvKeys(st *flywaySettings) {
	for _, k := range st.envKeys {
		switch {
		case k.note:
			r.warnf(k.file, k.line, k.hint, "%s: %s", k.what, k.refuses)
		case k.env != st.environment:
			r.warnf(k.file, k.line, k.hint, "%s: Flyway refuses it when it runs with the environment %s (it runs with %s here)",
				k.what, k.env, st.environment)
		default:
			r.errorf(k.file, k.line, k.hint, "%s: %s", k.what, k.refuses)
		}
	}
}

// checkFlywayTOMLKeys reports the keys of the [flyway] table of a flyway.toml that Flyway does not know,
// and keeps those of the environments' flyway tables in st.envKeys, to be reported once the environment
// Flyway runs with is known.
func (r *reader) checkFlywayTOMLKeys(file, src string, md toml.MetaData, st *flywaySettings) {
	var others []string // top-level keys other than Flyway's: Flyway Desktop's, say
	for _, k := range md.Keys() {
		if len(k) == 1 && k[0] != "flyway" && k[0] != "environments" && k[0] != "id" {
			others = append(others, k[0])
		}
	}
	lines := tomlKeyLines(src)
	reported := map[string]bool{}
	for _, k := range md.Keys() {
		if len(k) >= 3 && k[0] == "environments" && k[2] != "flyway" {
			r.checkFlywayEnvironmentKey(file, lines, k, reported)
			continue
		}
		var table []string // the table's key: flyway, or environments.NAME.flyway
		switch {
		case len(k) >= 2 && k[0] == "flyway":
			table = k[:1]
		case len(k) >= 4 && k[0] == "environments" && k[2] == "flyway":
			table = k[:3]
		default:
			continue
		}
		env := ""
		if len(table) == 3 {
			env = table[1]
		}
		name, parts := k[len(table)], k[len(table):]
		prefix := strings.Join(table, ".") + "."
		if reported[prefix+name] || knownFlywayTOMLKey(parts, env != "") {
			continue
		}
		reported[prefix+name] = true
		if name != "postgresql" {
			parts = parts[:1] // a table of settings Flyway does not know is reported once
		}
		key := prefix + strings.Join(parts, ".")
		p := flywayTOMLKeyProblem(key, prefix, parts, env)
		p.file, p.line, p.env = file, tomlKeyLine(lines, key), env
		if len(others) > 0 && !p.note {
			p.note = true
			p.refuses = fmt.Sprintf("Flyway Community ignores it, as the file has other top-level settings (%s); other editions refuse it",
				strings.Join(others, ", "))
		}
		switch {
		case env != "":
			st.envKeys = append(st.envKeys, p)
		case p.note:
			r.warnf(file, p.line, p.hint, "%s: %s", p.what, p.refuses)
		default:
			r.errorf(file, p.line, p.hint, "%s: %s", p.what, p.refuses)
		}
	}
}

// flywayEnvironmentOlder are environment settings of Flyway 10 that later versions dropped from
// EnvironmentModel (jarDirs; token is in flywayEnvironmentNames): not reported.
var flywayEnvironmentOlder = []string{"jarDirs"}

// checkFlywayEnvironmentKey reports a key k of an [environments.NAME] table (k[2], not its flyway table)
// that Flyway does not know, once per table of settings. Flyway reads the environment into
// EnvironmentModel with FAIL_ON_UNKNOWN_PROPERTIES off (TomlUtils.loadConfigurationFile): an unknown key
// lands in unknownConfigurations, which ConfigUtils.warnForUnknownEnvParameters only logs at debug level.
// Flyway runs without the setting, so a misspelt url or schemas goes unnoticed: a warning.
func (r *reader) checkFlywayEnvironmentKey(file string, lines map[string]int, k []string, reported map[string]bool) {
	name, key := k[2], strings.Join(k[:3], ".")
	if reported[key] || name == "flyway" || slices.Contains(flywayEnvironmentNames, name) || slices.Contains(flywayEnvironmentOlder, name) {
		return
	}
	reported[key] = true
	prefix := "environments." + k[1] + "."
	known := append(slices.Clone(flywayEnvironmentNames), "flyway")
	hint := "Flyway ignores an environment setting it does not know; check its spelling (names are case-sensitive)"
	near := ""
	for _, n := range known {
		if strings.EqualFold(n, name) {
			near = n
		}
	}
	if near == "" {
		near = nearestName(name, known)
	}
	switch {
	case near != "":
		hint = "did you mean " + prefix + near + "?"
	case slices.Contains(flywaySettingNames, name) && !slices.Contains(flywayRootOnly, name):
		hint = "write " + name + " under [" + prefix + "flyway], where an environment overrides [flyway]'s settings"
	}
	r.warnf(file, tomlKeyLine(lines, key), hint, "unknown Flyway environment setting %q: Flyway ignores it", key)
}

// knownFlywayTOMLKey tells the parts of a key of [flyway] (or, env, of an environment's flyway table)
// that Flyway takes: a setting, a namespace of settings, or the PostgreSQL plugin's setting (or the
// tables that lead to it).
func knownFlywayTOMLKey(parts []string, env bool) bool {
	name := parts[0]
	if env && slices.Contains(flywayRootOnly, name) {
		return false
	}
	lock := strings.Split(flywayPostgreSQLLock, ".")
	return slices.Contains(flywaySettingNames, name) || slices.Contains(flywayTOMLOnly, name) ||
		slices.Contains(flywayNamespaces, name) && name != "jdbcProperties" || // an environment's in flyway.toml
		len(parts) <= len(lock) && slices.Equal(parts, lock[:len(parts)])
}

// flywayTOMLKeyProblem says why Flyway refuses key, a key of the table prefix (flyway., or
// environments.ENV.flyway. for env) made of parts, and how to write it; note is set for a key that only
// later Flyway versions refuse.
func flywayTOMLKeyProblem(key, prefix string, parts []string, env string) flywayKeyProblem {
	name := parts[0]
	table, envTable := "[flyway]", "[environments.default]"
	known := append(append(append(slices.Clone(flywaySettingNames), flywayTOMLOnly...), flywayEnvironmentNames...), flywayPostgreSQLLock)
	if env != "" {
		table, envTable = "["+strings.TrimSuffix(prefix, ".")+"]", "[environments."+env+"]"
		known = slices.DeleteFunc(known, func(k string) bool { return slices.Contains(flywayRootOnly, k) })
	}
	p := flywayKeyProblem{
		what:    fmt.Sprintf("unknown Flyway setting %q", key),
		refuses: fmt.Sprintf("Flyway refuses it (\"Unknown: '%s'\")", key),
		hint:    "Flyway refuses a " + table + " setting it does not know; check its spelling (names are case-sensitive)",
	}
	rm, removed := flywayRemoved[name]
	switch near := nearestName(strings.Join(parts, "."), known); {
	case slices.Contains(flywayEnvironmentNames, name):
		p.what, p.refuses = fmt.Sprintf("%q is an environment setting", key), "Flyway refuses it in "+table
		p.hint = "write " + name + " under " + envTable
		if env == "" {
			p.hint += ", or under the environment that flyway.environment names"
		}
	case env != "" && slices.Contains(flywayRootOnly, name):
		p.what, p.refuses = fmt.Sprintf("%q is no environment override", key), "Flyway refuses it in "+table
		p.hint = "write " + name + " in [flyway]: an environment's flyway table does not take it"
	case removed && rm.since > flywayTOMLSince:
		p.note, p.hint = true, "remove it"
		p.refuses = fmt.Sprintf("Flyway %d and later refuse it; older versions read it", rm.since)
		p.what = key
	case removed && rm.setting != "":
		p.hint = "write " + rm.setting + " instead: Flyway " + fmt.Sprint(rm.since) + " removed " + name
	case removed:
		p.hint = "write ignoreMigrationPatterns = [\"" + rm.pattern + "\"] instead: Flyway " + fmt.Sprint(rm.since) + " removed " + name
	case slices.Contains(flywayEnvironmentNames, near):
		p.hint = "did you mean " + near + "? It is an environment setting: write it under " + envTable
	case near != "":
		p.hint = "did you mean " + prefix + near + "?"
	}
	return p
}

// tomlKeyLine is the line of key in lines (tomlKeyLines), else of the nearest table that holds it (an
// inline table's keys have no line of their own there).
func tomlKeyLine(lines map[string]int, key string) int {
	for k := key; k != ""; {
		if l := lines[k]; l > 0 {
			return l
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return 0
}

// nearestName is the name of known closest to name (by edit distance, case counting), or "" when none is
// close enough to be what was meant.
func nearestName(name string, known []string) string { return suggest.Nearest(name, known) }

// tomlKeyLines maps the keys of a TOML file, their parts joined with dots, to the line where each is
// first written (a table header or a key = value line; a dotted key's tables too). BurntSushi/toml keeps
// the positions of keys to itself.
func tomlKeyLines(src string) map[string]int {
	out := map[string]int{}
	record := func(parts []string, line int) {
		for i := range parts {
			if k := strings.Join(parts[:i+1], "."); out[k] == 0 {
				out[k] = line
			}
		}
	}
	var table []string
	multi := "" // the delimiter of an open multi-line string
	for i, line := range strings.Split(strings.TrimPrefix(src, "\uFEFF"), "\n") {
		t := strings.TrimSpace(line)
		if multi != "" {
			if strings.Count(t, multi)%2 == 1 {
				multi = ""
			}
			continue
		}
		switch {
		case t == "" || t[0] == '#':
		case t[0] == '[':
			header, _, _ := strings.Cut(strings.TrimLeft(t, "["), "]")
			table = tomlKeyParts(header)
			record(table, i+1)
		default:
			k, rest, ok := strings.Cut(t, "=")
			if !ok {
				continue
			}
			record(append(slices.Clone(table), tomlKeyParts(k)...), i+1)
			for _, d := range []string{`"""`, `'''`} {
				if strings.Count(rest, d)%2 == 1 {
					multi = d
				}
			}
		}
	}
	return out
}

// tomlKeyParts splits a dotted TOML key (a.b, "a".b) into its parts.
func tomlKeyParts(key string) []string {
	var parts []string
	for _, p := range strings.Split(key, ".") {
		parts = append(parts, strings.Trim(strings.TrimSpace(p), `"'`))
	}
	return parts
}
