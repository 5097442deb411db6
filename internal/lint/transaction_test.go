package lint

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// txCase is one script and what the analysis must (or must not) say of it.
type txCase struct {
	name   string
	src    string
	inTx   bool   // the tool wraps the script in a transaction
	schema string // Config.Schema
	rule   string
	line   int    // the finding's line; 0: any
	says   string // a part of its message; "" with absent
	absent bool   // no finding of rule at all
}

func (tt txCase) run(t *testing.T) {
	t.Helper()
	fs := AnalyzeScript(script(tt.src), tt.inTx, Config{Schema: tt.schema})
	var got []Finding
	for _, f := range fs {
		if f.Rule == tt.rule && (tt.line == 0 || f.Line == tt.line) {
			got = append(got, f)
		}
	}
	switch {
	case tt.absent && len(got) > 0:
		t.Errorf("%s: %+v, want none", tt.rule, got)
	case tt.absent:
	case len(got) == 0:
		t.Errorf("%s missing (line %d); findings: %+v", tt.rule, tt.line, fs)
	case !strings.Contains(got[0].Message, tt.says):
		t.Errorf("%s: %q, want it to say %q", tt.rule, got[0].Message, tt.says)
	}
}

// runTxCases runs each case as a subtest of its own, in parallel.
func runTxCases(t *testing.T, cases []txCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t)
		})
	}
}

// TestChainKeepsTransactionBlock: COMMIT AND CHAIN and ROLLBACK AND CHAIN end the transaction (its
// locks, SET LOCAL, and for ROLLBACK its SET) and start another at once, so what follows still runs
// in a transaction block; outside one PostgreSQL refuses them.
func TestChainKeepsTransactionBlock(t *testing.T) {
	t.Parallel()
	runTxCases(t, []txCase{
		{name: "CIC after COMMIT AND CHAIN", src: "BEGIN;\nALTER TABLE users ADD COLUMN bio text;\nCOMMIT AND CHAIN;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS users_bio_idx ON users (bio);\nCOMMIT;\n",
			rule: "concurrently-in-transaction", line: 4, says: "cannot run inside a transaction block"},
		{name: "CIC after ROLLBACK AND CHAIN", src: "BEGIN;\nROLLBACK AND CHAIN;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS users_bio_idx ON users (bio);\nCOMMIT;\n",
			rule: "concurrently-in-transaction", line: 3, says: "cannot run inside a transaction block"},
		{name: "CIC after a plain COMMIT", src: "BEGIN;\nALTER TABLE users ADD COLUMN bio text;\nCOMMIT;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS users_bio_idx ON users (bio);\n",
			rule: "concurrently-in-transaction", absent: true},
		{name: "chained transaction never committed", src: "BEGIN;\nCREATE TABLE t1 (id int);\nCOMMIT AND CHAIN;\nCREATE TABLE t2 (id int);\n",
			rule: "transaction-boundaries", line: 3, says: "the transaction this AND CHAIN starts is never committed"},
		{name: "chained transaction committed", src: "BEGIN;\nCREATE TABLE t1 (id int);\nCOMMIT AND CHAIN;\nCREATE TABLE t2 (id int);\nCOMMIT;\n",
			rule: "transaction-boundaries", absent: true},
		{name: "outside a transaction block", src: "COMMIT AND CHAIN;\n",
			rule: "transaction-boundaries", says: "COMMIT AND CHAIN outside a transaction block: PostgreSQL refuses it"},
		{name: "in the tool's transaction", src: "CREATE TABLE t1 (id int);\nCOMMIT AND CHAIN;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t1_id ON users (id);\n", inTx: true,
			rule: "concurrently-in-transaction", line: 3, says: "cannot run inside"},
		{name: "locks end with the chained COMMIT", src: "BEGIN;\nALTER TABLE users ADD COLUMN bio text;\nCOMMIT AND CHAIN;\nSELECT 1;\nCOMMIT;\n",
			rule: "statement-after-access-exclusive", absent: true},
		{name: "SET LOCAL ends with the chained COMMIT", src: "BEGIN;\nSET LOCAL lock_timeout = '2s';\nCOMMIT AND CHAIN;\nALTER TABLE users ADD COLUMN bio text;\nCOMMIT;\n",
			rule: "missing-lock-timeout", line: 4, says: "without an earlier SET lock_timeout"},
		{name: "SET stays after the chained COMMIT", src: "BEGIN;\nSET lock_timeout = '2s';\nCOMMIT AND CHAIN;\nALTER TABLE users ADD COLUMN bio text;\nCOMMIT;\n",
			rule: "missing-lock-timeout", absent: true},
		{name: "chained ROLLBACK undoes SET", src: "BEGIN;\nSET lock_timeout = '2s';\nROLLBACK AND CHAIN;\nALTER TABLE users ADD COLUMN bio text;\nCOMMIT;\n",
			rule: "missing-lock-timeout", line: 4, says: "without an earlier SET lock_timeout"},
		{name: "a committing DO names the chain", src: "BEGIN;\nCOMMIT AND CHAIN;\nDO $$ BEGIN COMMIT; END $$;\nCOMMIT;\n",
			rule: "do-commit-in-transaction", line: 3, says: "inside the transaction COMMIT AND CHAIN on line 2 starts"},
	})
}

