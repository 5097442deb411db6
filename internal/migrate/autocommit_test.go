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
		{"flyway mixed, with its own executeInTransaction", FormatFlyway, map[string]string{
			"V1__idx.sql": "CREATE TABLE t (a int);\nCREATE INDEX CONCURRENTLY j ON t (a);", "V1__idx.sql.conf": "executeInTransaction=true\n"}, false, true},
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
		// psql commits at the script's own COMMIT, and runs a DO block or CALL outside any block
		// A DO block that commits, before the script's own transaction: psql runs it outside any block.
		{"plain committing DO before its own BEGIN … COMMIT", FormatPlain, map[string]string{
			"1_do.sql": "DO $$ BEGIN COMMIT; END $$;\nBEGIN;\nALTER TABLE t ADD COLUMN b int;\nCOMMIT;\n"}, true, true},
		{"plain CIC inside its own BEGIN … COMMIT stays in one transaction", FormatPlain, map[string]string{
			"1_idx.sql": "BEGIN;\nCREATE INDEX CONCURRENTLY i ON t (a);\nCOMMIT;\n"}, false, true},
		{"plain enum value committed, then used", FormatPlain, map[string]string{
			"1_enum.sql": "BEGIN;\nALTER TYPE s ADD VALUE 'c';\nCOMMIT;\nINSERT INTO t VALUES ('c');\n"}, true, true},
		{"sqitch DO block that commits", FormatSqitch, map[string]string{
			"sqitch.plan":         "%project=p\n\nbackfill 2024-01-01T00:00:00Z A <a@example.com> # x\n",
			"deploy/backfill.sql": "DO $$ BEGIN UPDATE t SET a = 1; COMMIT; END $$;\nSELECT 1;\n", "revert/backfill.sql": "SELECT 1;\n"}, true, true},
		// outside a transaction block psql fails LOCK TABLE and the savepoint statements, and SET LOCAL,
		// SET CONSTRAINTS and SET TRANSACTION do nothing: such a script runs as psql runs it
		{"plain LOCK TABLE", FormatPlain, map[string]string{"1_l.sql": "CREATE TABLE t (a int);\nLOCK TABLE t IN ACCESS EXCLUSIVE MODE;\n"}, true, true},
		{"plain SET LOCAL", FormatPlain, map[string]string{"1_l.sql": "SET LOCAL search_path = app;\nCREATE TABLE t (a int);\n"}, true, true},
		{"plain SET CONSTRAINTS", FormatPlain, map[string]string{"1_l.sql": "SET CONSTRAINTS ALL DEFERRED;\nINSERT INTO t VALUES (1);\n"}, true, true},
		{"plain SET TRANSACTION", FormatPlain, map[string]string{"1_l.sql": "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;\nSELECT 1;\n"}, true, true},
		{"sqitch SAVEPOINT", FormatSqitch, map[string]string{
			"sqitch.plan":     "%project=p\n\nseed 2024-01-01T00:00:00Z A <a@example.com> # x\n",
			"deploy/seed.sql": "SAVEPOINT s;\nINSERT INTO t VALUES (1);\nRELEASE SAVEPOINT s;\n", "revert/seed.sql": "SELECT 1;\n"}, true, true},
		{"plain LOCK TABLE inside its own BEGIN … COMMIT stays transactional", FormatPlain, map[string]string{
			"1_l.sql": "BEGIN;\nLOCK TABLE t;\nSET LOCAL lock_timeout = '1s';\nALTER TABLE t ADD COLUMN b int;\nCOMMIT;\n"}, false, true},
		{"plain SET (not LOCAL) stays transactional", FormatPlain, map[string]string{"1_l.sql": "SET lock_timeout = '1s';\nCREATE TABLE t (a int);\n"}, false, true},
		{"plain CALL", FormatPlain, map[string]string{"1_call.sql": "CALL backfill();\nSELECT 1;\n"}, true, true},
		{"golang-migrate enum value added then used stays one query", FormatGolangMigrate, map[string]string{
			"1_enum.up.sql": "ALTER TYPE s ADD VALUE 'c';\nINSERT INTO t VALUES ('c');\n", "1_enum.down.sql": "SELECT 1;"}, false, true},
		// golang-migrate sends a file as one query: a single statement is in no transaction block, so a
		// DO block that commits (a batched backfill) or a CALL of a procedure that may commit works there.
		{"golang-migrate lone DO that commits", FormatGolangMigrate, map[string]string{
			"1_fill.up.sql":   "DO $$ DECLARE n int; BEGIN LOOP UPDATE t SET done = true WHERE id IN (SELECT id FROM t WHERE NOT done LIMIT 1000); GET DIAGNOSTICS n = ROW_COUNT; EXIT WHEN n = 0; COMMIT; END LOOP; END $$;\n",
			"1_fill.down.sql": "-- undo\nDO $$ BEGIN UPDATE t SET done = false; ROLLBACK; END $$;"}, true, false},
		{"golang-migrate lone DO without COMMIT stays transactional", FormatGolangMigrate, map[string]string{
			"1_fill.up.sql": "DO $$ BEGIN RAISE NOTICE 'COMMIT'; UPDATE t SET done = true; END $$;", "1_fill.down.sql": "SELECT 1;"}, false, true},
		{"golang-migrate lone CALL", FormatGolangMigrate, map[string]string{
			"1_call.up.sql": "CALL backfill();", "1_call.down.sql": "CALL unfill(1);"}, true, false},
		{"golang-migrate DO that commits among others fails as one query", FormatGolangMigrate, map[string]string{
			"1_fill.up.sql": "SELECT 1;\nDO $$ BEGIN COMMIT; END $$;", "1_fill.down.sql": "SELECT 1;"}, false, true},
		{"golang-migrate CALL among others stays one query", FormatGolangMigrate, map[string]string{
			"1_call.up.sql": "CREATE TABLE t (a int);\nCALL p();", "1_call.down.sql": "DROP TABLE t;"}, false, true},
		// An explicit COMMIT in the query commits (the statements after it run in a new implicit
		// transaction), as psql runs the file: the enum value is committed before its use.
		{"golang-migrate explicit COMMIT partway", FormatGolangMigrate, map[string]string{
			"1_enum.up.sql":   "BEGIN;\nALTER TYPE e ADD VALUE 'x';\nCOMMIT;\nCREATE TABLE u (v e DEFAULT 'x');\n",
			"1_enum.down.sql": "DROP TABLE u;"}, true, true},
		{"golang-migrate COMMIT without BEGIN", FormatGolangMigrate, map[string]string{
			"1_enum.up.sql": "ALTER TYPE e ADD VALUE 'x';\nCOMMIT;\nINSERT INTO t VALUES ('x');\n", "1_enum.down.sql": "START TRANSACTION;\nDELETE FROM t;\nEND;\nDELETE FROM u;"}, true, false},
		// A file its own BEGIN and COMMIT wrap is one transaction under golang-migrate as in the rehearsal's.
		{"golang-migrate wrapped in its own BEGIN and COMMIT stays transactional", FormatGolangMigrate, map[string]string{
			"1_a.up.sql": "CREATE TABLE z (a int);\nBEGIN;\nALTER TYPE e ADD VALUE 'x';\nCOMMIT;\n-- done\n", "1_a.down.sql": "START TRANSACTION;\nDELETE FROM t;\nEND;"}, false, true},
		// ROLLBACK discards what the query did before it, which autocommit would keep: the rehearsal
		// refuses such a file in its transaction.
		{"golang-migrate ROLLBACK after a COMMIT stays transactional", FormatGolangMigrate, map[string]string{
			"1_a.up.sql": "BEGIN;\nALTER TYPE e ADD VALUE 'x';\nCOMMIT;\nCREATE TABLE a (v e);\nROLLBACK;\nCREATE TABLE b (v e);", "1_a.down.sql": "SELECT 1;"}, false, true},
		{"golang-migrate own BEGIN with CIC fails as one query", FormatGolangMigrate, map[string]string{
			"1_idx.up.sql": "BEGIN;\nCREATE TABLE t (a int);\nCOMMIT;\nCREATE INDEX CONCURRENTLY i ON t (a);\n", "1_idx.down.sql": "DROP TABLE t;"}, false, true},
		{"golang-migrate own COMMIT then a DO that commits fails as one query", FormatGolangMigrate, map[string]string{
			"1_fill.up.sql": "COMMIT;\nDO $$ BEGIN COMMIT; END $$;", "1_fill.down.sql": "SELECT 1;"}, false, true},
		{"golang-migrate own COMMIT then a CALL", FormatGolangMigrate, map[string]string{
			"1_call.up.sql": "BEGIN;\nALTER TYPE e ADD VALUE 'x';\nCOMMIT;\nCALL p('x');", "1_call.down.sql": "SELECT 1;"}, true, true},
		{"goose needs its directive", FormatGoose, map[string]string{
			"1_idx.sql": "-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (a);\n"}, false, true},
		// goose and sql-migrate run a transactional script statement by statement in their transaction:
		// the script's own COMMIT commits it, and what follows runs in autocommit.
		{"goose COMMIT half way", FormatGoose, map[string]string{
			"1_enum.sql": "-- +goose Up\nALTER TYPE e ADD VALUE 'x';\nCOMMIT;\nUPDATE t SET v = 'x';\n-- +goose Down\nUPDATE t SET v = 'y';\n"}, true, true},
		{"goose COMMIT last stays transactional", FormatGoose, map[string]string{
			"1_enum.sql": "-- +goose Up\nCREATE TABLE t (a int);\nCOMMIT;\n"}, false, true},
		{"goose CIC before its COMMIT fails in the transaction", FormatGoose, map[string]string{
			"1_idx.sql": "-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (a);\nCOMMIT;\nSELECT 1;\n"}, false, true},
		{"goose enum value used before its COMMIT fails in the transaction", FormatGoose, map[string]string{
			"1_enum.sql": "-- +goose Up\nALTER TYPE e ADD VALUE 'x';\nUPDATE t SET v = 'x';\nCOMMIT;\nSELECT 1;\n"}, false, true},
		{"sql-migrate COMMIT half way", FormatSQLMigrate, map[string]string{
			"1_enum.sql": "-- +migrate Up\nALTER TYPE e ADD VALUE 'x';\nCOMMIT;\nUPDATE t SET v = 'x';\n"}, true, true},
		// Flyway runs outside a transaction what its parser lists, and nothing else.
		{"flyway REINDEX SCHEMA", FormatFlyway, map[string]string{"V1__re.sql": "REINDEX SCHEMA public;"}, true, true},
		{"flyway REINDEX INDEX CONCURRENTLY fails in its transaction", FormatFlyway, map[string]string{
			"V1__re.sql": "REINDEX INDEX CONCURRENTLY i;"}, false, true},
		{"flyway DETACH PARTITION CONCURRENTLY fails in its transaction", FormatFlyway, map[string]string{
			"V1__detach.sql": "ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY;"}, false, true},
		{"flyway CREATE SUBSCRIPTION without a slot", FormatFlyway, map[string]string{
			"V1__sub.sql": "CREATE SUBSCRIPTION s CONNECTION 'host=db' PUBLICATION p WITH (connect = false);"}, true, true},
		{"flyway DISCARD ALL and VACUUM", FormatFlyway, map[string]string{"V1__v.sql": "DISCARD ALL;\nVACUUM t;"}, true, true},
		{"flyway DISCARD PLANS", FormatFlyway, map[string]string{"V1__d.sql": "DISCARD PLANS;"}, false, true},
		{"golang-migrate lone REINDEX SCHEMA", FormatGolangMigrate, map[string]string{
			"1_re.up.sql": "REINDEX SCHEMA public;", "1_re.down.sql": "SELECT 1;"}, true, true},
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
