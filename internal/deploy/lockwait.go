package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/pg"
)

// LockWaitError is a statement of the deploy's own (a write to its history, its lock row, a read of
// history, a step of --recover, the SQL of a maintenance action, a snapshot restore) that gave up waiting for a lock another
// session holds once lock_timeout ran out, instead of queueing for ever (in maintenance mode) behind an
// application's transaction. It names what waited, on which tables, and the sessions holding a
// conflicting lock.
type LockWaitError struct {
	// What is the step that waited ("record migration 2_backfill as running").
	What string
	// Tables are the tables it needed a lock on (none when they could not be seen).
	Tables []string
	// Wait is the lock_timeout it gave up after.
	Wait time.Duration
	// Holders describe the sessions that held a conflicting lock on Tables when the wait ended: pid,
	// user, application, state and since when (not their query, whose text a CI log must not show).
	Holders []string
	// Hint says what to do about it.
	Hint string
	Err  error
	// want is the lock mode the step needed (pg_locks' name) and regs are Tables as to_regclass reads
	// them, to find the holders once the transaction it waited in has ended (see explain).
	want string
	regs []string
}

func (e *LockWaitError) Error() string {
	s := fmt.Sprintf("%s: waited %s (lock_timeout) for a lock", e.What, e.Wait)
	if len(e.Tables) > 0 {
		s += " on " + strings.Join(e.Tables, ", ")
	}
	if len(e.Holders) > 0 {
		s += ": " + strings.Join(e.Holders, "; ")
	}
	return s
}

func (e *LockWaitError) Unwrap() error { return e.Err }

// lockConflicts lists, for each table lock mode, the modes that conflict with it (PostgreSQL's table of
// conflicting lock modes): the ones whose holders make a request of that mode wait.
var lockConflicts = map[string][]string{
	"AccessShareLock":          {"AccessExclusiveLock"},
	"RowShareLock":             {"ExclusiveLock", "AccessExclusiveLock"},
	"RowExclusiveLock":         {"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"},
	"ShareUpdateExclusiveLock": {"ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"},
	"ShareLock":                {"RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"},
	"ShareRowExclusiveLock":    {"RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"},
	"ExclusiveLock":            {"RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"},
	"AccessExclusiveLock":      {"AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"},
}

// isLockTimeout tells whether err is lock_timeout's (or NOWAIT's).
func isLockTimeout(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == sqlstateLockNotAvailable
}

// lockWait turns err, from a statement of the deploy's own that needed a lock of mode want (pg_locks'
// name) on tables (named for people; regs as to_regclass reads them), into a *LockWaitError when
// lock_timeout ended it; any other error comes back as it is. Run on a connection outside a transaction
// (x a *pgx.Conn), it names the holders at once; in a transaction, which the timeout aborted, explain
// does once the transaction is over.
func lockWait(ctx context.Context, x execer, err error, wait time.Duration, what, want string, tables, regs []string) error {
	if !isLockTimeout(err) {
		return err
	}
	var lw *LockWaitError
	if errors.As(err, &lw) {
		return err
	}
	if wait <= 0 {
		wait = config.DefaultLockTimeout
	}
	lw = &LockWaitError{What: what, Tables: tables, Wait: wait, want: want, regs: regs, Err: err,
		Hint: "another session holds a lock on " + strings.Join(tables, ", ") + " (the reason says which): end it, or wait for it to end"}
	if conn, ok := x.(*pgx.Conn); ok {
		return explain(ctx, conn, lw)
	}
	return lw
}

// explain fills in the holders of the lock a *LockWaitError in err waited for, read on conn, when they
// are not known yet and conn is outside a transaction. It returns err.
func explain(ctx context.Context, conn *pgx.Conn, err error) error {
	var lw *LockWaitError
	if !errors.As(err, &lw) || len(lw.Holders) > 0 || conn == nil || conn.IsClosed() || conn.PgConn().TxStatus() != 'I' {
		return err
	}
	lw.Holders = lockHolders(ctx, conn, lw.want, lw.regs...)
	return err
}