// TestPrepareTransaction: PREPARE TRANSACTION ends the session's transaction block (SET LOCAL ends,
// SET stays) without committing: prepared-transaction says its locks stay held, until a COMMIT PREPARED
// of the script when there is one, and that a default server refuses it.
func TestPrepareTransaction(t *testing.T) {
	t.Parallel()
	const prep = "BEGIN;\nALTER TABLE users ADD COLUMN bio text;\nPREPARE TRANSACTION 'add_bio';\n"
	runTxCases(t, []txCase{
		{name: "never committed", src: prep, rule: "prepared-transaction", line: 3,
			says: "every lock it took (ACCESS EXCLUSIVE on a pre-existing table among them) stays held until COMMIT PREPARED 'add_bio', which this migration never runs"},
		{name: "disabled by default", src: prep, rule: "prepared-transaction", line: 3, says: "max_prepared_transactions"},
		{name: "committed later", src: prep + "COMMIT PREPARED 'add_bio';\n", rule: "prepared-transaction", line: 3,
			says: "until COMMIT PREPARED on line 4; PostgreSQL refuses PREPARE TRANSACTION unless max_prepared_transactions is above 0"},
		{name: "another gid committed", src: prep + "COMMIT PREPARED 'other';\n", rule: "prepared-transaction", line: 3, says: "which this migration never runs"},
		{name: "it ends the BEGIN", src: prep, rule: "transaction-boundaries", absent: true},
		{name: "autocommit after it", src: prep + "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_bio_idx ON users (bio);\n",
			rule: "concurrently-in-transaction", absent: true},
		{name: "COMMIT PREPARED in a transaction block", src: prep + "BEGIN;\nCOMMIT PREPARED 'add_bio';\nCOMMIT;\n",
			rule: "concurrently-in-transaction", line: 5, says: "COMMIT PREPARED cannot run inside a transaction block"},
		{name: "SET LOCAL ends with it", src: "BEGIN;\nSET LOCAL lock_timeout = '2s';\nPREPARE TRANSACTION 'a';\nALTER TABLE users ADD COLUMN bio text;\n",
			rule: "missing-lock-timeout", line: 4, says: "without an earlier SET lock_timeout"},
		{name: "SET stays", src: "BEGIN;\nSET lock_timeout = '2s';\nPREPARE TRANSACTION 'a';\nALTER TABLE users ADD COLUMN bio text;\n",
			rule: "missing-lock-timeout", absent: true},
		{name: "outside a transaction block", src: "PREPARE TRANSACTION 'a';\n", rule: "prepared-transaction", says: "prepares nothing"},
	})
	fs := AnalyzeScript(script("PREPARE TRANSACTION 'a';\n"), false, Config{})
	if f := find(fs, "prepared-transaction"); f == nil || f.Risk != Caution {
		t.Errorf("outside a transaction block: %+v, want caution", f)
	}
	if f := find(AnalyzeScript(script(prep), false, Config{}), "prepared-transaction"); f == nil || f.Risk != Dangerous {
		t.Errorf("in a transaction block: %+v, want dangerous", f)
	}
}

