package config

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// TestJSONSchemaAgreesWithTheReader: an editor that validates schemagate.yml with schemagate.schema.json
// must accept what Parse accepts and flag what it refuses (where a JSON Schema can say so: a time zone
// or a cron expression it cannot). Each sample is validated by both.
func TestJSONSchemaAgreesWithTheReader(t *testing.T) {
	data, err := os.ReadFile("../../schemagate.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	const url = "https://github.com/schemagate/schemagate/raw/main/schemagate.schema.json"
	c := jsonschema.NewCompiler()
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	env := "environments:\n  prod:\n    database_url_env: PROD_URL\n    snapshot: {kind: none}\n"
	bare := "environments:\n  prod:\n    database_url_env: PROD_URL\n"
	tests := []struct {
		name, yaml string
		ok         bool
	}{
		{"empty", "", true},
		{"empty sections", "database:\n  setup:\nlint:\n  rules:\napproval:\nenvironments:\n", true},
		{"empty settings of an environment", "environments:\n  prod:\n    database_url_env: PROD_URL\n    snapshot:\n    windows:\n    maintenance:\n", true},
		{"empty environment", "environments:\n  prod:\n", false},
		{"a full file", "dir: db\nformat: goose\ndatabase: {provider: docker, pg_version: 16, statement_timeout: 5m}\n" +
			"lint: {fail_on: dangerous, deploy_timeouts: false, rules: {prefer-text: off, drop-column: dangerous}}\n" +
			"approval: {require: risky, approvals: 2, dba_users: [dora], dba_teams: [acme/dba]}\n" + env, true},
		{"unknown rule id", "lint:\n  rules: {no-such-rule: off}\n", false},
		{"rule id in another case", "lint:\n  rules: {Prefer-Text: OFF, create-index-blocking: Safe}\n", true},
		{"unknown class", "lint:\n  rules: {prefer-text: fatal}\n", false},
		{"negative retries", env + "    retries: -1\n", false},
		{"no retries", env + "    retries: 0\n", true},
		{"compress 99", bare + "    snapshot: {kind: none, compress: 99}\n", false},
		{"compress 9", bare + "    snapshot: {kind: none, compress: 9}\n", true},
		{"compress -1", bare + "    snapshot: {kind: none, compress: -1}\n", false},
		{"negative keep", bare + "    snapshot: {kind: none, keep: -1}\n", false},
		{"statement_timeout 0", "database:\n  statement_timeout: 0\n", true},
		{"statement_timeout '0'", "database:\n  statement_timeout: \"0\"\n", true},
		{"statement_timeout 0s", "database:\n  statement_timeout: 0s\n", true},
		{"statement_timeout 5", "database:\n  statement_timeout: 5\n", false},
		{"statement_timeout without unit", "database:\n  statement_timeout: \"5\"\n", false},
		{"negative statement_timeout", "database:\n  statement_timeout: -5s\n", false},
		{"lock_timeout 0", env + "    lock_timeout: 0\n", true},
		{"fail_on Dangerous", "lint:\n  fail_on: Dangerous\n", true},
		{"fail_on fatal", "lint:\n  fail_on: fatal\n", false},
		{"format GOLANG-MIGRATE", "format: GOLANG-MIGRATE\n", true},
		{"format liquibase", "format: liquibase\n", false},
		{"provider LOCAL", "database:\n  provider: LOCAL\n", true},
		{"provider podman", "database:\n  provider: podman\n", false},
		{"require Always", "approval:\n  require: Always\n", true},
		{"approvals 0", "approval:\n  approvals: 0\n", false},
		{"approvals 1.5", "approval:\n  approvals: 1.5\n", false},
		{"keep 0.5", bare + "    snapshot: {kind: none, keep: 0.5}\n", false},
		{"pg_version 0", "database:\n  pg_version: 0\n", true},
		{"pg_version 99", "database:\n  pg_version: 99\n", false},
		{"pg_version 9", "database:\n  pg_version: 9\n", false},
		{"outside_window WAIT", env + "    outside_window: WAIT\n    max_wait: 1h\n", true},
		{"webhook method post", env + "    maintenance:\n      on: {webhook: {url: 'https://x/on', method: post}}\n      off: {sql: 'select 1'}\n", true},
		{"webhook method HEAD", env + "    maintenance:\n      on: {webhook: {url: 'https://x/on', method: HEAD}}\n      off: {sql: 'select 1'}\n", false},
		{"blackout date", env + "    blackouts: [{from: 2026-12-24, to: 2026-12-26}]\n", true},
		{"blackout not a date", env + "    blackouts: [{from: christmas, to: 2026-12-26}]\n", false},
		{"unknown key", "dirr: db\n", false},
		{"unknown key in a section", "lint:\n  fial_on: dangerous\n", false},
		{"wrong type", "approval:\n  approvals: many\n", false},
		{"team without org", "approval:\n  dba_teams: [dba]\n", false},
		{"database_url_env", "environments:\n  prod:\n    database_url_env: prod_db_url_2\n", true},
		{"database_url_env with a space", "environments:\n  prod:\n    database_url_env: prod url\n", false},

		// A yes/no setting takes true and false (True, FALSE), and YAML 1.1's yes/no, on/off and y/n in
		// the same three cases, quoted or not, as the YAML reader does; editors read those as strings.
		{"deploy_timeouts yes", "lint:\n  deploy_timeouts: yes\n", true},
		{"deploy_timeouts Off", "lint:\n  deploy_timeouts: Off\n", true},
		{"deploy_timeouts N", "lint:\n  deploy_timeouts: N\n", true},
		{"deploy_timeouts FALSE", "lint:\n  deploy_timeouts: FALSE\n", true},
		{"deploy_timeouts 'yes'", "lint:\n  deploy_timeouts: 'yes'\n", true},
		{"require_approval on", env + "    require_approval: on\n", true},
		{"comment NO", env + "    comment: NO\n", true},
		{"stale_on_push y", "approval:\n  stale_on_push: y\n", true},
		{"deploy_timeouts 'true'", "lint:\n  deploy_timeouts: 'true'\n", false},
		{"deploy_timeouts tRue", "lint:\n  deploy_timeouts: tRue\n", false},
		{"deploy_timeouts oN", "lint:\n  deploy_timeouts: oN\n", false},
		{"deploy_timeouts 1", "lint:\n  deploy_timeouts: 1\n", false},
		{"deploy_timeouts enabled", "lint:\n  deploy_timeouts: enabled\n", false},
		// A number in a text setting is its text, as written; a yes/no value there is refused (rows
		// compares text, and PostgreSQL writes a boolean as t or f), as where no number is a value.
		{"dir 2024", "dir: 2024\n", true},
		{"dba_users 12345", "approval:\n  dba_users: [12345]\n", true},
		{"reason 2026", env + "    blackouts: [{from: 2026-12-24, to: 2026-12-26, reason: 2026}]\n", true},
		{"rows of numbers", env + "    verify: {checks: [{sql: 'select 42, 1.50', rows: [[42, 1.50]]}]}\n", true},
		{"rows yes", env + "    verify: {checks: [{sql: 'select 1', rows: [[yes]]}]}\n", true},
		{"rows true", env + "    verify: {checks: [{sql: 'select true', rows: [[true]]}]}\n", false},
		{"rows 'true'", env + "    verify: {checks: [{sql: 'select 1', rows: [['true']]}]}\n", true},
		{"dir true", "dir: true\n", false},
		{"database_url_env True", "environments:\n  prod:\n    database_url_env: True\n", false},
		{"database_url_env 123", "environments:\n  prod:\n    database_url_env: 123\n", false},
		{"history_schema false", env + "    history_schema: false\n", false},
		{"history_schema 123", env + "    history_schema: 123\n", false},
		{"time_zone 1", env + "    time_zone: 1\n", false},
		{"cron 5", env + "    windows: [{cron: 5, duration: 1h}]\n", false},
		{"fail_on no", "lint:\n  fail_on: no\n", false},
		{"fail_on false", "lint:\n  fail_on: false\n", false},
		{"rule class no", "lint:\n  rules: {prefer-text: no}\n", false},
		{"rule class false", "lint:\n  rules: {prefer-text: false}\n", false},
		// A setting written with nothing after it is not set; an empty list item would be dropped.
		{"dir empty", "dir:\n", true},
		{"pg_version ~", "database:\n  pg_version: ~\n", true},
		{"deploy_timeouts empty", "lint:\n  deploy_timeouts:\n", true},
		{"require_approval null", env + "    require_approval: null\n", true},
		{"max_wait empty", env + "    max_wait:\n", true},
		{"window duration empty", env + "    windows: [{cron: '0 3 * * *', duration: ~}]\n", false},
		{"check sql empty", env + "    verify: {checks: [{name: x, sql: ~}]}\n", false},
		{"null dba_users item", "approval:\n  dba_users: [dora, ~]\n", false},
		{"null setup item", "database:\n  setup:\n    - roles.sql\n    -\n", false},
		{"NULL in rows", env + "    verify: {checks: [{sql: 'select 1, null', rows: [[1, NULL]]}]}\n", false},
		{"'NULL' in rows", env + "    verify: {checks: [{sql: 'select 1, null', rows: [[1, 'NULL']]}]}\n", true},
		{"null window", env + "    windows: [~]\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			readerErr := Parse("schemagate.yml", []byte(tt.yaml), Default())
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(tt.yaml), &n); err != nil {
				t.Fatal(err)
			}
			v := jsonValue(&n)
			if v == nil {
				v = map[string]any{}
			}
			js, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
			if err != nil {
				t.Fatal(err)
			}
			schemaErr := schema.Validate(inst)
			if (readerErr == nil) != tt.ok {
				t.Errorf("reader: %v, want ok=%v", readerErr, tt.ok)
			}
			if (schemaErr == nil) != tt.ok {
				t.Errorf("schema: %v, want ok=%v", schemaErr, tt.ok)
			}
		})
	}
}

// jsonValue is the JSON an editor's YAML support validates: numbers, booleans and null as YAML 1.2 reads
// them, every other scalar (2026-12-24 too) a string.
func jsonValue(n *yaml.Node) any {
	switch n.Kind {
	case 0:
		return nil
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return jsonValue(n.Content[0])
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = jsonValue(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		l := []any{}
		for _, c := range n.Content {
			l = append(l, jsonValue(c))
		}
		return l
	case yaml.AliasNode:
		return jsonValue(n.Alias)
	}
	switch n.Tag {
	case "!!int", "!!float":
		return json.Number(n.Value)
	case "!!bool":
		return strings.EqualFold(n.Value, "true")
	case "!!null":
		return nil
	}
	return n.Value
}
