package lint

import "strings"

// DocsBase is where the rule pages live; a rule's URL is DocsBase + id + ".md".
const DocsBase = "https://github.com/schemagate/schemagate/blob/main/docs/rules/"

// Rule describes one risk rule: its stable id, default class, what it costs the database and what to do
// instead. The checks that raise its findings live in check_*.go.
type Rule struct {
	// ID is the rule's stable kebab-case name, used in configuration and ignore comments.
	ID string
	// Risk is the default class of the rule's findings (a finding may raise or lower it, e.g. by version).
	Risk Risk
	// Lock is the lock the statement takes, in PostgreSQL's words.
	Lock string
	// Rewrite and Scan say whether the statement rewrites or fully scans the table.
	Rewrite, Scan bool
	// Summary says what the rule detects; findings use it as their message unless a check says more.
	Summary string
	// Suggestion is the safe alternative.
	Suggestion string
	// Why explains the class (documentation only).
	Why string
	// Bad and Good are example SQL for the documentation: one that triggers and one that does not. They
	// run on the example schema of risk-rules.md §5 (users, orgs, status…) in a transaction, unless one
	// is a goose file with "-- +goose NO TRANSACTION", on the version a first line "-- with pg_version N"
	// names; a line "-- next migration…" begins a migration of its own, run after the one before it.
	// TestRuleExamples runs them so, and a Good the page calls the safer form must lint no worse than
	// the rule's class and never dangerous: it sets lock_timeout where it locks a table, as a user
	// copying it should.
	Bad, Good string
	// Given is SQL of earlier migrations both examples assume beyond the example schema (a constraint
	// they validate), shown on the rule's page.
	Given string
	// AsIs marks a rule that warns of a form to use as it stands, with care (change-column-type-coercible:
	// keep the change, set lock_timeout): no form is safer, and the page shows Good as another form,
	// which other rules judge, not as the safer one.
	AsIs bool
	// Off marks opt-in rules, silent unless configuration gives them a class.
	Off bool
	// Dynamic marks rules raised only from rehearsal evidence (ApplyEvidence), never from the parse tree.
	Dynamic bool
	// Notes says more for the documentation page: when the class changes, what configuration does.
	Notes string
	// History marks rules raised by comparing the folder with the base ref (check --base), never from
	// the parse tree.
	History bool
}

// URL returns the rule's documentation page.
func (r Rule) URL() string { return DocsBase + r.ID + ".md" }