// TestOnlyInATransactionBlock: LOCK TABLE and the savepoint statements fail outside a transaction block
// (a psql-run script without BEGIN, a non-transactional migration), and are fine inside one.
func TestOnlyInATransactionBlock(t *testing.T) {
	t.Parallel()
	for _, tt := range []txCase{
		{name: "LOCK in autocommit", src: "LOCK TABLE users IN ACCESS EXCLUSIVE MODE;\nALTER TABLE users ADD COLUMN bio text;\n",
			rule: "transaction-boundaries", line: 1, says: "LOCK TABLE outside a transaction block: PostgreSQL refuses it"},
		{name: "LOCK in its own BEGIN", src: "BEGIN;\nLOCK TABLE users IN ACCESS EXCLUSIVE MODE;\nALTER TABLE users ADD COLUMN bio text;\nCOMMIT;\n",
			rule: "transaction-boundaries", absent: true},
		{name: "LOCK in the tool's transaction", src: "LOCK TABLE users IN ACCESS EXCLUSIVE MODE;\n", inTx: true, rule: "lock-table", says: "LOCK TABLE"},
		{name: "SAVEPOINT in autocommit", src: "SAVEPOINT s;\nINSERT INTO users VALUES (1);\nRELEASE SAVEPOINT s;\n",
			rule: "transaction-boundaries", line: 1, says: "SAVEPOINT outside a transaction block"},
		{name: "RELEASE in autocommit", src: "SAVEPOINT s;\nINSERT INTO users VALUES (1);\nRELEASE SAVEPOINT s;\n",
			rule: "transaction-boundaries", line: 3, says: "RELEASE SAVEPOINT outside a transaction block"},
		{name: "ROLLBACK TO in autocommit", src: "ROLLBACK TO SAVEPOINT s;\n",
			rule: "transaction-boundaries", line: 1, says: "ROLLBACK TO SAVEPOINT outside a transaction block"},
		{name: "savepoints in the tool's transaction", src: "SAVEPOINT s;\nINSERT INTO users VALUES (1);\nROLLBACK TO SAVEPOINT s;\nRELEASE SAVEPOINT s;\n", inTx: true,
			rule: "transaction-boundaries", absent: true},
	} {
		t.Run(tt.name, tt.run)
	}
}

// TestValidateNamesTheTablesLocked: validate-in-same-transaction names the tables the transaction
// locked strongly, with the lock, and what that blocks. VALIDATE takes only SHARE UPDATE EXCLUSIVE on
// its own table, so after a strong lock on another table it is that table whose writes wait.
func TestValidateNamesTheTablesLocked(t *testing.T) {
	t.Parallel()
	const validate = "ALTER TABLE users VALIDATE CONSTRAINT age_pos;\n"
	for _, tt := range []txCase{
		{name: "another table", src: "SET lock_timeout = '1s';\nALTER TABLE orgs ADD COLUMN x int;\n" + validate, inTx: true,
			rule: "validate-in-same-transaction", line: 3,
			says: "already holds ACCESS EXCLUSIVE on orgs (VALIDATE itself takes only SHARE UPDATE EXCLUSIVE on users): reads and writes of orgs stay blocked for the whole validation scan"},
		{name: "its own NOT VALID", src: "ALTER TABLE users ADD CONSTRAINT age_pos CHECK (age > 0) NOT VALID;\n" + validate, inTx: true,
			rule: "validate-in-same-transaction", line: 2, says: "already holds ACCESS EXCLUSIVE on users (VALIDATE itself takes only SHARE UPDATE EXCLUSIVE on users): reads and writes of users stay"},
		{name: "a foreign key locks both tables", src: "ALTER TABLE users ADD CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT users_org_fk;\n", inTx: true,
			rule: "validate-in-same-transaction", line: 2, says: "already holds SHARE ROW EXCLUSIVE on orgs and users (VALIDATE itself takes only SHARE UPDATE EXCLUSIVE on users): writes to orgs and users stay blocked"},
		{name: "LOCK TABLE", src: "BEGIN;\nLOCK TABLE orgs IN SHARE ROW EXCLUSIVE MODE;\n" + validate + "COMMIT;\n",
			rule: "validate-in-same-transaction", line: 3, says: "already holds SHARE ROW EXCLUSIVE on orgs (VALIDATE itself takes only SHARE UPDATE EXCLUSIVE on users): writes to orgs stay blocked"},
		{name: "several locks", src: "BEGIN;\nLOCK TABLE orgs IN SHARE ROW EXCLUSIVE MODE;\nALTER TABLE events ADD COLUMN x int;\n" + validate + "COMMIT;\n",
			rule: "validate-in-same-transaction", line: 4,
			says: "already holds SHARE ROW EXCLUSIVE on orgs and ACCESS EXCLUSIVE on events (VALIDATE itself takes only SHARE UPDATE EXCLUSIVE on users): reads and writes of events and writes to orgs stay blocked"},
		{name: "the strongest lock of a table", src: "BEGIN;\nLOCK TABLE orgs IN SHARE ROW EXCLUSIVE MODE;\nALTER TABLE orgs ADD COLUMN x int;\n" + validate + "COMMIT;\n",
			rule: "validate-in-same-transaction", line: 4, says: "already holds ACCESS EXCLUSIVE on orgs (VALIDATE"},
		{name: "locks end with the transaction", src: "BEGIN;\nALTER TABLE orgs ADD COLUMN x int;\nCOMMIT;\nBEGIN;\nLOCK TABLE events IN EXCLUSIVE MODE;\n" + validate + "COMMIT;\n",
			rule: "validate-in-same-transaction", line: 6, says: "already holds EXCLUSIVE on events (VALIDATE itself takes only SHARE UPDATE EXCLUSIVE on users): writes to events stay"},
	} {
		t.Run(tt.name, tt.run)
	}
}

