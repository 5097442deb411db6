package gate

import (
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/report"
)

func TestMigrationFiles(t *testing.T) {
	cases := []struct {
		dir, given, file, down string
		changed                []string
		want                   string
	}{
		// check ran in db/ with --dir migrations: the files begin with the folder as given.
		{"db/migrations", "migrations", "migrations/3_nn.up.sql", "migrations/3_nn.down.sql", nil, "db/migrations/3_nn.up.sql db/migrations/3_nn.down.sql"},
		{"db/migrations", "/home/ci/repo/db/migrations", "/home/ci/repo/db/migrations/deploy/x.sql", "", nil, "db/migrations/deploy/x.sql"},
		{"db/migrations", "", "2_x.up.sql", "2_x.down.sql", nil, "db/migrations/2_x.up.sql db/migrations/2_x.down.sql"},
		{"db/migrations", "", "db/migrations/2_x.up.sql", "", nil, "db/migrations/2_x.up.sql"},
		{"db/migrations", "", "../../db/migrations/2_x.up.sql", "", nil, "db/migrations/2_x.up.sql"},
		{"db/migrations", "", "/home/ci/repo/db/migrations/2_x.up.sql", "", nil, "db/migrations/2_x.up.sql"},
		{"", "", "2_x.up.sql", "", []string{"README.md"}, "2_x.up.sql"},
		{"db/migrations", "", "2_x.up.sql", "", []string{"db/migrations/1_old.up.sql", "app/main.go"}, "db/migrations/2_x.up.sql db/migrations/1_old.up.sql"},
	}
	for _, c := range cases {
		r := &report.Report{Dir: c.dir, DirGiven: c.given, Migrations: []report.Migration{{Version: "2", File: c.file, DownFile: c.down, New: true}}}
		if got := strings.Join(MigrationFiles(r, c.changed), " "); got != c.want {
			t.Errorf("dir %q file %q: got %q, want %q", c.dir, c.file, got, c.want)
		}
	}
}
