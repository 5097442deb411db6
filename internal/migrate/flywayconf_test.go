package migrate

import (
	"os"
	"slices"
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
