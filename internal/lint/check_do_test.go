package lint

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/schemagate/schemagate/internal/migrate"
)

// TestDoBlockLockTimeout: a lock_timeout a DO block sets itself (SET, SET LOCAL, PERFORM set_config)
// before the statement that locks covers that lock; one it turns off (= 0) does not, also when the
// script set one before. After the block, SET lasts for the session and SET LOCAL until the transaction
// ends. A DO outside a transaction block may end its transaction: COMMIT ends SET LOCAL (SET stays),
// ROLLBACK also undoes SET, back to what stood when the transaction began; a COMMIT that may run (in a
// branch, or at the end of a loop's round) leaves the statements after it uncovered. PostgreSQL 15
// shows each: current_setting('lock_timeout') after the COMMIT or ROLLBACK, and in each round.
func TestDoBlockLockTimeout(t *testing.T) {
	t.Parallel()
	ae := func(line int, rel string) Evidence {
		return Evidence{File: "m.sql", Line: line, Column: 1, Locks: []LockEvidence{{Relation: rel, Mode: "AccessExclusiveLock", Preexisting: true}}}
	}
	for _, tt := range []struct {
		name string
		src  string
		inTx bool
		ev   []Evidence
		want []Risk
	}{
		{"SET LOCAL in the block", "DO $$ BEGIN SET LOCAL lock_timeout = '2s'; ALTER TABLE u ADD COLUMN a int; END $$;\n", false,
			[]Evidence{ae(1, "public.u")}, []Risk{Caution}},
		{"SET in the block", "DO $$ BEGIN SET lock_timeout = '2s'; ALTER TABLE u ADD COLUMN a int; END $$;\n", true,
			[]Evidence{ae(1, "public.u")}, []Risk{Caution}},
		{"PERFORM set_config in the block", "DO $$ BEGIN PERFORM set_config('lock_timeout', '2s', true); ALTER TABLE u ADD COLUMN a int; END $$;\n", true,
			[]Evidence{ae(1, "public.u")}, []Risk{Caution}},
		{"set after the lock", "DO $$ BEGIN ALTER TABLE u ADD COLUMN a int; SET LOCAL lock_timeout = '2s'; END $$;\n", true,
			[]Evidence{ae(1, "public.u")}, []Risk{Dangerous}},
		{"set only in a branch", "DO $$ BEGIN IF random() > 0.5 THEN SET LOCAL lock_timeout = '2s'; END IF; ALTER TABLE u ADD COLUMN a int; END $$;\n", true,
			[]Evidence{ae(1, "public.u")}, []Risk{Dangerous}},
		{"turned off in the block", "SET lock_timeout = '2s';\nDO $$ BEGIN SET LOCAL lock_timeout = 0; ALTER TABLE u ADD COLUMN a int; END $$;\n", true,
			[]Evidence{ae(2, "public.u")}, []Risk{Dangerous}},
		{"turned off after the block's own", "DO $$ BEGIN SET lock_timeout = '2s'; SET lock_timeout = 0; ALTER TABLE u ADD COLUMN a int; END $$;\n", true,
			[]Evidence{ae(1, "public.u")}, []Risk{Dangerous}},
		{"SET LOCAL lasts until the transaction ends", "DO $$ BEGIN SET LOCAL lock_timeout = '2s'; END $$;\nSELECT my_migration();\n", true,
			[]Evidence{ae(2, "public.u")}, []Risk{Caution}},
		{"SET LOCAL ends with a DO outside a transaction", "DO $$ BEGIN SET LOCAL lock_timeout = '2s'; END $$;\nSELECT my_migration();\n", false,
			[]Evidence{ae(2, "public.u")}, []Risk{Dangerous}},
		{"SET lasts for the session", "DO $$ BEGIN SET lock_timeout = '2s'; END $$;\nSELECT my_migration();\n", false,
			[]Evidence{ae(2, "public.u")}, []Risk{Caution}},
		{"SET = 0 in the block lasts for the session", "SET lock_timeout = '2s';\nDO $$ BEGIN SET lock_timeout = 0; END $$;\nSELECT my_migration();\n", false,
			[]Evidence{ae(3, "public.u")}, []Risk{Dangerous}},
		{"COMMIT ends SET LOCAL", "DO $$ BEGIN SET LOCAL lock_timeout = '2s'; COMMIT; ALTER TABLE u ADD COLUMN a int; END $$;\n", false,
			[]Evidence{ae(1, "public.u")}, []Risk{Dangerous}},
		{"COMMIT AND CHAIN ends SET LOCAL", "DO $$ BEGIN SET LOCAL lock_timeout = '2s'; COMMIT AND CHAIN; ALTER TABLE u ADD COLUMN a int; END $$;\n", false,
			[]Evidence{ae(1, "public.u")}, []Risk{Dangerous}},
		{"ROLLBACK undoes SET", "DO $$ BEGIN SET lock_timeout = '2s'; ROLLBACK; ALTER TABLE u ADD COLUMN a int; END $$;\n", false,
			[]Evidence{ae(1, "public.u")}, []Risk{Dangerous}},
		{"ROLLBACK goes back to the last COMMIT", "DO $$ BEGIN SET lock_timeout = '2s'; COMMIT; SET lock_timeout = 0; ROLLBACK; ALTER TABLE u ADD COLUMN a int; END $$;\n", false,
			[]Evidence{ae(1, "public.u")}, []Risk{Caution}},
		{"ROLLBACK goes back to the script's SET", "SET lock_timeout = '2s';\nDO $$ BEGIN SET lock_timeout = 0; ROLLBACK; ALTER TABLE u ADD COLUMN a int; END $$;\n", false,
			[]Evidence{ae(2, "public.u")}, []Risk{Caution}},
		{"COMMIT in a branch", "DO $$ BEGIN SET LOCAL lock_timeout = '2s'; IF random() > 0.5 THEN COMMIT; END IF; ALTER TABLE u ADD COLUMN a int; END $$;\n", false,
			[]Evidence{ae(1, "public.u")}, []Risk{Dangerous}},
		{"COMMIT at the end of a loop's round", "DO $$ BEGIN SET LOCAL lock_timeout = '2s'; FOR i IN 1..3 LOOP ALTER TABLE u ADD COLUMN IF NOT EXISTS a int; COMMIT; END LOOP; END $$;\n", false,
			[]Evidence{ae(1, "public.u")}, []Risk{Dangerous}},
		{"turned off at the end of a loop's round", "DO $$ BEGIN SET lock_timeout = '2s'; FOR i IN 1..3 LOOP ALTER TABLE u ADD COLUMN IF NOT EXISTS a int; SET lock_timeout = 0; END LOOP; END $$;\n", false,
			[]Evidence{ae(1, "public.u")}, []Risk{Dangerous}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var risks []Risk
			for _, f := range ApplyEvidence(AnalyzeScript(script(tt.src), tt.inTx, Config{}), tt.ev) {
				if f.Rule == "unexplained-exclusive-lock" {
					risks = append(risks, f.Risk)
				}
			}
			if !slices.Equal(risks, tt.want) {
				t.Errorf("unexplained-exclusive-lock risks %v, want %v", risks, tt.want)
			}
		})
	}
}

