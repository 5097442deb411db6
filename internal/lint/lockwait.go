package lint

import (
	"fmt"
	"path"
	"time"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// lockQueue is what missing-lock-timeout says of a statement whose strongest lock alone does not tell
// what queues behind its wait: its message, its class, and its advice when it has its own.
type lockQueue struct {
	msg        string
	risk       Risk
	suggestion string
}

// missingLockTimeout raises missing-lock-timeout when the statement takes SHARE or a stronger lock on a
// pre-existing relation, or its wait queues something (queue), and no lock_timeout is in effect. Once
// per script, at the first such statement; a later one is raised too when its class is higher than
// that of the last one raised (a refresh that blocks no reader, or a statement the deploy's
// lock_timeout covers, says nothing of a later one that waits without any), or when the last one is
// ignored (its comment speaks for its own statement).
func (a *analyzer) missingLockTimeout() {
	q := a.queue
	if q == nil && a.lock >= lockSH {
		on := "relation" // a table, or a relation the statement does not tell the kind of
		if a.lockKind != "" {
			on = relkindWord(a.lockKind)
		}
		q = &lockQueue{msg: "statement takes " + a.lock.String() + " on a pre-existing " + on + " without an earlier SET lock_timeout: " +
			queuedBehind(a.lock, a.lockKind), risk: Dangerous}
		if a.lock < lockAE && a.lockKind == "m" {
			q.risk = Caution
		}
	}
	if q == nil {
		return
	}
	k := [2]int{a.stmt.Pos.Line, a.stmt.Pos.Column}
	sf := a.facts.stmts[k]
	sf.counted = true
	a.facts.stmts[k] = sf
	if a.lockTimeout.on() {
		a.longLockTimeout()
		return
	}
	f := a.add("missing-lock-timeout", q.msg)
	f.Risk = q.risk
	if q.suggestion != "" {
		f.Suggestion = q.suggestion
	}
	if advice := a.aloneAdvice("lock_timeout"); advice != "" {
		f.Suggestion = advice
	}
	if !a.deployTooLong(f) {
		a.deployCovers(f, "lock_timeout", func(e DeployEnvironment) time.Duration { return e.LockTimeout }, a.lockTimeout.off(),
			" and retries on SQLSTATE 55P03")
	}
	if last := a.lockTimeoutAt; last >= 0 && f.Risk <= a.out[last].Risk && !a.out[last].Ignored {
		a.out = a.out[:len(a.out)-1]
		return
	}
	a.lockTimeoutAt = len(a.out) - 1
}

// MaxLockTimeout is the longest lock_timeout that counts as set for missing-lock-timeout: what queues
// behind a statement's wait for its lock queues for as long as lock_timeout lets it wait, and an
// application's queries that wait longer than a few seconds time out or pile up on its connections.
const MaxLockTimeout = 10 * time.Second

// longLockTimeout raises missing-lock-timeout, caution, for the current statement, which missingLockTimeout
// counted, when the lock_timeout in effect is longer than MaxLockTimeout: it bounds the wait, but
// not to a time the table's queries can wait. Once per script, as a missing one.
func (a *analyzer) longLockTimeout() {
	ms := a.lockTimeout.ms()
	if ms <= float64(MaxLockTimeout.Milliseconds()) || (a.lockTimeoutAt >= 0 && a.out[a.lockTimeoutAt].Risk >= Caution && !a.out[a.lockTimeoutAt].Ignored) {
		return
	}
	on := relkindWord(a.lockKind)
	behind := "what conflicts with its lock"
	switch {
	case a.lock >= lockAE:
		behind = "every later query on the " + on
	case a.lock >= lockSH && a.lockKind != "m" && a.lockKind != "S":
		behind = "every later write (INSERT, UPDATE, DELETE) on the " + on
	}
	value := shortDuration(time.Duration(ms) * time.Millisecond)
	f := a.add("missing-lock-timeout", fmt.Sprintf("statement takes %s on a pre-existing %s with lock_timeout = %s, longer than %s: while it waits for its lock, %s queues behind it for up to %s",
		a.lock, on, value, shortDuration(MaxLockTimeout), behind, value))
	f.Risk = Caution
	f.Suggestion = fmt.Sprintf("SET lock_timeout = '2s' (at most %s) and retry on SQLSTATE 55P03", shortDuration(MaxLockTimeout))
	// schemagate deploy's lock_timeout is a ceiling: it puts its own back before each statement of a
	// migration that raised it (docs/deploy.md).
	if where, ok := a.deployTimeout("lock_timeout", func(e DeployEnvironment) time.Duration { return e.LockTimeout }); ok && a.deployCeiling() <= MaxLockTimeout {
		f.Risk = Safe
		f.Message += fmt.Sprintf("; schemagate deploy runs it with %s, which it puts back before each statement of a migration that raises it", where)
		f.Suggestion = "nothing for schemagate deploy; if the migration also reaches the database another way, SET lock_timeout to a few seconds in it"
	}
	a.lockTimeoutAt = len(a.out) - 1
}

// deployTooLong makes missing-lock-timeout finding f, of a statement with no lock_timeout of its
// own, the long-timeout caution (see longLockTimeout) when schemagate deploy sets one in every
// environment but one of them is longer than MaxLockTimeout: the deploy bounds the wait, as a SET of
// that value would, and what queues behind it waits as long. It tells whether it did.
func (a *analyzer) deployTooLong(f *Finding) bool {
	where, ok := a.deployTimeout("lock_timeout", func(e DeployEnvironment) time.Duration { return e.LockTimeout })
	if !ok || a.lockTimeout.off() || a.deployCeiling() <= MaxLockTimeout {
		return false
	}
	f.Risk = min(f.Risk, Caution)
	f.Message += fmt.Sprintf("; schemagate deploy runs it with %s, longer than %s: while it waits for its lock, what queues behind it waits up to %s",
		where, shortDuration(MaxLockTimeout), shortDuration(a.deployCeiling()))
	f.Suggestion = fmt.Sprintf("set the deploy's lock_timeout in schemagate.yml to %s or less (2s) and let it retry on SQLSTATE 55P03", shortDuration(MaxLockTimeout))
	if a.aloneAdvice("lock_timeout") == "" {
		f.Suggestion += ", or SET lock_timeout = '2s' in the migration"
	}
	return true
}

// deployCeiling is the longest lock_timeout schemagate deploy sets in any environment.
func (a *analyzer) deployCeiling() time.Duration {
	var longest time.Duration
	for _, e := range a.cfg.Deploy {
		longest = max(longest, e.LockTimeout)
	}
	return longest
}

// queuedBehind says what waits behind a statement that waits for lock l on a relation of kind (its
// pg_class.relkind, "" for a table): ACCESS EXCLUSIVE conflicts with every query, SHARE, SHARE ROW
// EXCLUSIVE and EXCLUSIVE with writes only (ACCESS SHARE, what SELECT takes, conflicts only with ACCESS
// EXCLUSIVE). Applications only read a materialized view ("m"); nextval() takes ROW EXCLUSIVE on its
// sequence ("S"), so every INSERT that draws a default from it waits with it.
func queuedBehind(l lockLevel, kind string) string {
	switch {
	case kind == "S" && l >= lockSH:
		return "while it waits, every later nextval() of the sequence queues behind it, and with it every INSERT that draws a default from it"
	case l >= lockAE:
		return "while it waits, every later query on the " + relkindWord(kind) + " queues behind it"
	case kind == "m":
		return "while it waits, later refreshes queue behind it; reads go on"
	case l >= lockSH:
		return "while it waits, every later write (INSERT, UPDATE, DELETE) on the " + relkindWord(kind) + " queues behind it; reads go on"
	}
	return "while it waits, conflicting maintenance queues behind it"
}

// detachConcurrentlyQueue is what waits behind ALTER TABLE parent DETACH PARTITION part CONCURRENTLY
// (as written) while it waits (PostgreSQL's ATExecDetachPartition): it takes SHARE UPDATE EXCLUSIVE on
// both, marks the partition detach-pending and commits, waits until no transaction that locked the
// partitioned table is left from before (WaitForLockersMultiple), then, in its second transaction,
// takes ACCESS EXCLUSIVE on the partition. Queries through the partitioned table leave a
// detach-pending partition out, but a query that names the partition queues behind that ACCESS
// EXCLUSIVE, as long as the statement waits for it (measured on 15: SELECT count(*) FROM events_2024
// behind a transaction that read the partition), and lock_timeout bounds these waits, the wait for the
// older transactions too. One that times out leaves the partition detach-pending, which ALTER TABLE …
// DETACH PARTITION … FINALIZE completes. Caution, as DROP INDEX CONCURRENTLY: queries through the
// partitioned table go on. refs are the tables whose foreign keys reference parent (see detachReferencing):
// it takes ACCESS EXCLUSIVE on them too, and queries on them queue behind that wait: dangerous.
func detachConcurrentlyQueue(parent, part string, refs []string) *lockQueue {
	q := &lockQueue{risk: Caution,
		msg: fmt.Sprintf("DETACH PARTITION %s CONCURRENTLY without an earlier SET lock_timeout: after marking the partition detached it waits for "+
			"every transaction that uses %s, then takes ACCESS EXCLUSIVE on %s: while it waits for that lock, every later query that names %s "+
			"queues behind it (queries through %s leave it out by then), and VACUUM, ANALYZE, index builds and DDL on either table queue behind its "+
			"SHARE UPDATE EXCLUSIVE", part, parent, part, part, parent),
		suggestion: fmt.Sprintf("SET lock_timeout before it (it bounds the waits for older transactions too); one that times out leaves %s "+
			"detach-pending, which ALTER TABLE %s DETACH PARTITION %s FINALIZE completes", part, parent, part)}
	if len(refs) > 0 {
		// and ACCESS EXCLUSIVE on each table whose foreign key references parent (see detachReferencing)
		q.risk = Dangerous
		q.msg += fmt.Sprintf("; it also takes ACCESS EXCLUSIVE on %s, whose foreign key references %s: while it waits for that, every later query on %s queues behind it", andList(refs), parent, andList(refs))
	}
	return q
}

// dropIndexConcurrentlyQueue is what waits behind DROP INDEX CONCURRENTLY of index (as written) while it
// waits (PostgreSQL's index_drop): it takes SHARE UPDATE EXCLUSIVE on the index's table and the index,
// marks the index invalid, waits until no transaction that holds any lock on the table is left from
// before (twice: WaitForLockers on the transactions' virtual xid locks), and only then takes ACCESS
// EXCLUSIVE on the index, which by then no query opens (the relcache skips an index that is not live).
// None of it conflicts with what reads and writes take, so they go on; what takes SHARE UPDATE
// EXCLUSIVE or stronger on the table (VACUUM, ANALYZE, index builds, DDL) queues behind it, for as long
// as the oldest of those transactions runs. lock_timeout bounds each of these waits, the waits for the
// old transactions too (they are lock waits); one that times out leaves the index INVALID but still
// maintained, and running the statement again finishes the drop. Caution: a missing lock_timeout holds
// the migration and the table's maintenance, not its queries.
func dropIndexConcurrentlyQueue(index string) *lockQueue {
	return &lockQueue{risk: Caution,
		msg: fmt.Sprintf("DROP INDEX CONCURRENTLY %s without an earlier SET lock_timeout: it holds SHARE UPDATE EXCLUSIVE on the index's table while it "+
			"waits for every transaction that uses the table, then takes ACCESS EXCLUSIVE on the index, which no query uses by then: reads and writes "+
			"on the table go on, only VACUUM, ANALYZE, index builds and DDL on the table queue behind it, for as long as the oldest such transaction runs", index),
		suggestion: "SET lock_timeout before it (it bounds the waits for older transactions too); one that times out leaves the index INVALID, " +
			"and DROP INDEX CONCURRENTLY IF EXISTS run again finishes the drop"}
}

// aloneAdvice is the advice for setting setting (lock_timeout, statement_timeout) before the current
// statement when a SET in the script would break it: the statement refuses a transaction block, runs
// outside one only while it stands alone in the script (migrate.Script.Alone), and a SET put before
// it makes its tool run it in one, where it fails (golang-migrate, dbmate transaction:false) or refuse
// the script (Flyway). Empty when a SET before it works: the script runs in the tool's transaction
// (where the statement fails anyway, concurrently-in-transaction), or statement by statement in one
// session (goose NO TRANSACTION, sql-migrate notransaction, psql, golang-migrate with
// x-multi-statement). The setting then goes on the tool's connection, or comes from schemagate deploy.
func (a *analyzer) aloneAdvice(setting string) string {
	if a.inTx() || a.script.Alone == "" || !sqlparse.NeedsAutocommit(a.stmt.Node) {
		return ""
	}
	value := "2s"
	if setting == "statement_timeout" {
		value = "30min"
	}
	url := fmt.Sprintf("options=-c%%20%s%%3D%s", setting, value) // -c setting=value, escaped for a URL
	deploy := fmt.Sprintf("or apply it with schemagate deploy, which sets %s (the environment's %s in schemagate.yml)", setting, setting)
	switch {
	case a.script.Alone == migrate.AloneFlyway:
		return fmt.Sprintf("not a SET in this script: Flyway runs it outside a transaction only because it holds nothing else, and refuses it with a SET beside the statement "+
			"(\"Detected both transactional and non-transactional statements\"). Put executeInTransaction=false in %s.conf (Flyway then runs each statement on its own, "+
			"and SET %s = '%s'; before it works), set it on Flyway's connection (flyway.initSql=SET %s = '%s'), %s",
			path.Base(a.script.File), setting, value, setting, value, deploy)
	case a.format == migrate.FormatDbmate:
		return fmt.Sprintf("not a SET in this section: dbmate sends a transaction:false section as one query, which PostgreSQL runs as one transaction once it holds two statements, "+
			"where this one fails (SQLSTATE 25001). Set it on dbmate's connection instead (%s in DATABASE_URL, or ALTER ROLE … SET %s for the role that migrates), %s",
			url, setting, deploy)
	}
	return fmt.Sprintf("not a SET in this file: golang-migrate sends the file as one query, which PostgreSQL runs as one transaction once it holds two statements, "+
		"where this one fails (SQLSTATE 25001). Set x-multi-statement=true in golang-migrate's database URL (and golang_migrate.multi_statement: true in schemagate.yml: "+
		"each statement then runs on its own, and SET %s = '%s'; before it works), put %s in the URL, %s", setting, value, url, deploy)
}
