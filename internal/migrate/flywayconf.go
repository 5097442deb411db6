package migrate

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/schemagate/schemagate/internal/repofs"
)

// flywaySettings are the Flyway settings that change how scripts read: how scripts are named,
// placeholders and what the built-in ones resolve to, whether scripts run in a transaction
// (executeInTransaction, mixed), and the schemas Flyway creates and migrates in. They come, as in the
// Flyway CLI, from configuration files (flyway.toml, flyway.conf or conf/flyway.conf in the working
// directory, or the files FLYWAY_CONFIG_FILES lists), overridden by FLYWAY_* environment variables.
// When the working directory holds none of them (and FLYWAY_CONFIG_FILES is not set), those of the
// migration folder are read: Flyway is then run from the folder that keeps its configuration.
type flywaySettings struct {
	placeholders                  map[string]string // lower-cased name → value
	replacement                   bool
	prefix, suffix                string
	defaultSchema, schemas        string
	user, url, table, environment string
	// inTransaction is executeInTransaction (default true): false runs every script outside a
	// transaction. mixed lets a script mix statements that cannot run in a transaction (CREATE INDEX
	// CONCURRENTLY) with others; Flyway then runs that script outside a transaction.
	inTransaction, mixed bool
	// naming is how Flyway names its scripts (sqlMigrationPrefix and the others).
	naming flywayNaming
	// createSchemas (default true): Flyway creates the schemas it manages before it migrates.
	createSchemas bool
	// validateNaming is validateMigrationNaming (default false): Flyway refuses a folder holding a script
	// whose name does not fit its naming, instead of skipping that script.
	validateNaming bool
	// outOfOrder (default false): Flyway applies a pending migration whose version is below the
	// database's latest; without it, migrate's validation fails on one (Set.OutOfOrder).
	outOfOrder bool
	// validateOnMigrate (default true): migrate validates the applied migrations against the folder
	// before it applies anything (Set.NoValidate).
	validateOnMigrate bool
	// ignorePatterns is ignoreMigrationPatterns as written (comma-separated; default *:future): the
	// migrations that validation lets pass (Set.IgnorePatterns). ignoreAt is where it was set, for an
	// error on a pattern Flyway refuses.
	ignorePatterns string
	ignoreAt       settingAt
	// locations is flyway.locations as written (comma-separated; "" when not set): where Flyway looks for
	// scripts (see flywayLocations). locationsAt is where it was set, which also says what a relative
	// location is relative to. failOnMissing is failOnMissingLocations (default false).
	locations     string
	locationsAt   settingAt
	failOnMissing bool
	// readingFolder is set while the migration folder's own configuration files are read.
	readingFolder bool
	// ignored are the migration folder's configuration files, not read (see loadFlywaySettings).
	ignored []string
	// environments are the [environments.NAME] tables of the flyway.toml files read, in file order: the
	// one environment names gives the url, user and schemas, and its flyway table overrides the
	// settings (applyEnvironment).
	environments []flywayTOMLEnvironment
	// envKeys are the keys of the environments' flyway tables that Flyway refuses when it runs with
	// that environment, reported once the environment is known.
	envKeys []flywayKeyProblem
}

// settingAt is where a setting was set: a file and line, or an environment variable (file "", env set).
type settingAt struct {
	file string
	line int
	env  string
	// folder: the file is the migration folder's (not the working directory's).
	folder bool
}

// flywayNaming is how Flyway names scripts: {prefix}{version}{separator}{description}{suffix} for
// versioned (sqlMigrationPrefix, V), undo (undoSqlMigrationPrefix, U) and baseline
// (baselineMigrationPrefix, B) scripts, {prefix}{separator}{description}{suffix} for repeatable ones
// (repeatableSqlMigrationPrefix, R); the separator is sqlMigrationSeparator (__), the suffixes
// sqlMigrationSuffixes (.sql, a comma-separated list).
type flywayNaming struct {
	versioned, undo, repeatable, baseline string
	separator, suffixes                   string
}

var defaultFlywayNaming = flywayNaming{versioned: "V", undo: "U", repeatable: "R", baseline: "B", separator: "__", suffixes: ".sql"}

