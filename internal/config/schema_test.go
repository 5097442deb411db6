package config

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestJSONSchemaCoversEveryKey keeps schemagate.schema.json in step with the Config structs: every yaml
// key of every struct must be a property at the same place in the schema, and the schema must not name
// keys the structs do not have.
func TestJSONSchemaCoversEveryKey(t *testing.T) {
	data, err := os.ReadFile("../../schemagate.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatalf("schema is not valid JSON: %v", err)
	}
	compare(t, "", reflect.TypeOf(Config{}), schema)
}

func compare(t *testing.T, path string, typ reflect.Type, node map[string]any) {
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch typ.Kind() {
	case reflect.Map:
		ap, ok := node["additionalProperties"].(map[string]any)
		if !ok {
			t.Errorf("%s: map in Go, want additionalProperties schema", path)
			return
		}
		compare(t, path+".*", typ.Elem(), ap)
		return
	case reflect.Slice:
		items, ok := node["items"].(map[string]any)
		if !ok {
			t.Errorf("%s: list in Go, want items schema", path)
			return
		}
		compare(t, path+"[]", typ.Elem(), items)
		return
	case reflect.Struct:
		if typ.String() == "time.Duration" {
			return
		}
	default:
		return
	}
	props, _ := node["properties"].(map[string]any)
	keys := map[string]bool{}
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "-" {
			continue
		}
		if tag == "" {
			tag = strings.ToLower(f.Name)
		}
		keys[tag] = true
		sub, ok := props[tag].(map[string]any)
		if !ok {
			t.Errorf("schema lacks %s%s", prefix(path), tag)
			continue
		}
		if _, ok := sub["description"]; !ok {
			t.Errorf("schema property %s%s has no description", prefix(path), tag)
		}
		compare(t, prefix(path)+tag, f.Type, sub)
	}
	for k := range props {
		if !keys[k] {
			t.Errorf("schema names %s%s, which the configuration does not have", prefix(path), k)
		}
	}
	if node["additionalProperties"] != false {
		t.Errorf("%s: schema must set additionalProperties: false (unknown keys are errors)", path)
	}
}

func prefix(p string) string {
	if p == "" {
		return ""
	}
	return p + "."
}
