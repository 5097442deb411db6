package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/schemagate/schemagate/internal/lint"
	"github.com/schemagate/schemagate/internal/migrate"
)

var updateSchema = flag.Bool("update", false, "rewrite ../../schemagate.schema.json from the Config structs")

// TestJSONSchemaUpToDate generates the JSON Schema from the Config structs and their doc comments and
// compares it with the committed file (go test ./internal/config -run JSONSchema -update rewrites it).
func TestJSONSchemaUpToDate(t *testing.T) {
	docs := fieldDocs(t)
	s := map[string]any{
		"$schema":     "https://json-schema.org/draft/2020-12/schema",
		"$id":         "https://github.com/schemagate/schemagate/raw/main/schemagate.schema.json",
		"title":       "schemagate.yml",
		"description": "Configuration of schemagate (https://github.com/schemagate/schemagate). Flags and SCHEMAGATE_* variables override it.",
	}
	for k, v := range schemaFor(reflect.TypeOf(Config{}), "", docs) {
		s[k] = v
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	const path = "../../schemagate.schema.json"
	if *updateSchema {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, buf.Bytes()) {
		t.Errorf("%s is out of date with the Config structs: run go test ./internal/config -run JSONSchemaUpToDate -update", path)
	}
}

// enums are the closed value sets, by dotted path (* for map values, [] for list items).
var enums = map[string][]any{
	"database.provider":                             {"auto", "local", "docker", "url"},
	"lint.fail_on":                                  {"dangerous", "caution", "safe", "never"},
	"lint.rules.*":                                  {"off", "safe", "caution", "dangerous"},
	"approval.require":                              {RequireRisky, RequireDangerous, RequireAlways, RequireNever},
	"environments.*.outside_window":                 {"fail", "wait"},
	"environments.*.import_missing":                 {"block", "accept"},
	"environments.*.snapshot.kind":                  {"pg_dump", "command", "none"},
	"environments.*.maintenance.on.webhook.method":  {"GET", "POST", "PUT", "PATCH", "DELETE"},
	"environments.*.maintenance.off.webhook.method": {"GET", "POST", "PUT", "PATCH", "DELETE"},
}

// minimums, maximums and patterns are the bounds Validate sets on numbers and strings, by dotted path.
var (
	minimums = map[string]int{"approval.approvals": 1, "golang_migrate.multi_statement_max_size": 0, "environments.*.retries": 0, "environments.*.snapshot.compress": 0,
		"environments.*.snapshot.jobs": 0, "environments.*.snapshot.keep": 0, "environments.*.snapshot.keep_days": 0}
	maximums = map[string]int{"environments.*.snapshot.compress": 9}
	patterns = map[string]string{"approval.dba_teams[]": `^@?[^/\s]+(/[^/\s]+)+$`, "environments.*.database_url_env": `^[A-Za-z_][A-Za-z0-9_]*$`,
		"environments.*.blackouts[].from": `^[0-9]{4}-[0-9]{2}-[0-9]{2}$`, "environments.*.blackouts[].to": `^[0-9]{4}-[0-9]{2}-[0-9]{2}$`}
	// anyOfs are the value sets that min and max cannot say: pg_version is 0 (the default) or 10 to 19.
	anyOfs = map[string][]any{"database.pg_version": {map[string]any{"const": 0}, map[string]any{"minimum": 10, "maximum": 19}}}
	// propertyNames are the keys a map takes: lint.rules the rule ids, in any letter case as Lookup reads them.
	propertyNames = map[string][]any{}
	// wordOnly are the text settings no number is a value of (Validate refuses every one): a number
	// there is flagged, as in a setting with an enum or a pattern. Every other text setting takes a
	// number, which Parse reads as the text it is written as (dir: 2024, rows: [[42]]).
	wordOnly = map[string]bool{"environments.*.time_zone": true, "environments.*.windows[].time_zone": true,
		"environments.*.windows[].cron": true, "environments.*.history_schema": true, "environments.*.import_history": true,
		"environments.*.maintenance.on.webhook.url": true, "environments.*.maintenance.off.webhook.url": true}
	// required are the settings that Validate refuses empty: null (written with nothing after the key, or
	// ~), which Parse reads as not set, is flagged there; anywhere else it is the default.
	required = map[string]bool{"environments.*.windows[].cron": true, "environments.*.windows[].duration": true,
		"environments.*.blackouts[].from": true, "environments.*.blackouts[].to": true, "environments.*.verify.checks[].sql": true,
		"environments.*.maintenance.on.webhook.url": true, "environments.*.maintenance.off.webhook.url": true}
)

// yaml11Bool matches the YAML 1.1 words for true and false that Parse reads into a yes/no setting (the
// YAML reader does, quoted or not), which YAML 1.2 and editors read as strings. A quoted "true" is not
// among them: Parse refuses it.
const yaml11Bool = `^(y|Y|yes|Yes|YES|on|On|ON|n|N|no|No|NO|off|Off|OFF)$`

func init() {
	f := []any{string(migrate.FormatAuto)}
	for _, x := range migrate.Formats {
		f = append(f, string(x))
	}
	enums["format"] = f
	var ids []any
	for _, r := range lint.Rules() {
		ids = append(ids, r.ID)
	}
	propertyNames["lint.rules"] = ids
}

// durationPattern is what time.ParseDuration reads (and Validate lets pass: no sign), "0" included; a
// bare 0, which the YAML reads as a number, is a duration too (Parse's zeroDuration).
const durationPattern = `^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$`

// anyCase is a set of words as Parse reads them: in any letter case, with white space around (it
// lowers and trims them), as the enum itself, which editors offer, or a pattern for the other spellings.
func anyCase(words []any, trim bool) map[string]any {
	var alts []string
	for _, w := range words {
		var b strings.Builder
		for _, r := range w.(string) {
			lo, up := strings.ToLower(string(r)), strings.ToUpper(string(r))
			if lo != up {
				b.WriteString("[" + lo + up + "]")
			} else {
				b.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		alts = append(alts, b.String())
	}
	space := ""
	if trim {
		space = `\s*`
	}
	return map[string]any{"anyOf": []any{
		map[string]any{"enum": words},
		map[string]any{"pattern": "^" + space + "(" + strings.Join(alts, "|") + ")" + space + "$"},
	}}
}

func schemaFor(typ reflect.Type, path string, docs map[string]string) map[string]any {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	out := map[string]any{}
	if e, ok := enums[path]; ok {
		for k, v := range anyCase(e, true) {
			out[k] = v
		}
	}
	if m, ok := minimums[path]; ok {
		out["minimum"] = m
	}
	if m, ok := maximums[path]; ok {
		out["maximum"] = m
	}
	if p, ok := patterns[path]; ok {
		out["pattern"] = p
	}
	if a, ok := anyOfs[path]; ok {
		out["anyOf"] = a
	}
	if names, ok := propertyNames[path]; ok {
		out["propertyNames"] = anyCase(names, false)
	}
	if typ == reflect.TypeOf(time.Duration(0)) {
		out["type"] = []any{"string", "integer"}
		out["pattern"] = durationPattern
		out["minimum"], out["maximum"] = 0, 0 // a number only as a bare 0
		return out
	}
	switch typ.Kind() {
	case reflect.String:
		out["type"] = "string"
		if out["anyOf"] == nil && out["pattern"] == nil && !wordOnly[path] {
			out["type"] = []any{"string", "number"}
		}
	case reflect.Int, reflect.Int64:
		out["type"] = "integer"
	case reflect.Bool:
		out["type"] = []any{"boolean", "string"}
		out["pattern"] = yaml11Bool
	case reflect.Map:
		out["type"] = "object"
		out["additionalProperties"] = schemaFor(typ.Elem(), path+".*", docs)
	case reflect.Slice:
		out["type"] = "array"
		out["items"] = schemaFor(typ.Elem(), path+"[]", docs)
	case reflect.Struct:
		out["type"] = "object"
		props := map[string]any{}
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if !f.IsExported() || tag == "-" {
				continue
			}
			sub := schemaFor(f.Type, prefix(path)+tag, docs)
			// A setting written with nothing after it ("lint:" with its settings commented out, "dir:") is
			// null, which Parse reads as not set.
			switch t := sub["type"].(type) {
			case string:
				if t == "object" || t == "array" || !required[prefix(path)+tag] {
					sub["type"] = []any{t, "null"}
				}
			case []any:
				if !required[prefix(path)+tag] {
					sub["type"] = append(t, "null")
				}
			}
			if d := docs[typ.Name()+"."+f.Name]; d != "" {
				sub["description"] = d
			}
			props[tag] = sub
		}
		out["properties"] = props
		out["additionalProperties"] = false
	}
	return out
}

// fieldDocs reads the doc comments of the struct fields of this package: "Type.Field" -> text.
func fieldDocs(t *testing.T) map[string]string {
	fset := token.NewFileSet()
	docs := map[string]string{}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, e.Name(), nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return false
			}
			for _, fld := range st.Fields.List {
				text := fld.Doc.Text()
				if text == "" {
					text = fld.Comment.Text()
				}
				text = strings.Join(strings.Fields(text), " ")
				for _, name := range fld.Names {
					if text != "" {
						docs[ts.Name.Name+"."+name.Name] = sentence(strings.TrimPrefix(text, name.Name+" "))
					}
				}
			}
			return false
		})
	}
	return docs
}

// sentence turns "is the zone of ..." into "The zone of ...".
func sentence(s string) string {
	for _, p := range []string{"is ", "are "} {
		s = strings.TrimPrefix(s, p)
	}
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