// suffixList is sqlMigrationSuffixes as a list; Flyway strips the first that a name ends with.
func (n flywayNaming) suffixList() []string {
	var out []string
	for _, s := range strings.Split(n.suffixes, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// flagSetting is a true/false setting with its flyway.conf key and its environment variable.
type flagSetting struct {
	conf, env string
	dst       *bool
}

// bools lists the true/false settings, so that files and the environment set them the same way.
func (st *flywaySettings) bools() []flagSetting {
	return []flagSetting{
		{"flyway.placeholderReplacement", "FLYWAY_PLACEHOLDER_REPLACEMENT", &st.replacement},
		{"flyway.executeInTransaction", "FLYWAY_EXECUTE_IN_TRANSACTION", &st.inTransaction},
		{"flyway.mixed", "FLYWAY_MIXED", &st.mixed},
		{"flyway.createSchemas", "FLYWAY_CREATE_SCHEMAS", &st.createSchemas},
		{"flyway.validateMigrationNaming", "FLYWAY_VALIDATE_MIGRATION_NAMING", &st.validateNaming},
		{"flyway.outOfOrder", "FLYWAY_OUT_OF_ORDER", &st.outOfOrder},
		{"flyway.validateOnMigrate", "FLYWAY_VALIDATE_ON_MIGRATE", &st.validateOnMigrate},
		{"flyway.failOnMissingLocations", "FLYWAY_FAIL_ON_MISSING_LOCATIONS", &st.failOnMissing},
	}
}

// flywayTOML is the part of flyway.toml (Flyway 10 and later) schemagate reads.
type flywayTOML struct {
	Flyway struct {
		Environment string `toml:"environment"`
		flywayTOMLSettings
	} `toml:"flyway"`
	Environments map[string]flywayTOMLEnvironmentTable `toml:"environments"`
}

// flywayTOMLEnvironmentTable is an [environments.NAME] table: the connection's settings, and in its
// flyway table the settings of [flyway] it overrides.
type flywayTOMLEnvironmentTable struct {
	URL     string             `toml:"url"`
	User    string             `toml:"user"`
	Schemas []string           `toml:"schemas"`
	Flyway  flywayTOMLSettings `toml:"flyway"`
	// ignoreAt and locationsAt are where its flyway table sets ignoreMigrationPatterns and locations
	// (not TOML: set when read).
	ignoreAt, locationsAt settingAt
}

// flywayTOMLEnvironment is an environment of a flyway.toml, with its name.
type flywayTOMLEnvironment struct {
	name string
	flywayTOMLEnvironmentTable
}

// flywayTOMLSettings are the settings schemagate reads of a flyway.toml's [flyway] table, or of an
// environment's [environments.NAME.flyway] table, which overrides them (FlywayEnvironmentModel). An
// unset setting is nil or "".
type flywayTOMLSettings struct {
	Placeholders           map[string]string `toml:"placeholders"`
	PlaceholderReplacement *bool             `toml:"placeholderReplacement"`
	ExecuteInTransaction   *bool             `toml:"executeInTransaction"`
	Mixed                  *bool             `toml:"mixed"`
	PlaceholderPrefix      string            `toml:"placeholderPrefix"`
	PlaceholderSuffix      string            `toml:"placeholderSuffix"`
	DefaultSchema          string            `toml:"defaultSchema"`
	Table                  string            `toml:"table"`
	CreateSchemas          *bool             `toml:"createSchemas"`
	ValidateNaming         *bool             `toml:"validateMigrationNaming"`
	OutOfOrder             *bool             `toml:"outOfOrder"`
	ValidateOnMigrate      *bool             `toml:"validateOnMigrate"`
	FailOnMissing          *bool             `toml:"failOnMissingLocations"`
	// Locations is a list of locations (a single string is read as a list of one).
	Locations tomlStrings `toml:"locations"`
	// IgnoreMigrationPatterns is a list of patterns (a single string is read as a list of one).
	IgnoreMigrationPatterns tomlStrings `toml:"ignoreMigrationPatterns"`
	// The naming settings. undoSqlMigrationPrefix and baselineMigrationPrefix are plugins' settings,
	// which ConfigurationExtensionBinder also takes from the environment's flyway table over [flyway]'s.
	SQLMigrationPrefix           string      `toml:"sqlMigrationPrefix"`
	UndoSQLMigrationPrefix       string      `toml:"undoSqlMigrationPrefix"`
	RepeatableSQLMigrationPrefix string      `toml:"repeatableSqlMigrationPrefix"`
	BaselineMigrationPrefix      string      `toml:"baselineMigrationPrefix"`
	SQLMigrationSeparator        string      `toml:"sqlMigrationSeparator"`
	SQLMigrationSuffixes         tomlStrings `toml:"sqlMigrationSuffixes"`
}

// apply sets in st the settings t sets, placeholders aside (they merge into [flyway]'s, and an
// environment's replace them).
func (t *flywayTOMLSettings) apply(st *flywaySettings) {
	for dst, p := range map[*bool]*bool{&st.replacement: t.PlaceholderReplacement,
		&st.inTransaction: t.ExecuteInTransaction, &st.mixed: t.Mixed, &st.createSchemas: t.CreateSchemas,
		&st.validateNaming: t.ValidateNaming, &st.outOfOrder: t.OutOfOrder, &st.validateOnMigrate: t.ValidateOnMigrate,
		&st.failOnMissing: t.FailOnMissing} {
		if p != nil {
			*dst = *p
		}
	}
	for dst, v := range map[*string]string{&st.prefix: t.PlaceholderPrefix, &st.suffix: t.PlaceholderSuffix,
		&st.defaultSchema: t.DefaultSchema, &st.table: t.Table,
		&st.naming.versioned: t.SQLMigrationPrefix, &st.naming.undo: t.UndoSQLMigrationPrefix,
		&st.naming.repeatable: t.RepeatableSQLMigrationPrefix, &st.naming.baseline: t.BaselineMigrationPrefix,
		&st.naming.separator: t.SQLMigrationSeparator, &st.naming.suffixes: strings.Join(t.SQLMigrationSuffixes, ",")} {
		if v != "" {
			*dst = v
		}
	}
	if t.IgnoreMigrationPatterns != nil {
		st.ignorePatterns = strings.Join(t.IgnoreMigrationPatterns, ",")
	}
	if t.Locations != nil {
		st.locations = strings.Join(t.Locations, ",")
	}
}

// flywayConfigNames are the configuration files the Flyway CLI reads from its working directory, in order.
var flywayConfigNames = []string{"conf/flyway.conf", "flyway.conf", "flyway.toml"}

// loadFlywaySettings reads the configuration files and the environment. Problems in a file are errors
// with its name and line. The configuration files of the migration folder are read when the working
// directory has none and FLYWAY_CONFIG_FILES is not set; otherwise they are not Flyway's, and a warning
// says so.
func (r *reader) loadFlywaySettings() flywaySettings {
	st := flywaySettings{placeholders: map[string]string{}, replacement: true, prefix: "${", suffix: "}", environment: "default",
		inTransaction: true, naming: defaultFlywayNaming, createSchemas: true, validateOnMigrate: true, ignorePatterns: "*:future"}
	var files []string
	if v, ok := os.LookupEnv("FLYWAY_CONFIG_FILES"); ok && strings.TrimSpace(v) != "" {
		for _, f := range strings.Split(v, ",") {
			files = append(files, strings.TrimSpace(f))
		}
	} else {
		for _, f := range flywayConfigNames {
			if _, err := os.Lstat(f); err == nil {
				files = append(files, f)
			}
		}
	}
	for _, f := range files {
		b, err := repofs.ReadFile(f)
		if err != nil {
			r.errorf(f, 0, "fix FLYWAY_CONFIG_FILES or the file", "read Flyway configuration: %v", err)
			continue
		}
		r.flywayConfigFile(f, string(b), &st)
	}
	for _, f := range flywayConfigNames {
		info, err := fs.Stat(r.fsys, f)
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		if len(files) > 0 {
			if !slices.ContainsFunc(files, func(read string) bool { other, err := os.Stat(read); return err == nil && os.SameFile(info, other) }) {
				st.ignored = append(st.ignored, f)
				r.warnf(f, 0, "run schemagate from this folder, or name the file in FLYWAY_CONFIG_FILES, if Flyway runs with it",
					"ignored: Flyway reads its configuration from the working directory (%s) or FLYWAY_CONFIG_FILES, not from the migration folder", strings.Join(files, ", "))
			}
			continue
		}
		if src, ok := r.loadText(f); ok {
			st.readingFolder = true
			r.flywayConfigFile(f, src, &st)
			st.readingFolder = false
		}
	}
	// The environment overrides the files, as in the Flyway CLI; FLYWAY_SCHEMAS, FLYWAY_URL and
	// FLYWAY_USER override the selected environment's too (ModernConfigurationManager merges them into
	// it), which FLYWAY_ENVIRONMENT may name.
	env := st.environment
	if v, ok := os.LookupEnv("FLYWAY_ENVIRONMENT"); ok && v != "" {
		env = v
	}
	st.applyEnvironment(env, false)
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if name, ok := strings.CutPrefix(k, "FLYWAY_PLACEHOLDERS_"); ok && name != "" {
			st.placeholders[strings.ToLower(name)] = v
		}
	}
	for _, t := range st.text() {
		if v, ok := os.LookupEnv(t.env); ok && v != "" {
			*t.dst = v
			if t.dst == &st.ignorePatterns {
				st.ignoreAt = settingAt{env: t.env}
			}
			if t.dst == &st.locations {
				st.locationsAt = settingAt{env: t.env}
			}
		}
	}
	for _, b := range st.bools() {
		if v, ok := os.LookupEnv(b.env); ok && v != "" {
			if x, ok := parseBool(v); ok {
				*b.dst = x
			}
		}
	}
	st.applyEnvironment(st.environment, true)
	r.reportEnvKeys(&st)
	return st
}

// applyEnvironment sets the settings of the environment called name, as the flyway.toml files read set
// them, in file order: its url, user and schemas (connection), or the settings of its flyway table
// (overrides). ClassicConfiguration takes each setting of the current environment's flyway table over
// [flyway]'s, the environment variables' and the command line's (getEnvironmentOverrides), placeholders
// as a whole: the table's placeholders (those of all the files, merged) replace the others.
func (st *flywaySettings) applyEnvironment(name string, overrides bool) {
	var placeholders map[string]string
	for _, e := range st.environments {
		switch {
		case e.name != name:
		case !overrides:
			if e.URL != "" {
				st.url = e.URL
			}
			if e.User != "" {
				st.user = e.User
			}
			if len(e.Schemas) > 0 {
				st.schemas = strings.Join(e.Schemas, ",")
			}
		default:
			e.Flyway.apply(st)
			if e.Flyway.IgnoreMigrationPatterns != nil {
				st.ignoreAt = e.ignoreAt
			}
			if e.Flyway.Locations != nil {
				st.locationsAt = e.locationsAt
			}
			if e.Flyway.Placeholders != nil && placeholders == nil {
				placeholders = map[string]string{}
			}
			for k, v := range e.Flyway.Placeholders {
				placeholders[strings.ToLower(k)] = v
			}
		}
	}
	if placeholders != nil {
		st.placeholders = placeholders
	}
}

// flywayConfigFile reads one configuration file, TOML or Java properties by its name.
func (r *reader) flywayConfigFile(name, src string, st *flywaySettings) {
	if strings.HasSuffix(name, ".toml") {
		r.flywayTOML(name, src, st)
	} else {
		r.flywayConf(name, src, st)
	}
}

// textSetting is a text setting with its flyway.conf key and its environment variable.
type textSetting struct {
	conf, env string
	dst       *string
}

// text lists the text settings, so that files and the environment set them the same way.
func (st *flywaySettings) text() []textSetting {
	return []textSetting{
		{"flyway.placeholderPrefix", "FLYWAY_PLACEHOLDER_PREFIX", &st.prefix},
		{"flyway.placeholderSuffix", "FLYWAY_PLACEHOLDER_SUFFIX", &st.suffix},
		{"flyway.defaultSchema", "FLYWAY_DEFAULT_SCHEMA", &st.defaultSchema},
		{"flyway.schemas", "FLYWAY_SCHEMAS", &st.schemas},
		{"flyway.user", "FLYWAY_USER", &st.user},
		{"flyway.url", "FLYWAY_URL", &st.url},
		{"flyway.table", "FLYWAY_TABLE", &st.table},
		{"flyway.environment", "FLYWAY_ENVIRONMENT", &st.environment},
		{"flyway.sqlMigrationPrefix", "FLYWAY_SQL_MIGRATION_PREFIX", &st.naming.versioned},
		{"flyway.undoSqlMigrationPrefix", "FLYWAY_UNDO_SQL_MIGRATION_PREFIX", &st.naming.undo},
		{"flyway.repeatableSqlMigrationPrefix", "FLYWAY_REPEATABLE_SQL_MIGRATION_PREFIX", &st.naming.repeatable},
		{"flyway.baselineMigrationPrefix", "FLYWAY_BASELINE_MIGRATION_PREFIX", &st.naming.baseline},
		{"flyway.sqlMigrationSeparator", "FLYWAY_SQL_MIGRATION_SEPARATOR", &st.naming.separator},
		{"flyway.sqlMigrationSuffixes", "FLYWAY_SQL_MIGRATION_SUFFIXES", &st.naming.suffixes},
		{"flyway.ignoreMigrationPatterns", "FLYWAY_IGNORE_MIGRATION_PATTERNS", &st.ignorePatterns},
		{"flyway.locations", "FLYWAY_LOCATIONS", &st.locations},
	}
}

// flywayConf reads a flyway.conf (Java properties as Flyway reads them, see properties.go):
// flyway.placeholders.NAME=VALUE and the settings above.
func (r *reader) flywayConf(file, src string, st *flywaySettings) {
	text := st.text()
	r.properties(file, src, func(line int, key, value string) {
		if k, ok := strings.CutPrefix(key, "\uFEFF"); ok {
			// ConfigUtils.loadConfigurationFile decodes the file with an InputStreamReader, which keeps a
			// byte-order mark, and Properties takes it into the first key: that key no longer starts
			// with "flyway.", so Flyway neither reads nor refuses it (checkConfigurationForUnrecognisedProperties
			// only looks at flyway.* keys). The setting is lost without a word; so it is here too.
			if strings.HasPrefix(k, "flyway.") {
				r.errorf(file, line, "save the file as UTF-8 without a byte-order mark",
					"the file starts with a byte-order mark, which Flyway reads as part of the first key (\"\\uFEFF%s\"): Flyway ignores the setting %s", k, k)
			}
			return
		}
		if r.checkFlywayConfKey(file, line, key) {
			return
		}
		if name, ok := strings.CutPrefix(key, "flyway.placeholders."); ok {
			st.placeholders[strings.ToLower(name)] = value
			return
		}
		for _, b := range st.bools() {
			if b.conf == key {
				*b.dst = r.boolSetting(file, line, key, value, *b.dst)
				return
			}
		}
		for _, t := range text {
			switch {
			case t.conf != key:
			case value == "" && (t.dst == &st.naming.separator || t.dst == &st.naming.suffixes):
				r.errorf(file, line, "remove the line to keep Flyway's default", "%s cannot be empty", key)
			default:
				*t.dst = value
				if t.dst == &st.ignorePatterns {
					st.ignoreAt = settingAt{file: file, line: line}
				}
				if t.dst == &st.locations {
					st.locationsAt = settingAt{file: file, line: line, folder: st.readingFolder}
				}
			}
		}
	})
}

// boolSetting reads a true/false setting; anything else is an error and keeps def.
func (r *reader) boolSetting(file string, line int, key, value string, def bool) bool {
	b, ok := parseBool(value)
	if !ok {
		r.errorf(file, line, "write true or false", "invalid %s value %q", key, value)
		return def
	}
	return b
}

// parseBool reads true or false, in any case.
func parseBool(v string) (b, ok bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// flywayTOML reads a flyway.toml: [flyway] settings and placeholders, and the environments, whose
// settings loadFlywaySettings applies once it knows the one selected.
func (r *reader) flywayTOML(file, src string, st *flywaySettings) {
	var t flywayTOML
	md, err := toml.Decode(src, &t)
	if err != nil {
		line := 0
		var pe toml.ParseError
		if errors.As(err, &pe) {
			line = pe.Position.Line
		}
		r.errorf(file, line, "fix the TOML", "read Flyway configuration: %v", err)
		return
	}
	r.checkFlywayTOMLKeys(file, src, md, st)
	lines := tomlKeyLines(src)
	if t.Flyway.IgnoreMigrationPatterns != nil {
		st.ignoreAt = settingAt{file: file, line: tomlKeyLine(lines, "flyway.ignoreMigrationPatterns")}
	}
	if t.Flyway.Locations != nil {
		st.locationsAt = settingAt{file: file, line: tomlKeyLine(lines, "flyway.locations"), folder: st.readingFolder}
	}
	for k, v := range t.Flyway.Placeholders {
		st.placeholders[strings.ToLower(k)] = v
	}
	t.Flyway.apply(st)
	if t.Flyway.Environment != "" {
		st.environment = t.Flyway.Environment
	}
	names := slices.Sorted(maps.Keys(t.Environments))
	for _, name := range names {
		e := flywayTOMLEnvironment{name: name, flywayTOMLEnvironmentTable: t.Environments[name]}
		e.ignoreAt = settingAt{file: file, line: tomlKeyLine(lines, "environments."+name+".flyway.ignoreMigrationPatterns")}
		e.locationsAt = settingAt{file: file, line: tomlKeyLine(lines, "environments."+name+".flyway.locations"), folder: st.readingFolder}
		st.environments = append(st.environments, e)
	}
}

// ignorePatterns reads st's ignoreMigrationPatterns as Flyway does (ValidatePattern.fromPattern): a
// comma-separated list of type:state, type versioned, repeatable or *, state missing, pending, ignored,
// future or *, in any case and with blanks around the parts. Flyway refuses the configuration on a
// pattern that is none of these: an error where the setting was set.
func (r *reader) ignorePatterns(st *flywaySettings) []ValidatePattern {
	out := []ValidatePattern{}
	for _, p := range strings.Split(st.ignorePatterns, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		parts := strings.Split(p, ":")
		problem := ""
		if len(parts) != 2 {
			problem = fmt.Sprintf("invalid pattern %q: Flyway wants <migration_type>:<migration_state>", p)
		} else {
			typ, state := strings.ToLower(strings.TrimSpace(parts[0])), strings.ToLower(strings.TrimSpace(parts[1]))
			switch {
			case !slices.Contains([]string{"*", "repeatable", "versioned"}, typ):
				problem = fmt.Sprintf("invalid migration type %q in %q: Flyway knows *, repeatable and versioned", parts[0], p)
			case !slices.Contains([]string{"*", "missing", "pending", "ignored", "future"}, state):
				problem = fmt.Sprintf("invalid migration state %q in %q: Flyway knows *, missing, pending, ignored and future", parts[1], p)
			default:
				out = append(out, ValidatePattern{Type: typ, State: state})
				continue
			}
		}
		at := st.ignoreAt
		if at.env != "" {
			problem = at.env + ": " + problem
		}
		r.errorf(at.file, at.line, "write the patterns as type:state, such as *:missing or versioned:ignored, separated by commas", "ignoreMigrationPatterns: %s (Flyway refuses the configuration)", problem)
	}
	return out
}

// flywayConfigHint names where Flyway settings come from, for hints.
func flywayConfigHint() string {
	wd, _ := os.Getwd()
	return fmt.Sprintf("flyway.toml or flyway.conf in %s (else in the migration folder), FLYWAY_CONFIG_FILES", filepath.Clean(wd))
}

// tomlStrings is a TOML list of strings; a single string is read as a list of one.
type tomlStrings []string

// UnmarshalTOML implements toml.Unmarshaler.
func (l *tomlStrings) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case string:
		*l = tomlStrings{v}
	case []any:
		*l = nil
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return fmt.Errorf("want a list of strings, not %v", v)
			}
			*l = append(*l, s)
		}
	default:
		return fmt.Errorf("want a list of strings, not %v", v)
	}
	return nil
}

