package config

import (
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
)

// TestGolangMigrateSettings: golang_migrate.multi_statement and multi_statement_max_size reach the
// folder's reader (x-multi-statement and x-multi-statement-max-size of golang-migrate's URL), and what
// golang-migrate would not read so is refused at its place.
func TestGolangMigrateSettings(t *testing.T) {
	t.Parallel()
	cfg := Default()
	if err := Parse("schemagate.yml", []byte("format: golang-migrate\ngolang_migrate:\n  multi_statement: true\n  multi_statement_max_size: 20971520\n"), cfg); err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.ReadOptions(), (migrate.Options{MultiStatement: true, MultiStatementMaxSize: 20 << 20}); got != want {
		t.Errorf("ReadOptions() = %+v, want %+v", got, want)
	}
	if got := Default().ReadOptions(); got != (migrate.Options{}) {
		t.Errorf("default ReadOptions() = %+v, want golang-migrate's defaults", got)
	}
	tests := []struct {
		name, yml, want string
	}{
		{"negative size", "golang_migrate:\n  multi_statement: true\n  multi_statement_max_size: -1\n",
			"schemagate.yml:3:29: golang_migrate.multi_statement_max_size: must not be negative"},
		{"size without multi_statement", "golang_migrate:\n  multi_statement_max_size: 100\n",
			"schemagate.yml:2:29: golang_migrate.multi_statement_max_size: golang-migrate reads it only with x-multi-statement"},
		{"another format", "format: goose\ngolang_migrate: {multi_statement: true}\n",
			"schemagate.yml:2:35: golang_migrate.multi_statement: applies to golang-migrate folders, and format is goose"},
		{"not a yes/no value", "golang_migrate:\n  multi_statement: sometimes\n",
			"schemagate.yml:2:20: golang_migrate.multi_statement: want true or false"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Parse("schemagate.yml", []byte(tc.yml), Default())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse: %v, want %q", err, tc.want)
			}
		})
	}
}
