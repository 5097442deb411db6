package migrate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
)

// flywaySettings are the Flyway settings that change how scripts read: placeholders and what the
// built-in ones resolve to. They come, as in the Flyway CLI, from configuration files (flyway.toml,
// flyway.conf or conf/flyway.conf in the working directory, or the files FLYWAY_CONFIG_FILES lists),
// overridden by FLYWAY_* environment variables.
type flywaySettings struct {
	placeholders                  map[string]string // lower-cased name → value
	replacement                   bool
	prefix, suffix                string
	defaultSchema, schemas        string
	user, url, table, environment string
}

// flywayTOML is the part of flyway.toml (Flyway 10 and later) schemagate reads.
type flywayTOML struct {
	Flyway struct {
		Environment            string            `toml:"environment"`
		Placeholders           map[string]string `toml:"placeholders"`
		PlaceholderReplacement *bool             `toml:"placeholderReplacement"`
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
	st := flywaySettings{placeholders: map[string]string{}, replacement: true, prefix: "${", suffix: "}", environment: "default"}
	var files []string
	if v, ok := getenv("FLYWAY_CONFIG_FILES"); ok && strings.TrimSpace(v) != "" {
		for _, f := range strings.Split(v, ",") {
			files = append(files, strings.TrimSpace(f))
		}
	} else {
		for _, f := range []string{"conf/flyway.conf", "flyway.conf", "flyway.toml"} {
			if _, err := os.Stat(f); err == nil {
				files = append(files, f)
			}
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
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
	set := func(dst *string, key string) {
		if v, ok := getenv(key); ok && v != "" {
			*dst = v
		}
	}
	set(&st.prefix, "FLYWAY_PLACEHOLDER_PREFIX")
	set(&st.suffix, "FLYWAY_PLACEHOLDER_SUFFIX")
	set(&st.defaultSchema, "FLYWAY_DEFAULT_SCHEMA")
	set(&st.schemas, "FLYWAY_SCHEMAS")
	set(&st.user, "FLYWAY_USER")
	set(&st.url, "FLYWAY_URL")
	set(&st.table, "FLYWAY_TABLE")
	set(&st.environment, "FLYWAY_ENVIRONMENT")
	if v, ok := getenv("FLYWAY_PLACEHOLDER_REPLACEMENT"); ok && v != "" {
		st.replacement = !strings.EqualFold(strings.TrimSpace(v), "false")
	}
	return st
}

// flywayConf reads a flyway.conf: Java properties, flyway.placeholders.NAME=VALUE and the settings above.
func (r *reader) flywayConf(file, src string, st *flywaySettings) {
	for i, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(line, "\uFEFF"))
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		key, value, found := strings.Cut(line, "=")
		if !found {
			r.errorf(file, i+1, "write key=value", "malformed Flyway setting %q", line)
			continue
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if name, ok := strings.CutPrefix(key, "flyway.placeholders."); ok {
			st.placeholders[strings.ToLower(name)] = value
			continue
		}
		switch key {
		case "flyway.placeholderReplacement":
			st.replacement = !strings.EqualFold(value, "false")
		case "flyway.placeholderPrefix":
			st.prefix = value
		case "flyway.placeholderSuffix":
			st.suffix = value
		case "flyway.defaultSchema":
			st.defaultSchema = value
		case "flyway.schemas":
			st.schemas = value
		case "flyway.user":
			st.user = value
		case "flyway.url":
			st.url = value
		case "flyway.table":
			st.table = value
		}
	}
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
	if p := t.Flyway.PlaceholderReplacement; p != nil {
		st.replacement = *p
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