// lockHolders describes the sessions other than conn's own that hold a lock conflicting with mode want
// on one of tables (on any table when there are none): pid, user, application, state and since when,
// read from pg_locks and pg_stat_activity. Not the query, whose text may hold what a CI log must not.
// An unknown mode counts every mode as conflicting. Best effort: nil when they cannot be read.
func lockHolders(ctx context.Context, conn *pgx.Conn, want string, tables ...string) []string {
	modes, ok := lockConflicts[want]
	if !ok {
		modes = lockConflicts["AccessExclusiveLock"]
	}
	rows, err := conn.Query(context.WithoutCancel(ctx), `
		SELECT format('%I.%I is locked (%s) ', n.nspname, c.relname, l.mode) || `+holderSQL("l.pid")+`
		  FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
		  LEFT JOIN pg_stat_activity a ON a.pid = l.pid
		 WHERE l.locktype = 'relation' AND l.granted AND l.mode = ANY($2) AND l.pid <> pg_backend_pid()
		   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		   AND (coalesce(cardinality($1::text[]), 0) = 0 OR l.relation IN (SELECT to_regclass(t) FROM unnest($1::text[]) t))
		 ORDER BY 1 LIMIT 5`, tables, modes)
	if err != nil {
		return nil
	}
	holders, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil
	}
	return holders
}

// holderSQL is the SQL expression that describes the session pid (an expression), with its
// pg_stat_activity row as a: "by pid 123 (user app, application web, idle in transaction since ...)".
// Not its query, whose text may hold what a CI log must not show.
func holderSQL(pid string) string {
	return `format('by pid %s (user %s%s, %s%s)', ` + pid + `, coalesce(a.usename::text, '?'),
		coalesce(', application ' || nullif(a.application_name, ''), ''), coalesce(a.state, '?'),
		coalesce(' since ' || to_char(a.xact_start, 'YYYY-MM-DD HH24:MI:SS TZ'), ''))`
}

// lockBlocked turns a lock wait of the deploy's own statements before any migration ran into a *Blocked:
// nothing was changed, and running the deploy again once the lock is gone is all it takes.
func lockBlocked(err error) error {
	var lw *LockWaitError
	if !errors.As(err, &lw) {
		return err
	}
	return &Blocked{Reason: err.Error() + "; nothing was changed", Hint: lw.Hint + ", then run the deploy again (lock_timeout bounds how long it waits)"}
}

// sessionDefaults reads what conn's session starts with, before the deploy SETs its own:
//   - wait is the lock_timeout the deploy's sessions take: ceiling, or, when keepStricter is set (no
//     lock_timeout configured), the session's own where that is lower (a DBA's ALTER ROLE ... SET
//     lock_timeout = '2s' is not raised to the default 5s); from is then its pg_settings.source;
//   - keep are the -c options of the TCP keepalives the deploy sets on its sessions
//     (pg.KeepaliveOptions), for the clients it runs that connect as it does (a restore_command's psql).
func sessionDefaults(ctx context.Context, conn *pgx.Conn, ceiling time.Duration, keepStricter bool) (wait time.Duration, from, keep string, err error) {
	var ms int64
	var source string
	if err := conn.QueryRow(ctx, "SELECT setting::pg_catalog.int8, source, ("+pg.KeepaliveOptions+") FROM pg_catalog.pg_settings WHERE name OPERATOR(pg_catalog.=) 'lock_timeout'").Scan(&ms, &source, &keep); err != nil {
		return 0, "", "", fmt.Errorf("read the session's lock_timeout and keepalives: %w", err)
	}
	if server := time.Duration(ms) * time.Millisecond; keepStricter && server > 0 && server < ceiling {
		return server, source, keep, nil
	}
	return ceiling, "", keep, nil
}

// settingSource says in words where a setting comes from, given its pg_settings.source.
func settingSource(source string) string {
	from := map[string]string{
		"user":               "set on the role",
		"database":           "set on the database",
		"database user":      "set on the role in this database",
		"configuration file": "set in the server's configuration",
		"client":             "set in the connection's options",
	}[source]
	if from == "" {
		from = "set by the server (" + source + ")"
	}
	return from
}

// lockTimeoutSQL sets the session's lock_timeout: the bound of the deploy's own statements between the
// migrations (history, the lock row, a recovery's reads and writes), as each migration's statements have
// theirs. It is part of the deploy's session settings (see connect), which every reset puts back.
func lockTimeoutSQL(wait time.Duration) string {
	if wait <= 0 {
		wait = config.DefaultLockTimeout
	}
	return fmt.Sprintf("SET lock_timeout = %d", wait.Milliseconds())
}