// TestBeginInsideToolTransaction: a BEGIN written inside the transaction the tool runs a migration in
// starts none (PostgreSQL carries on the one in progress), so the COMMIT that closes it ends the tool's
// transaction; with statements after it, a failure among them leaves the migration half applied
// (checked on PostgreSQL 15). goose and sql-migrate run the migration in a transaction: the reader runs
// such a script statement by statement, and the rule still sees the tool's transaction up to that
// COMMIT. golang-migrate opens no transaction (its documentation has a file write its own BEGIN …
// COMMIT): those are the file's transactions, which the rule leaves be.
func TestBeginInsideToolTransaction(t *testing.T) {
	t.Parallel()
	runTxCases(t, []txCase{
		{name: "statements after the COMMIT", src: "BEGIN;\nCREATE TABLE a (id bigint);\nCOMMIT;\nCREATE TABLE b (id bigint);\n", inTx: true,
			rule: "transaction-boundaries", line: 3, says: "BEGIN (line 1) inside the transaction the tool runs the migration in"},
		{name: "statements after the ROLLBACK", src: "CREATE TABLE a (id bigint);\nBEGIN;\nCREATE TABLE b (id bigint);\nROLLBACK;\nCREATE TABLE c (id bigint);\n", inTx: true,
			rule: "transaction-boundaries", line: 4, says: "the statements before the BEGIN too, is rolled back"},
		{name: "the COMMIT ends the script", src: "BEGIN;\nCREATE TABLE a (id bigint);\nCOMMIT;\n", inTx: true,
			rule: "transaction-boundaries", absent: true},
		{name: "no tool transaction", src: "BEGIN;\nCREATE TABLE a (id bigint);\nCOMMIT;\nCREATE TABLE b (id bigint);\n",
			rule: "transaction-boundaries", absent: true},
	})
	const body = "BEGIN;\nCREATE TABLE a (id bigint);\nCOMMIT;\nCREATE TABLE b (id bigint);\n"
	for _, tt := range []struct {
		name   string
		format migrate.Format
		files  fstest.MapFS
		toolTx bool // the tool runs the migration in a transaction
	}{
		{"goose", migrate.FormatGoose, fstest.MapFS{"00001_a.sql": {Data: []byte("-- +goose Up\n" + body)}}, true},
		{"sql-migrate", migrate.FormatSQLMigrate, fstest.MapFS{"1_a.sql": {Data: []byte("-- +migrate Up\n" + body)}}, true},
		{"golang-migrate", migrate.FormatGolangMigrate, fstest.MapFS{"1_a.up.sql": {Data: []byte(body)}, "1_a.down.sql": {Data: []byte("DROP TABLE b, a;\n")}}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set, err := migrate.Read(tt.files, tt.format)
			if err != nil {
				t.Fatal(err)
			}
			m := set.Migrations[0]
			for what, fs := range map[string][]Finding{
				"Analyze":          Analyze(m, set.Format, Config{}),
				"Sequence.Analyze": NewSequence(Config{}).Analyze(m, set.Format),
			} {
				f := find(fs, "transaction-boundaries")
				switch {
				case !tt.toolTx && f != nil:
					t.Errorf("%s: transaction-boundaries %+v, want none", what, f)
				case tt.toolTx && (f == nil || f.Line != m.Up.Statements[2].Pos.Line || !strings.Contains(f.Message, "ends the tool's transaction")):
					t.Errorf("%s: transaction-boundaries %+v, want it at the COMMIT; findings: %v", what, f, fs)
				}
			}
		})
	}
	// What follows that COMMIT runs in no transaction under goose: CREATE INDEX CONCURRENTLY works there.
	set, err := migrate.Read(fstest.MapFS{"00001_a.sql": {Data: []byte("-- +goose Up\nCREATE TABLE z (id bigint);\n")},
		"00002_b.sql": {Data: []byte("-- +goose Up\nCREATE TABLE a (id bigint);\nCOMMIT;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS z_id ON z (id);\n")}}, migrate.FormatGoose)
	if err != nil {
		t.Fatal(err)
	}
	seq := NewSequence(Config{})
	seq.Analyze(set.Migrations[0], set.Format)
	if f := find(seq.Analyze(set.Migrations[1], set.Format), "concurrently-in-transaction"); f != nil {
		t.Errorf("concurrently-in-transaction after goose's transaction ended: %v", f)
	}
}

