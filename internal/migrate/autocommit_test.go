package migrate

import (
	"testing"
	"testing/fstest"
)

func TestInferAutocommit(t *testing.T) {
	cases := []struct {
		name   string
		format Format
		files  map[string]string
		upNoTx bool
		downTx bool // down runs in a transaction
	}{
		{"golang-migrate lone CIC", FormatGolangMigrate, map[string]string{
			"1_idx.up.sql": "-- comment\nCREATE INDEX CONCURRENTLY i ON t (a);\n", "1_idx.down.sql": "DROP INDEX CONCURRENTLY i;"}, true, false},
		{"golang-migrate CIC among others stays transactional", FormatGolangMigrate, map[string]string{
			"1_idx.up.sql": "CREATE TABLE t (a int);\nCREATE INDEX CONCURRENTLY i ON t (a);\n", "1_idx.down.sql": "DROP TABLE t;"}, false, true},
		{"golang-migrate plain index", FormatGolangMigrate, map[string]string{
			"1_idx.up.sql": "CREATE INDEX i ON t (a);", "1_idx.down.sql": "DROP INDEX i;"}, false, true},
		{"flyway only CIC", FormatFlyway, map[string]string{
			"V1__idx.sql": "CREATE INDEX CONCURRENTLY i ON t (a);\nCREATE INDEX CONCURRENTLY j ON t (b);"}, true, true},
		{"flyway mixed", FormatFlyway, map[string]string{
			"V1__idx.sql": "CREATE TABLE t (a int);\nCREATE INDEX CONCURRENTLY j ON t (a);"}, false, true},
		// plain folders are run by psql, statement by statement: CIC among others, and an enum value
		// added then used, work there, and would fail in one transaction
		{"plain CIC among others runs as psql runs it", FormatPlain, map[string]string{
			"1_idx.sql": "CREATE TABLE t (a int);\nCREATE INDEX CONCURRENTLY i ON t (a);\n"}, true, true},
		{"plain enum value added then used", FormatPlain, map[string]string{
			"1_enum.sql": "ALTER TYPE s ADD VALUE 'c';\nINSERT INTO t VALUES ('c');\n"}, true, true},
		{"plain enum value added last stays transactional", FormatPlain, map[string]string{
			"1_enum.sql": "CREATE TABLE t (a int);\nALTER TYPE s ADD VALUE 'c';\n"}, false, true},
		{"plain with its own BEGIN", FormatPlain, map[string]string{
			"1_enum.sql": "BEGIN;\nALTER TYPE s ADD VALUE 'c';\nINSERT INTO t VALUES ('c');\nCOMMIT;\n"}, false, true},
		{"golang-migrate enum value added then used stays one query", FormatGolangMigrate, map[string]string{
			"1_enum.up.sql": "ALTER TYPE s ADD VALUE 'c';\nINSERT INTO t VALUES ('c');\n", "1_enum.down.sql": "SELECT 1;"}, false, true},
		{"goose needs its directive", FormatGoose, map[string]string{
			"1_idx.sql": "-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (a);\n"}, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for n, s := range c.files {
				fsys[n] = &fstest.MapFile{Data: []byte(s)}
			}
			set, err := Read(fsys, c.format)
			if err != nil {
				t.Fatal(err)
			}
			m := set.Migrations[0]
			if m.NoTransaction != c.upNoTx || m.Up.NoTransaction != c.upNoTx {
				t.Errorf("up NoTransaction = %v/%v, want %v", m.NoTransaction, m.Up.NoTransaction, c.upNoTx)
			}
			if m.Down != nil && m.Down.NoTransaction == c.downTx {
				t.Errorf("down NoTransaction = %v, want %v", m.Down.NoTransaction, !c.downTx)
			}
		})
	}
}
