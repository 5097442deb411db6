package migrate

import (
	"errors"
	"fmt"
	"github.com/schemagate/schemagate/internal/repofs"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
)

// flywaySettings are the Flyway settings that change how scripts read: placeholders and what the
// built-in ones resolve to, and whether scripts run in a transaction (executeInTransaction, mixed). They come, as in the Flyway CLI, from configuration files (flyway.toml,
// flyway.conf or conf/flyway.conf in the working directory, or the files FLYWAY_CONFIG_FILES lists),
// overridden by FLYWAY_* environment variables.
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
	}
}

// flywayTOML is the part of flyway.toml (Flyway 10 and later) schemagate reads.
type flywayTOML struct {
	Flyway struct {
		Environment            string            `toml:"environment"`
		Placeholders           map[string]string `toml:"placeholders"`
		PlaceholderReplacement *bool             `toml:"placeholderReplacement"`
		ExecuteInTransaction   *bool             `toml:"executeInTransaction"`
		Mixed                  *bool             `toml:"mixed"`
		PlaceholderPrefix      string            `toml:"placeholderPrefix"`
		PlaceholderSuffix      string            `toml:"placeholderSuffix"`
		DefaultSchema          string            `toml:"defaultSchema"`
		Table                  string            `toml:"table"`
	} `toml:"flyway"`
	Environments map[string]struct {
		URL     string   `toml:"url"`
		User    string   `toml:"user"`
		Schemas []string `toml:"schemas"`
	} `toml:"environments"`
}

// loadFlywaySettings reads the configuration files and the environment. Problems in a file are errors
// with its name and line.
func (r *reader) loadFlywaySettings() flywaySettings {
	st := flywaySettings{placeholders: map[string]string{}, replacement: true, prefix: "${", suffix: "}", environment: "default", inTransaction: true}
	var files []string
	if v, ok := os.LookupEnv("FLYWAY_CONFIG_FILES"); ok && strings.TrimSpace(v) != "" {
		for _, f := range strings.Split(v, ",") {
			files = append(files, strings.TrimSpace(f))
		}
	} else {
		for _, f := range []string{"conf/flyway.conf", "flyway.conf", "flyway.toml"} {
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
		if strings.HasSuffix(f, ".toml") {
			r.flywayTOML(f, string(b), &st)
		} else {
			r.flywayConf(f, string(b), &st)
		}
	}
	// The environment overrides the files, as in the Flyway CLI.
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if name, ok := strings.CutPrefix(k, "FLYWAY_PLACEHOLDERS_"); ok && name != "" {
			st.placeholders[strings.ToLower(name)] = v
		}
	}
	for _, t := range st.text() {
		if v, ok := os.LookupEnv(t.env); ok && v != "" {
			*t.dst = v
		}
	}
	for _, b := range st.bools() {
		if v, ok := os.LookupEnv(b.env); ok && v != "" {
			if x, ok := parseBool(v); ok {
				*b.dst = x
			}
		}
	}
	return st
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
	}
}

// flywayConf reads a flyway.conf: Java properties, flyway.placeholders.NAME=VALUE and the settings above.
func (r *reader) flywayConf(file, src string, st *flywaySettings) {
	text := st.text()
	r.properties(file, src, "Flyway setting", func(line int, key, value string) {
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
			if t.conf == key {
				*t.dst = value
			}
		}
	})
}

// properties calls each for every key=value line of a Java-properties-like file (# and ! comments),
// and reports the lines that are neither.
func (r *reader) properties(file, src, what string, each func(line int, key, value string)) {
	for i, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(line, "\uFEFF"))
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		key, value, found := strings.Cut(line, "=")
		if !found {
			r.errorf(file, i+1, "write key=value", "malformed %s %q", what, line)
			continue
		}
		each(i+1, strings.TrimSpace(key), strings.TrimSpace(value))
	}
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

// flywayTOML reads a flyway.toml: [flyway] settings and placeholders, and the selected environment's
// url, user and schemas.
func (r *reader) flywayTOML(file, src string, st *flywaySettings) {
	var t flywayTOML
	if _, err := toml.Decode(src, &t); err != nil {
		line := 0
		var pe toml.ParseError
		if errors.As(err, &pe) {
			line = pe.Position.Line
		}
		r.errorf(file, line, "fix the TOML", "read Flyway configuration: %v", err)
		return
	}
	for k, v := range t.Flyway.Placeholders {
		st.placeholders[strings.ToLower(k)] = v
	}
	for dst, p := range map[*bool]*bool{&st.replacement: t.Flyway.PlaceholderReplacement,
		&st.inTransaction: t.Flyway.ExecuteInTransaction, &st.mixed: t.Flyway.Mixed} {
		if p != nil {
			*dst = *p
		}
	}
	for dst, v := range map[*string]string{&st.prefix: t.Flyway.PlaceholderPrefix, &st.suffix: t.Flyway.PlaceholderSuffix,
		&st.defaultSchema: t.Flyway.DefaultSchema, &st.table: t.Flyway.Table, &st.environment: t.Flyway.Environment} {
		if v != "" {
			*dst = v
		}
	}
	env := st.environment
	if e, ok := t.Environments[env]; ok {
		if e.URL != "" {
			st.url = e.URL
		}
		if e.User != "" {
			st.user = e.User
		}
		if len(e.Schemas) > 0 {
			st.schemas = strings.Join(e.Schemas, ",")
		}
	}
}

// flywayConfigHint names where Flyway settings come from, for hints.
func flywayConfigHint() string {
	wd, _ := os.Getwd()
	return fmt.Sprintf("flyway.toml or flyway.conf in %s, FLYWAY_CONFIG_FILES", filepath.Clean(wd))
}