// TestDoBlockSetsLockTimeoutForLaterStatements: the static rules see the lock_timeout a DO block sets,
// and what its ROLLBACK undoes.
func TestDoBlockSetsLockTimeoutForLaterStatements(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		src     string
		inTx    bool
		missing bool
	}{
		{"DO $$ BEGIN SET lock_timeout = '2s'; END $$;\nALTER TABLE users DROP COLUMN age;\n", false, false},
		{"DO $$ BEGIN SET LOCAL lock_timeout = '2s'; END $$;\nALTER TABLE users DROP COLUMN age;\n", true, false},
		{"DO $$ BEGIN SET LOCAL lock_timeout = '2s'; END $$;\nALTER TABLE users DROP COLUMN age;\n", false, true},
		{"SET lock_timeout = '2s';\nDO $$ BEGIN SET lock_timeout = 0; END $$;\nALTER TABLE users DROP COLUMN age;\n", false, true},
		// A DO outside a transaction block may end its transaction: ROLLBACK undoes the SET made in it,
		// back to the script's.
		{"DO $$ BEGIN SET lock_timeout = '2s'; ROLLBACK; END $$;\nALTER TABLE users DROP COLUMN age;\n", false, true},
		{"SET lock_timeout = '2s';\nDO $$ BEGIN SET lock_timeout = 0; ROLLBACK; END $$;\nALTER TABLE users DROP COLUMN age;\n", false, false},
	} {
		missing := slices.ContainsFunc(AnalyzeScript(script(tt.src), tt.inTx, Config{}), func(f Finding) bool { return f.Rule == "missing-lock-timeout" })
		if missing != tt.missing {
			t.Errorf("%q (in a transaction %v): missing-lock-timeout %v, want %v", tt.src, tt.inTx, missing, tt.missing)
		}
	}
}