// extraRules are the rules beyond the catalog: parser failures, suppression hygiene and the rules
// raised from rehearsal evidence.
var extraRules = []Rule{
	{ID: "parse-error", Risk: Dangerous, Lock: "unknown",
		Summary:    "statement does not parse with the PostgreSQL 17 grammar",
		Suggestion: "fix the syntax; if it is newer-than-PG17 syntax, use it only on a server that has it (pg_version 18 or later), where the rehearsal decides",
		Why: "Risk: dangerous when the text is not valid SQL (the deploy will fail), and when it looks like syntax newer than the embedded grammar (PG18 NOT NULL … NOT VALID, VIRTUAL generated columns, NOT ENFORCED, WITHOUT OVERLAPS, RETURNING OLD/NEW) on a target of PostgreSQL 17 or older, which lacks it as the grammar does; " +
			"caution for such syntax on a newer target (pg_version 18 or later, or check's server), where the rehearsal's trace judges it.",
		Bad:  "ALTER TABLE users ADD COLUMN x int DEFALT 0;",
		Good: "SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN x int DEFAULT 0;"},
	{ID: "ignore-without-reason", Risk: Caution,
		Summary:    "schemagate:ignore comment without a reason; the finding is not suppressed",
		Suggestion: "write why the risk is accepted after the rule id: -- schemagate:ignore <rule-id> <reason>",
		Why:        "Risk: caution. A suppression is a reviewed decision; without a reason reviewers cannot judge it.",
		Bad:        "-- schemagate:ignore set-not-null\nALTER TABLE users ALTER COLUMN email SET NOT NULL;",
		Good:       "SET lock_timeout = '2s';\n-- schemagate:ignore set-not-null users has 200 rows\nALTER TABLE users ALTER COLUMN email SET NOT NULL;"},
	{ID: "ignore-unknown-rule", Risk: Caution,
		Summary:    "schemagate:ignore names a rule that does not exist; nothing is suppressed for it",
		Suggestion: "use the rule id the finding shows (see docs/rules/)",
		Why:        "Risk: caution. A misspelled id suppresses nothing, so the finding it meant stays while the comment suggests it was reviewed.",
		Bad:        "-- schemagate:ignore set-not-nul users has 200 rows\nALTER TABLE users ALTER COLUMN email SET NOT NULL;",
		Good:       "SET lock_timeout = '2s';\n-- schemagate:ignore set-not-null users has 200 rows\nALTER TABLE users ALTER COLUMN email SET NOT NULL;"},
	{ID: "table-rewrite", Risk: Dangerous, Lock: "as observed", Rewrite: true, Dynamic: true,
		Summary:    "the rehearsal saw a pre-existing table rewritten (new relfilenode) that no static rule explains",
		Suggestion: "split the change so no step rewrites the table (new column + batched backfill + swap)",
		Why:        "Risk: dangerous. A rewrite copies the whole table while holding ACCESS EXCLUSIVE; time grows with table size.",
		Bad:        "ALTER TABLE users ALTER COLUMN age TYPE bigint;",
		Good:       "ALTER TABLE users ADD COLUMN age_big bigint;"},
	{ID: "table-scan", Risk: Dangerous, Lock: "as observed", Scan: true, Dynamic: true,
		Summary:    "the rehearsal saw a full scan of a pre-existing table, under a lock that blocks writes, that no static rule explains",
		Suggestion: "give what scans the table its safe form: ADD CONSTRAINT … NOT VALID, then VALIDATE CONSTRAINT; CREATE INDEX CONCURRENTLY; a backfill batched by key range; a query outside the transaction that holds the lock",
		Why: "Risk: dangerous. While the scan runs under SHARE, SHARE ROW EXCLUSIVE or EXCLUSIVE on the table, writes wait for it (reads and writes under ACCESS EXCLUSIVE), and the scan grows with the table. " +
			"A scan under a weaker lock (ACCESS SHARE for a query or CREATE MATERIALIZED VIEW, ROW EXCLUSIVE for an UPDATE, SHARE UPDATE EXCLUSIVE for VALIDATE CONSTRAINT) blocks no reads or writes and raises nothing, " +
			"unless the transaction holds SHARE or stronger on another relation, whose queries then wait for the scan.",
		Bad:  "ALTER TABLE users ADD CONSTRAINT age_pos CHECK (age > 0);",
		Good: "ALTER TABLE users ADD CONSTRAINT age_pos CHECK (age > 0) NOT VALID;",
		Notes: "The lock named is the strongest the transaction holds on the table at the statement, also one an earlier statement of the transaction took: " +
			"PostgreSQL keeps locks until the transaction ends, so an UPDATE after an ALTER TABLE scans under the ALTER's ACCESS EXCLUSIVE. " +
			"The suggestion fits the statement: batch an UPDATE, DELETE, INSERT or MERGE in a later migration (or run it outside the transaction that holds the lock); " +
			"create a materialized view or CREATE TABLE … AS, or run a query, in a migration of its own; add a constraint NOT VALID and validate it later; build an index CONCURRENTLY; " +
			"give a DEFAULT partition a validated CHECK that excludes the bound before ATTACH PARTITION. " +
			"The rehearsal's tables hold no rows (or the history's few), so its planner scans where production would not: " +
			"a scan of the table an UPDATE, DELETE or MERGE changes, whose WHERE a key range bounds (the batched form backfill-in-migration asks for, `WHERE id IN (SELECT id … LIMIT 1000)`), is taken for the key's index and raises nothing; " +
			"nor does the check of a NOT NULL column added without a default, which stops at production's first row (add-column-required)."},
	{ID: "unexplained-exclusive-lock", Risk: Caution, Lock: "as observed", Dynamic: true,
		Summary:    "the rehearsal saw a statement take SHARE or a stronger lock on a pre-existing relation that no static rule explains",
		Suggestion: "SET lock_timeout = '1s'…'5s' before the statement and retry on SQLSTATE 55P03; check what the statement does to the table",
		Why:        "Risk: caution; dangerous when no lock_timeout is in effect at the statement: none set earlier in the script (or one turned off since), and none set by schemagate deploy (as for missing-lock-timeout). Even a brief ACCESS EXCLUSIVE (or SHARE, SHARE ROW EXCLUSIVE, EXCLUSIVE) lock waits behind running queries, and every later query on the table queues behind the wait.",
		Bad:        "ALTER TRIGGER users_audit ON users RENAME TO users_audit2; -- ACCESS EXCLUSIVE on users",
		Good:       "SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN bio text;",
		Notes: "Statements the parser does not model (a function call, CALL, a DO block, syntax newer than the parser's grammar) are judged " +
			"by this rule from the rehearsal's lock trace. A statement that already has a finding claiming a lock does not get it."},
	{ID: "edited-applied-migration", Risk: Dangerous, History: true,
		Summary:    "a migration the base ref already has was changed",
		Suggestion: "revert the edit and make the change in a new migration",
		Why:        "Risk: dangerous. Databases that applied the migration keep its old text: the migration tool skips an applied version (golang-migrate, goose, dbmate) or refuses its new checksum (Flyway validate, schemagate deploy). Even with the same up, the tool may refuse what it recorded of the migration: Flyway's validate fails on an applied migration renamed to another description, and sqitch deploy on a deployed change whose line in sqitch.plan was edited (its note too) or before which a change was planned, as sqitch's change IDs then move. The rehearsal replays the base's text, as those databases ran it, and reports the migration as failed. For golang-migrate, goose, dbmate and sql-migrate, which record no checksum of what they applied, an up whose statements are unchanged (only comments or blank space between tokens, outside string literals, function bodies and quoted identifiers; the same transaction mode) is no failure: the finding is safe, at the first changed line, and schemagate deploy takes the migration for the applied one. A migration at a version the base gives another file (two changes took the same next version, and the other merged first) is no edit to revert: the finding says the version is taken at the base, and to give the migration a version after the base's last. With Flyway's validateOnMigrate=false, Flyway's migrate would not stop on the change: the finding says so, and stays (schemagate deploy refuses it). Against a base whose folder does not read, the files are compared by path and text, and for sqitch the base's plan line by line as far as it reads: an edited, reordered or renamed change of the base fails at its line in sqitch.plan.",
		Bad:        "-- 0003_users.up.sql at the base: ALTER TABLE users ADD COLUMN age int;\n-- the same file in the change:\nALTER TABLE users ADD COLUMN age bigint;",
		Good:       "-- 0003_users.up.sql unchanged; a new 0007_users_age_bigint.up.sql:\nALTER TABLE users ALTER COLUMN age TYPE bigint;"},
	{ID: "deleted-applied-migration", Risk: Dangerous, History: true,
		Summary:    "a migration the base ref already has was deleted",
		Suggestion: "restore the file; undo what it did in a new migration",
		Why:        "Risk: dangerous. Databases that applied the migration keep what it did, and their history names it: Flyway's validate fails on an applied migration it cannot find (unless ignoreMigrationPatterns lets it pass, *:missing, or validateOnMigrate=false; a deleted last version is \"future\" to Flyway, which the default *:future lets pass: the finding then says that Flyway would not stop, and stays), sqitch refuses a plan that lost a deployed change, sql-migrate's up stops on a file name its gorp_migrations holds and the folder lacks (\"unknown migration in database\", unless ignoreunknown is set; it knows a migration by its file name, so a renamed file is a deleted one and a new one), schemagate deploy stops at it, and a fresh database built from the folder no longer matches the others. The rehearsal replays the base's text, as those databases ran it, and reports the migration as failed.",
		Bad:        "-- 0003_users.up.sql at the base: ALTER TABLE users ADD COLUMN age int;\n-- the change deletes 0003_users.up.sql and 0003_users.down.sql",
		Good:       "-- 0003_users.up.sql kept; a new 0007_drop_users_age.up.sql:\nALTER TABLE users DROP COLUMN age;"},
	{ID: "out-of-order-migration", Risk: Dangerous, History: true,
		Summary:    "a new migration sorts before the last migration the base ref already has",
		Suggestion: "rename it to sort after the base's last migration",
		Why:        "Risk: dangerous: schemagate deploy refuses a folder with an unapplied migration that sorts before an applied one, so once merged the migration blocks every deploy until it is renamed, whatever the folder's tool would do (a check with --fail-on dangerous fails, and the gate asks for a DBA's approval). The folder's tool: golang-migrate only moves forward and never applies it to a database already at a later version. goose refuses it unless --allow-missing, Flyway's migrate fails its validation unless outOfOrder is on (with outOfOrder on in flyway.conf, flyway.toml or FLYWAY_OUT_OF_ORDER Flyway applies it after the later ones; with outOfOrder off and a validation that lets it pass, ignoreMigrationPatterns *:ignored or validateOnMigrate=false, Flyway skips it without a word and never applies it, as golang-migrate does), atlas migrate apply refuses it unless --exec-order non-linear, dbmate applies it after the later ones, and so does sql-migrate (its plan catches up on a missing migration that sorts before the last one applied); the finding says what the tool does, and that schemagate deploy refuses it. Where the folder's tool never runs it there or refuses it (golang-migrate, goose, Atlas, sqitch, Flyway without outOfOrder), the rehearsal reports the migration as failed and does not run it, as for an edited applied migration; where the tool applies it after the later ones (dbmate, sql-migrate, Flyway with outOfOrder), the rehearsal runs it there.",
		Bad:        "-- the base has 20240301_add_orders; the change adds:\n-- 20240215_add_invoices.up.sql\nCREATE TABLE invoices (id bigint PRIMARY KEY);",
		Good:       "-- 20240320_add_invoices.up.sql\nCREATE TABLE invoices (id bigint PRIMARY KEY);"},
	{ID: "go-migration", Risk: Caution, History: true,
		Summary:    "a goose migration written in Go: neither rehearsed nor deployed by schemagate",
		Suggestion: "write schema changes as .sql migrations; keep Go migrations for data, and review them by hand",
		Why:        "Risk: caution. goose runs a Go migration's code, which schemagate cannot run: the rehearsal skips it (later migrations run without what it does, and may fail for that reason), nothing checks its locks or its reversibility, and schemagate deploy refuses a folder with a pending one. A reviewer has to read it.",
		Bad:        "// 00005_add_age.go\nfunc up(ctx context.Context, tx *sql.Tx) error {\n\t_, err := tx.ExecContext(ctx, \"ALTER TABLE users ADD COLUMN age int\")\n\treturn err\n}",
		Good:       "-- 00005_add_age.sql\n-- +goose Up\nALTER TABLE users ADD COLUMN age int;\n-- +goose Down\nALTER TABLE users DROP COLUMN age;"},
	{ID: "copy-data-unsupported-by-tool", Risk: Dangerous, History: true,
		Summary:    "COPY … FROM STDIN with its rows inline, in a folder whose tool sends SQL to the server without psql",
		Suggestion: "load the rows with INSERT statements, or from a sqitch or plain folder that psql runs",
		Why:        "Risk: dangerous. The rows after COPY … FROM STDIN are psql's to send: golang-migrate, dbmate and sql-migrate send the script as SQL text, and goose splits it at lines ending in ;, so the server reads the rows as SQL and the migration fails under its own tool. schemagate deploy and the rehearsal load them (as psql does), so the check alone would pass.",
		Bad:        "-- 0002_seed.up.sql (golang-migrate)\nCOPY countries (code, name) FROM stdin;\nde\tGermany\nfr\tFrance\n\\.",
		Good:       "INSERT INTO countries (code, name) VALUES ('de', 'Germany'), ('fr', 'France');"},
	{ID: "column-order", Risk: Caution, Dynamic: true,
		Summary:    "the round trip puts columns back in another order (a down that adds back a column the up dropped puts it last)",
		Suggestion: "name the columns in every SELECT, INSERT and COPY the application runs; or accept the new order after a rollback",
		Why:        "Risk: caution. The catalog is otherwise the same, so the round trip passes; but ALTER TABLE ... ADD COLUMN always appends, so after the down the table's columns are in another order than before the up: SELECT *, INSERT ... VALUES without a column list and COPY without one see them differently, and code that relies on the order breaks after a rollback.",
		Bad:        "-- up\nALTER TABLE orders DROP COLUMN note;\n-- down\nALTER TABLE orders ADD COLUMN note text; -- note comes back last",
		Good:       "-- the application names its columns\nINSERT INTO orders (id, status, note) VALUES ($1, $2, $3);"},
	{ID: "invalid-index", Risk: Dangerous, Lock: "SHARE UPDATE EXCLUSIVE", Dynamic: true,
		Summary:    "the rehearsal left an INVALID index behind (a concurrent build failed, or CREATE INDEX … ON ONLY a partitioned table was never completed)",
		Suggestion: "DROP INDEX CONCURRENTLY IF EXISTS the invalid index, fix the cause (lock timeout, duplicates) and retry; for a partitioned index, attach an index of each partition that lacks one (ALTER INDEX … ATTACH PARTITION), or DROP INDEX it without CONCURRENTLY",
		Why:        "Risk: dangerous. An INVALID index costs writes, is never used by queries and blocks a retry with the same name; a CREATE INDEX … IF NOT EXISTS run again does not fail but skips it with only a notice and keeps it INVALID, so a failed migration's retry is recorded as applied with no usable index (DROP INDEX CONCURRENTLY IF EXISTS it before the retry). A partitioned index made with CREATE INDEX … ON ONLY stays INVALID until every partition has an index attached to it; PostgreSQL refuses DROP INDEX CONCURRENTLY of it (cannot drop partitioned index concurrently), and a plain DROP INDEX takes ACCESS EXCLUSIVE on the partitioned table and every partition.",
		Bad:        "CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email); -- fails on duplicates",
		Good:       "DROP INDEX CONCURRENTLY IF EXISTS users_email_key;\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_key ON users (email);"},
}

// Rules returns every rule: the catalog first, then parse-error, ignore-without-reason and the dynamic
// rules. The slice is a copy.
func Rules() []Rule {
	out := make([]Rule, 0, len(catalog)+len(extraRules))
	out = append(out, catalog...)
	return append(out, extraRules...)
}

var ruleIndex = func() map[string]int {
	m := make(map[string]int, len(catalog)+len(extraRules))
	for i, r := range Rules() {
		m[r.ID] = i
	}
	return m
}()

var allRules = Rules()

// Lookup returns the rule with the given id.
func Lookup(id string) (Rule, bool) {
	i, ok := ruleIndex[strings.ToLower(id)]
	if !ok {
		return Rule{}, false
	}
	return allRules[i], true
}
