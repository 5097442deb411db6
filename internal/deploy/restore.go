package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/schemagate/schemagate/internal/snapshot"
)

// boundRestore returns a copy of p whose sessions wait for a lock at most wait (the environment's
// lock_timeout), as the deploy's own statements do: the restore's clear drops every table, and a
// session holding a lock on one (a long query, an idle transaction) would otherwise hold the restore,
// and the deploy in maintenance mode, for as long as it holds it. The bound goes after the connection's
// own options, or after PGOPTIONS when it has none, which psql and the tools pass to the server
// (snapshot.PGDump.WithSessionOptions); pg_dump sets lock_timeout = 0 for itself and bounds its waits
// with --lock-wait-timeout, and the dump's SQL does too once the clear is done, when the restore holds
// the locks of what it recreates. p itself is left as it is.
func boundRestore(p *snapshot.PGDump, wait time.Duration) *snapshot.PGDump {
	if wait <= 0 {
		return p
	}
	return p.WithSessionOptions(fmt.Sprintf("-c lock_timeout=%d", wait.Milliseconds()))
}

// boundCommand returns a copy of c whose restore_command waits for a lock at most wait, as the built-in
// restore does, where that can be given: in PGOPTIONS, which libpq clients (psql) pass to the server, up
// to a SET lock_timeout of the session's own (see snapshot.Command.RestoreLockTimeout). Its psql's lock
// timeout is then recognised and retried as the built-in restore's is. c itself is left as it is, and so
// is a c that sets its own bound.
//
// keep are the -c options of the TCP keepalives the deploy's sessions set (pg.KeepaliveOptions, read on
// the deploy lock's session): the hook's sessions get them too, unless c has options of its own.
// untimed are the -c options that turn off the server's timeouts that end a session (hookUntimedSQL),
// which both hooks' sessions get unless c has session options of its own.
func boundCommand(c *snapshot.Command, wait time.Duration, keep, untimed string) *snapshot.Command {
	b := *c
	if b.RestoreLockTimeout <= 0 && wait > 0 {
		b.RestoreLockTimeout = wait
	}
	if b.RestoreOptions == "" {
		b.RestoreOptions = keep
	}
	if b.SessionOptions == "" {
		b.SessionOptions = untimed
	}
	return &b
}

// hookUntimedSQL returns the -c options that turn off, for the sessions of the snapshot hooks, the
// server's timeouts that end a session or its statement or transaction on their own: those the deploy's
// own sessions turn off (keepSessionSQL), and statement_timeout, which pg_dump and pg_restore turn off for
// theirs. A role or database that sets them (a hardened server, a managed service) would otherwise end a
// hook's pg_dump or psql half way through the snapshot or its restore. Only those the server knows are
// given: a session asking for one it does not know (transaction_timeout before PostgreSQL 17) is
// refused at connection.
const hookUntimedSQL = `SELECT coalesce(string_agg('-c ' || name || '=0', ' ' ORDER BY name), '') FROM pg_settings
	WHERE name IN ('statement_timeout', 'idle_in_transaction_session_timeout', 'idle_session_timeout', 'transaction_timeout')`

// restoreLocked runs restore, trying again after a lock timeout as a migration is (the restore is one
// transaction, which the timeout rolled back whole), with the same backoff. Waits for the backoff are
// not cut short by a signal: once started, a restore runs to its end. A restore that still times out is
// a *LockWaitError naming the sessions that hold a lock on a table the restore drops.
func (d *deployer) restoreLocked(ctx context.Context, restore snapshot.RestoreFunc) error {
	retries, backoff := d.retryPolicy()
	for attempt := 1; ; attempt++ {
		err := restore(ctx)
		var se *snapshot.Error
		if errors.As(err, &se) && se.Op == "analyze after restore" {
			// The restore committed; only refreshing the statistics waited too long for a lock (the
			// ANALYZE runs on a bounded connection too), which autovacuum makes up for in time.
			d.note("the snapshot is restored, but its ANALYZE failed: %v; run ANALYZE to refresh the statistics", se.Err)
			return nil
		}
		if err == nil || !restoreLockTimeout(err) {
			return err
		}
		if attempt > retries {
			return d.restoreLockWait(ctx, err, attempt)
		}
		wait := backoff << (attempt - 1)
		d.progress("restoring the snapshot: lock timeout (attempt %d), retrying in %s", attempt, wait)
		<-d.clock.After(wait)
	}
}

// restoreLockTimeout tells whether a restore failed because lock_timeout ended a wait: by the SQLSTATE
// (55P03) when the restore reports it, as the built-in one does, whatever the language of the server's
// messages; otherwise (a restore_command's output) by psql's message, in English.
func restoreLockTimeout(err error) bool {
	var se *snapshot.Error
	if errors.As(err, &se) && se.SQLState != "" {
		return se.SQLState == sqlstateLockNotAvailable
	}
	return strings.Contains(err.Error(), "canceling statement due to lock timeout")
}

// restoreLockWait is the *LockWaitError of a restore (err) that lock_timeout stopped tries times: the
// sessions other than the deploy's own that hold a lock on a table in a schema the restore clears (every
// one but the history schema and the system's), each of which conflicts with the clear's DROP.
func (d *deployer) restoreLockWait(ctx context.Context, err error, tries int) error {
	what := "restore snapshot"
	if tries > 1 {
		what += fmt.Sprintf(" (%d tries)", tries)
	}
	lw := &LockWaitError{What: what, Wait: d.hist.lockTimeout, Err: err,
		Hint: "another session holds a lock on a table the restore drops (the reason says which, when it could be seen): end it, or wait for it to end"}
	if d.conn == nil || d.conn.IsClosed() {
		return lw
	}
	own := []int32{}
	if d.lock != nil && d.lock.conn != nil {
		own = append(own, int32(d.lock.conn.PgConn().PID()))
	}
	rows, qerr := d.conn.Query(context.WithoutCancel(ctx), `
		SELECT format('%I.%I', n.nspname, c.relname), format('%I.%I is locked (%s) ', n.nspname, c.relname, l.mode) || `+holderSQL("l.pid")+`
		  FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
		  LEFT JOIN pg_stat_activity a ON a.pid = l.pid
		 WHERE l.locktype = 'relation' AND l.granted AND l.pid <> pg_backend_pid() AND l.pid <> ALL($2::int[])
		   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		   AND n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema' AND n.nspname <> $1
		 ORDER BY 2 LIMIT 5`, d.hist.schema, own)
	if qerr != nil {
		return lw
	}
	defer rows.Close()
	for rows.Next() {
		var table, holder string
		if rows.Scan(&table, &holder) != nil {
			return lw
		}
		if !slices.Contains(lw.Tables, table) {
			lw.Tables = append(lw.Tables, table)
		}
		lw.Holders = append(lw.Holders, holder)
	}
	if len(lw.Tables) > 0 {
		lw.Hint = "another session holds a lock on " + strings.Join(lw.Tables, ", ") + " (the reason says which): end it, or wait for it to end"
	}
	return lw
}