// TestDoBlockLockTimeoutPerStatement: a lock_timeout the block sets covers the statements after it, not
// those before: of the relations the rehearsal saw the block lock, one an earlier statement names was
// locked without a timeout, one only a later statement names with one. A statement that only reads or
// writes rows takes no lock that queues anything; one whose targets the parser cannot see (EXECUTE, a
// function call) before the SET may have locked any relation, so the block is judged as a whole.
func TestDoBlockLockTimeoutPerStatement(t *testing.T) {
	t.Parallel()
	ev := []Evidence{{File: "m.sql", Line: 1, Column: 1, Locks: []LockEvidence{
		{Relation: "public.a", Mode: "AccessExclusiveLock", Preexisting: true},
		{Relation: "public.b", Mode: "AccessExclusiveLock", Preexisting: true}}}}
	for _, tt := range []struct {
		name string
		body string
		want map[string]Risk // relation -> risk of its unexplained-exclusive-lock
	}{
		{"SET between the two", "ALTER TABLE a ADD COLUMN x int; SET lock_timeout = '1s'; ALTER TABLE b ADD COLUMN y int;",
			map[string]Risk{"public.a": Dangerous, "public.b": Caution}},
		{"SET LOCAL between the two", "ALTER TABLE a ADD COLUMN x int; SET LOCAL lock_timeout = '1s'; ALTER TABLE b ADD COLUMN y int;",
			map[string]Risk{"public.a": Dangerous, "public.b": Caution}},
		{"PERFORM set_config between the two", "ALTER TABLE a ADD COLUMN x int; PERFORM set_config('lock_timeout', '1s', true); ALTER TABLE b ADD COLUMN y int;",
			map[string]Risk{"public.a": Dangerous, "public.b": Caution}},
		{"SELECT set_config INTO between the two", "ALTER TABLE a ADD COLUMN x int; SELECT set_config('lock_timeout', '1s', false) INTO v; ALTER TABLE b ADD COLUMN y int;",
			map[string]Risk{"public.a": Dangerous, "public.b": Caution}},
		{"SET first", "SET lock_timeout = '1s'; ALTER TABLE a ADD COLUMN x int; ALTER TABLE b ADD COLUMN y int;",
			map[string]Risk{"public.a": Caution, "public.b": Caution}},
		{"a read before the SET", "PERFORM 1 FROM a LIMIT 1; SET lock_timeout = '1s'; ALTER TABLE a ADD COLUMN x int; ALTER TABLE b ADD COLUMN y int;",
			map[string]Risk{"public.a": Caution, "public.b": Caution}},
		{"the same relation before and after", "ALTER TABLE a ADD COLUMN x int; SET lock_timeout = '1s'; ALTER TABLE a ADD COLUMN z int; ALTER TABLE b ADD COLUMN y int;",
			map[string]Risk{"public.a": Dangerous, "public.b": Caution}},
		{"EXECUTE before the SET", "EXECUTE 'ALTER TABLE b ADD COLUMN y int'; SET lock_timeout = '1s'; ALTER TABLE a ADD COLUMN x int; ALTER TABLE b ADD COLUMN z int;",
			map[string]Risk{"public.a": Dangerous, "public.b": Dangerous}},
		{"a function call before the SET", "PERFORM my_migration(); SET lock_timeout = '1s'; ALTER TABLE a ADD COLUMN x int; ALTER TABLE b ADD COLUMN z int;",
			map[string]Risk{"public.a": Dangerous, "public.b": Dangerous}},
		{"turned off before the same relation again", "SET lock_timeout = '1s'; ALTER TABLE a ADD COLUMN x int; SET lock_timeout = 0; ALTER TABLE a ADD COLUMN z int; ALTER TABLE b ADD COLUMN y int;",
			map[string]Risk{"public.a": Dangerous, "public.b": Dangerous}},
		{"a DROP before the SET reaches the table", "DROP INDEX a_x_idx; SET lock_timeout = '1s'; ALTER TABLE a ADD COLUMN x int; ALTER TABLE b ADD COLUMN y int;",
			map[string]Risk{"public.a": Dangerous, "public.b": Dangerous}},
		{"turned off between the two", "SET lock_timeout = '1s'; ALTER TABLE a ADD COLUMN x int; SET lock_timeout = 0; ALTER TABLE b ADD COLUMN y int;",
			map[string]Risk{"public.a": Caution, "public.b": Dangerous}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := "DO $$ DECLARE v text; BEGIN " + tt.body + " END $$;\n"
			got := map[string]Risk{}
			for _, f := range ApplyEvidence(AnalyzeScript(script(src), true, Config{}), ev) {
				if f.Rule == "unexplained-exclusive-lock" {
					for rel := range tt.want {
						if strings.Contains(f.Message, rel+",") {
							got[rel] = f.Risk
						}
					}
				}
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("unexplained-exclusive-lock risks %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDoCommitInTransactionByFormat: whether a DO block that commits runs in a transaction block is the
// migration tool's to say, as the folder's format reads it: golang-migrate sends a file as one query (a
// transaction block only when it holds several statements), goose, dbmate and Flyway wrap a migration
// in a transaction unless it is marked, psql (a plain folder) runs each statement by itself. Each
// migration of a folder is analyzed as lint --dir analyzes it.
func TestDoCommitInTransactionByFormat(t *testing.T) {
	t.Parallel()
	const do = "DO $$ BEGIN UPDATE users SET age = 0 WHERE age IS NULL; COMMIT; END $$;\n"
	tests := []struct {
		name   string
		format migrate.Format
		files  fstest.MapFS
		want   map[string]bool // migration version -> flagged
	}{
		{name: "golang-migrate", format: migrate.FormatGolangMigrate, files: fstest.MapFS{
			"1_alone.up.sql":   {Data: []byte(do)},
			"1_alone.down.sql": {Data: []byte("SELECT 1;\n")},
			"2_with.up.sql":    {Data: []byte("SET lock_timeout = '2s';\n" + do)},
			"2_with.down.sql":  {Data: []byte("SELECT 1;\n")},
		}, want: map[string]bool{"1": false, "2": true}},
		{name: "goose", format: migrate.FormatGoose, files: fstest.MapFS{
			"00001_marked.sql":   {Data: []byte("-- +goose NO TRANSACTION\n-- +goose Up\n" + do)},
			"00002_unmarked.sql": {Data: []byte("-- +goose Up\n" + do)},
		}, want: map[string]bool{"1": false, "2": true}},
		{name: "dbmate", format: migrate.FormatDbmate, files: fstest.MapFS{
			"20240101000001_marked.sql":   {Data: []byte("-- migrate:up transaction:false\n" + do + "\n-- migrate:down\n")},
			"20240101000002_unmarked.sql": {Data: []byte("-- migrate:up\n" + do + "\n-- migrate:down\n")},
		}, want: map[string]bool{"20240101000001": false, "20240101000002": true}},
		{name: "flyway", format: migrate.FormatFlyway, files: fstest.MapFS{
			"V1__marked.sql":      {Data: []byte(do)},
			"V1__marked.sql.conf": {Data: []byte("executeInTransaction=false\n")},
			"V2__unmarked.sql":    {Data: []byte(do)},
		}, want: map[string]bool{"1": false, "2": true}},
		{name: "plain", format: migrate.FormatPlain, files: fstest.MapFS{
			"001_alone.sql": {Data: []byte(do)},
			"002_begin.sql": {Data: []byte("BEGIN;\n" + do + "COMMIT;\n")},
		}, want: map[string]bool{"001": false, "002": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set, err := migrate.Read(tt.files, tt.format)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			seq := NewSequence(Config{})
			for _, m := range set.Migrations {
				f := find(seq.Analyze(m, set.Format), "do-commit-in-transaction")
				got[m.Version] = f != nil
				if f != nil && (f.Risk != Dangerous || !strings.Contains(f.Message, "deploy fails")) {
					t.Errorf("%s: %+v, want dangerous, saying the deploy fails", m.Version, f)
				}
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("flagged %v, want %v", got, tt.want)
			}
		})
	}
}