// flywaySchemas are the schemas Flyway creates (those that do not exist) before it migrates, and the
// search_path element it puts in front of the connection's search_path before each migration (a quoted
// identifier), with the settings the folder is read with (see flywaySettings). Read does not call it:
// it is for Set.Schemas and Set.SearchPath of a Flyway folder.
//
// Flyway (SchemaHistoryFactory.prepareSchemas) takes the default schema from defaultSchema, else the first
// of schemas; the schemas it manages are schemas, with the default one in front when the list lacks it.
// With createSchemas (the default) it creates those that do not exist (DbSchemas.create). Before each
// migration it resets the connection and calls PostgreSQLConnection.changeCurrentSchemaTo(default schema),
// which sets search_path to the quoted schema followed by the connection's original search_path (unless
// that already starts with it, or the schema does not exist). Neither set: nothing to create, the search
// path stays the connection's.
func flywaySchemas(fsys fs.FS) (schemas []string, searchPath string) {
	st := (&reader{fsys: fsys}).loadFlywaySettings()
	var list []string
	for _, s := range strings.Split(st.schemas, ",") {
		if s = strings.TrimSpace(s); s != "" {
			list = append(list, s)
		}
	}
	def := strings.TrimSpace(st.defaultSchema)
	if def == "" && len(list) > 0 {
		def = list[0]
	}
	if def == "" {
		return nil, ""
	}
	if st.createSchemas {
		schemas = list
		if !slices.Contains(list, def) {
			schemas = append([]string{def}, list...)
		}
	}
	return schemas, `"` + strings.ReplaceAll(def, `"`, `""`) + `"`
}