// TestBeginInsideTransactionKeepsIt: PostgreSQL ignores a BEGIN inside a transaction (the tool's, or
// the script's own BEGIN before it), so the locks and SET LOCAL of that transaction stay in effect
// after it.
func TestBeginInsideTransactionKeepsIt(t *testing.T) {
	t.Parallel()
	runTxCases(t, []txCase{
		{name: "lock taken before a BEGIN in the tool's transaction", src: "ALTER TABLE users ADD COLUMN bio text;\nBEGIN;\nUPDATE users SET bio = 'x' WHERE id = 1;\nCOMMIT;\n", inTx: true,
			rule: "statement-after-access-exclusive", line: 3, says: "already holds ACCESS EXCLUSIVE"},
		{name: "SET LOCAL before a BEGIN in the tool's transaction", src: "SET LOCAL lock_timeout = '2s';\nBEGIN;\nALTER TABLE users ADD COLUMN bio text;\nCOMMIT;\n", inTx: true,
			rule: "missing-lock-timeout", absent: true},
		{name: "SET LOCAL before a nested BEGIN", src: "BEGIN;\nSET LOCAL lock_timeout = '2s';\nBEGIN;\nALTER TABLE users ADD COLUMN bio text;\nCOMMIT;\n",
			rule: "missing-lock-timeout", absent: true},
	})
}

