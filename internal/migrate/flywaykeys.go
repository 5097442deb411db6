package migrate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
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
	"check", "dapr", "deploy", "gcsm", "jdbcProperties", "oracle", "placeholders", "plugins", "prepare",
	"propertyResolvers", "sqlserver", "vault",
}

// flywayPostgreSQLLock is the PostgreSQL plugin's setting (PostgreSQLConfigurationExtension).
const flywayPostgreSQLLock = "postgresql.transactional.lock"

// flywayRemoved are settings older Flyway versions read and current ones refuse: since is the first
// version that refuses it, pattern the ignoreMigrationPatterns entry that replaces it ("" for none).
var flywayRemoved = map[string]struct {
	since   int
	pattern string
}{
	"ignoreMissingMigrations": {9, "*:missing"},
	"ignoreIgnoredMigrations": {9, "*:ignored"},
	"ignorePendingMigrations": {9, "*:pending"},
	"ignoreFutureMigrations":  {9, "*:future"},
	"cleanOnValidationError":  {12, ""},
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

// checkFlywayTOMLKeys reports the keys of the [flyway] table of a flyway.toml that Flyway does not know.
func (r *reader) checkFlywayTOMLKeys(file, src string, md toml.MetaData) {
	var others []string // top-level keys other than Flyway's: Flyway Desktop's, say
	for _, k := range md.Keys() {
		if len(k) == 1 && k[0] != "flyway" && k[0] != "environments" && k[0] != "id" {
			others = append(others, k[0])
		}
	}
	lines := tomlKeyLines(src)
	known := append(append(append(slices.Clone(flywaySettingNames), flywayTOMLOnly...), flywayEnvironmentNames...), flywayPostgreSQLLock)
	lock := strings.Split(flywayPostgreSQLLock, ".")
	reported := map[string]bool{}
	for _, k := range md.Keys() {
		if len(k) < 2 || k[0] != "flyway" || reported[k[1]] {
			continue
		}
		name, parts := k[1], k[1:]
		if slices.Contains(flywaySettingNames, name) || slices.Contains(flywayTOMLOnly, name) ||
			slices.Contains(flywayNamespaces, name) && name != "jdbcProperties" || // an environment's in flyway.toml
			len(parts) <= len(lock) && slices.Equal(parts, lock[:len(parts)]) {
			continue
		}
		reported[name] = true
		if name != "postgresql" {
			parts = parts[:1] // a table of settings Flyway does not know is reported once
		}
		key := "flyway." + strings.Join(parts, ".")
		line := lines[key]
		what := fmt.Sprintf("unknown Flyway setting %q", key)
		refuses := fmt.Sprintf("Flyway refuses it (\"Unknown: '%s'\")", key)
		hint := "Flyway refuses a [flyway] setting it does not know; check its spelling (names are case-sensitive)"
		rm, removed := flywayRemoved[name]
		switch near := nearestName(strings.Join(parts, "."), known); {
		case slices.Contains(flywayEnvironmentNames, name):
			what, refuses = fmt.Sprintf("%q is an environment setting", key), "Flyway refuses it in [flyway]"
			hint = "write " + name + " under [environments.default], or under the environment that flyway.environment names"
		case removed && rm.since > flywayTOMLSince:
			r.warnf(file, line, "remove it", "%s: Flyway %d and later refuse it; older versions read it", key, rm.since)
			continue
		case removed:
			hint = "write ignoreMigrationPatterns = [\"" + rm.pattern + "\"] instead: Flyway " + fmt.Sprint(rm.since) + " removed " + name
		case slices.Contains(flywayEnvironmentNames, near):
			hint = "did you mean " + near + "? It is an environment setting: write it under [environments.default]"
		case near != "":
			hint = "did you mean flyway." + near + "?"
		}
		if len(others) > 0 {
			r.warnf(file, line, hint, "%s: Flyway Community ignores it, as the file has other top-level settings (%s); other editions refuse it",
				what, strings.Join(others, ", "))
			continue
		}
		r.errorf(file, line, hint, "%s: %s", what, refuses)
	}
}

// nearestName is the name of known closest to name (by edit distance, case counting), or "" when none is
// close enough to be what was meant.
func nearestName(name string, known []string) string {
	best, bestD := "", max(1, min(3, len(name)/4))+1
	for _, k := range known {
		if d := editDistance(name, k); d < bestD || d == bestD && k < best {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

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
