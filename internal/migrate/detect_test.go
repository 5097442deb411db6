package migrate

import (
	"strings"
	"testing"
)

func TestDetect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		want  Format
	}{
		{"sqitch", fliprFiles(), FormatSqitch},
		{"sqitch project whose sqitch.conf sets top_dir", map[string]string{"sqitch.conf": "[core]\n\ttop_dir = db\n", "db/sqitch.plan": "%project=p\n", "README.md": "x"}, FormatSqitch},
		{"flyway.conf", map[string]string{"flyway.conf": "flyway.sqlMigrationSeparator=-\n", "V1-a.sql": "SELECT 1;", "R-v.sql": "SELECT 1;"}, FormatFlyway},
		{"flyway.toml, scripts in a subfolder", map[string]string{"flyway.toml": "[flyway]\nlocations = [\"filesystem:migrations\"]\n", "migrations/001_init.sql": "SELECT 1;"}, FormatFlyway},
		{"golang-migrate", map[string]string{"1_a.up.sql": "SELECT 1;", "1_a.down.sql": "SELECT 1;", "README.md": "x"}, FormatGolangMigrate},
		{"golang-migrate, up only", map[string]string{"1_a.up.sql": "SELECT 1;"}, FormatGolangMigrate},
		{"goose", map[string]string{"1_a.sql": "-- +goose Up\nSELECT 1;", "2_b.sql": "-- plain comment\nSELECT 2;"}, FormatGoose},
		{"goose, Go migrations only", map[string]string{"1_a.go": "package m\nimport \"github.com/pressly/goose/v3\"\n"}, FormatGoose},
		{"goose, indented annotation", map[string]string{"1_a.sql": "  -- +goose Up\nSELECT 1;"}, FormatGoose},
		{"dbmate", map[string]string{"20240101_a.sql": "-- migrate:up\nSELECT 1;\n-- migrate:down\n"}, FormatDbmate},
		{"dbmate, no space", map[string]string{"20240101_a.sql": "--migrate:down\n"}, FormatDbmate},
		{"sql-migrate", map[string]string{"1_a.sql": "-- +migrate Up\nSELECT 1;"}, FormatSQLMigrate},
		{"flyway", map[string]string{"V1__a.sql": "SELECT 1;", "R__v.sql": "SELECT 1;"}, FormatFlyway},
		{"flyway, repeatable only", map[string]string{"R__v.sql": "SELECT 1;"}, FormatFlyway},
		{"flyway, in subfolders", map[string]string{"core/V1__a.sql": "SELECT 1;", "README.md": "x"}, FormatFlyway},
		{"plain", map[string]string{"001_a.sql": "SELECT 1;", "002_b.sql": "-- migrate: the users\nSELECT 2;"}, FormatPlain},
		{"plain, up suffix without versions", map[string]string{"users.up.sql": "SELECT 1;"}, FormatPlain},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Detect(mapFS(tc.files))
			if err != nil || got != tc.want {
				t.Fatalf("Detect = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestDetectErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		msg   []string
		hint  string
	}{
		{
			name:  "golang-migrate and goose",
			files: map[string]string{"1_a.up.sql": "SELECT 1;", "2_b.sql": "-- +goose Up\nSELECT 1;", "3_c.sql": "-- +goose Up\n"},
			msg:   []string{"ambiguous migration folder", "golang-migrate (1_a.up.sql)", "goose (2_b.sql, 3_c.sql)"},
			hint:  "pass --format golang-migrate or --format goose",
		},
		{
			name:  "flyway names with dbmate blocks, many files",
			files: map[string]string{"V1__a.sql": "-- migrate:up\n", "V2__a.sql": "-- migrate:up\n", "V3__a.sql": "-- migrate:up\n", "V4__a.sql": "-- migrate:up\n"},
			msg:   []string{"flyway (V1__a.sql, V2__a.sql, V3__a.sql and 1 more)", "dbmate (V1__a.sql, V2__a.sql, V3__a.sql and 1 more)"},
			hint:  "--format flyway or --format dbmate",
		},
		{
			name:  "sqitch plan beside goose files",
			files: map[string]string{"sqitch.plan": "%project=x\n", "1_a.sql": "-- +goose Up\n"},
			msg:   []string{"sqitch (sqitch.plan)", "goose (1_a.sql)"},
			hint:  "--format sqitch or --format goose",
		},
		{
			name:  "nothing",
			files: map[string]string{"README.md": "x", "schema.txt": "CREATE TABLE t (id int);"},
			msg:   []string{"no migrations found"},
			hint:  "looked for sqitch.plan",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Detect(mapFS(tc.files))
			errs := readErrors(t, err)
			if len(errs) != 1 {
				t.Fatalf("Detect = %q, %v; want one error", got, err)
			}
			for _, m := range tc.msg {
				if !strings.Contains(errs[0].Msg, m) {
					t.Errorf("error %q does not say %q", errs[0].Msg, m)
				}
			}
			if !strings.Contains(errs[0].Hint, tc.hint) {
				t.Errorf("hint %q does not say %q", errs[0].Hint, tc.hint)
			}
			if set, rerr := Read(mapFS(tc.files), FormatAuto); set != nil || rerr == nil || rerr.Error() != err.Error() {
				t.Errorf("Read(auto) = %v, %v; want Detect's error", set, rerr)
			}
		})
	}
}

// TestNoMigrationsSaysWhereTheyAre: a sqitch project whose sqitch.conf moves its plan (top_dir) and a
// dbmate project root (db/migrations) get an error that says which folder to point at.
func TestNoMigrationsSaysWhereTheyAre(t *testing.T) {
	t.Parallel()
	// sqitch.conf is read only where it is (sqitch reads ./sqitch.conf): the hint must not send the user
	// to top_dir, which would leave it behind.
	_, err := Detect(mapFS(map[string]string{"sqitch.conf": "[core]\n\tengine = pg\n\ttop_dir = db\n", "db/deploy/a.sql": "SELECT 1;\n"}))
	if err == nil || !strings.Contains(err.Error(), "sqitch.conf sets top_dir = db, but there is no db/sqitch.plan") || strings.Contains(err.Error(), "read from there") {
		t.Errorf("sqitch top_dir without a plan: %v", err)
	}
	_, err = Read(mapFS(map[string]string{"sqitch.conf": "[core]\n\ttop_dir = db\n", "db/sqitch.plan": "%project=p\n"}), FormatAuto)
	if err == nil || !strings.Contains(err.Error(), "db/sqitch.plan: no change in db/sqitch.plan") {
		t.Errorf("sqitch top_dir, empty plan: %v", err)
	}
	_, err = Detect(mapFS(map[string]string{"db/migrations/20240101000000_a.sql": "-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 2;\n", "db/schema.sql.txt": "x"}))
	if err == nil || !strings.Contains(err.Error(), "point the migration folder at db/migrations") {
		t.Errorf("dbmate root: %v", err)
	}
}