// TestBeginWithoutCommitPerFormat: what becomes of a migration that ends inside the transaction its
// BEGIN opened is its tool's doing. goose, dbmate, sql-migrate and Flyway run it in a transaction of
// their own, which PostgreSQL carries on at the BEGIN (with a warning) and which their COMMIT ends: it
// applies, with its version row. golang-migrate's postgres driver (lib/pq) refuses to begin the
// transaction that records the version on a connection already in one, so migrate fails, the
// migration rolled back and its version dirty (its pgx driver commits it). psql (plain folders,
// sqitch) rolls the transaction back when the script ends and exits 0, and goose outside a
// transaction records the version in that transaction: the migration silently does not apply.
func TestBeginWithoutCommitPerFormat(t *testing.T) {
	t.Parallel()
	const body = "BEGIN;\nCREATE TABLE x (id bigint);\n"
	for _, tt := range []struct {
		name   string
		format migrate.Format
		files  fstest.MapFS
		risk   Risk
		says   string
	}{
		{"goose", migrate.FormatGoose, fstest.MapFS{"00001_a.sql": {Data: []byte("-- +goose Up\n" + body)}},
			Caution, "the tool's own COMMIT at the end commits the migration with its version row, so it applies"},
		{"dbmate", migrate.FormatDbmate, fstest.MapFS{"20240101000000_a.sql": {Data: []byte("-- migrate:up\n" + body + "-- migrate:down\nDROP TABLE x;\n")}},
			Caution, "the tool's own COMMIT at the end commits the migration"},
		{"sql-migrate", migrate.FormatSQLMigrate, fstest.MapFS{"1_a.sql": {Data: []byte("-- +migrate Up\n" + body)}},
			Caution, "the tool's own COMMIT at the end commits the migration"},
		{"flyway", migrate.FormatFlyway, fstest.MapFS{"V1__a.sql": {Data: []byte(body)}},
			Caution, "the tool's own COMMIT at the end commits the migration"},
		{"golang-migrate", migrate.FormatGolangMigrate, fstest.MapFS{"1_a.up.sql": {Data: []byte(body)}, "1_a.down.sql": {Data: []byte("DROP TABLE x;\n")}},
			Dangerous, "with its postgres driver (lib/pq) that fails (pq: unexpected transaction status), the migration is rolled back and the version is left dirty"},
		{"plain", migrate.FormatPlain, fstest.MapFS{"001_a.sql": {Data: []byte(body)}},
			Dangerous, "psql rolls it back when the script ends (and still exits 0)"},
		{"sqitch", migrate.FormatSqitch, fstest.MapFS{"sqitch.plan": {Data: []byte("%project=p\n\nx 2024-01-01T00:00:00Z A <a@example.com>\n")},
			"deploy/x.sql": {Data: []byte(body)}, "revert/x.sql": {Data: []byte("DROP TABLE x;\n")}},
			Dangerous, "so the migration silently does not apply; sqitch records the change as deployed all the same"},
		{"goose NO TRANSACTION", migrate.FormatGoose, fstest.MapFS{"00001_a.sql": {Data: []byte("-- +goose NO TRANSACTION\n-- +goose Up\n" + body)}},
			Dangerous, "so the migration silently does not apply"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set, err := migrate.Read(tt.files, tt.format)
			if err != nil {
				t.Fatal(err)
			}
			m := set.Migrations[0]
			for what, fs := range map[string][]Finding{
				"Analyze":          Analyze(m, set.Format, Config{}),
				"Sequence.Analyze": NewSequence(Config{}).Analyze(m, set.Format),
				"AnalyzeScript":    AnalyzeScript(m.Up, ToolTransaction(m, set.Format), Config{Format: set.Format}),
			} {
				f := find(fs, "transaction-boundaries")
				if f == nil || f.Line != m.Up.Statements[0].Pos.Line || f.Risk != tt.risk || !strings.Contains(f.Message, tt.says) {
					t.Errorf("%s: transaction-boundaries %+v, want %s at the BEGIN saying %q; findings: %v", what, f, tt.risk, tt.says, fs)
				}
			}
		})
	}
}

// TestBeginWithoutCommitOfNoKnownFolder: a script read with no folder to say its tool (schemagate lint
// of standard input) was judged as if its tool committed it (caution, "so it applies"), which holds
// for goose, dbmate, sql-migrate and Flyway only; under psql or golang-migrate it is lost. It stays
// dangerous, saying that the tool decides.
func TestBeginWithoutCommitOfNoKnownFolder(t *testing.T) {
	t.Parallel()
	const body = "BEGIN;\nCREATE TABLE x (id bigint);\n"
	s := &migrate.Script{File: "-", SQL: body, Statements: sqlparse.Parse(body)}
	for _, format := range []migrate.Format{"", migrate.FormatAuto} {
		f := find(AnalyzeScript(s, true, Config{Format: format}), "transaction-boundaries")
		if f == nil || f.Risk != Dangerous || !strings.Contains(f.Message, "goose, dbmate, sql-migrate and Flyway commit it") ||
			!strings.Contains(f.Message, "psql") {
			t.Errorf("format %q: transaction-boundaries %+v; want dangerous, saying which tools drop it and which commit it", format, f)
		}
	}
}
