package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/pg"
)

// lockKey is the advisory lock every schemagate deploy of a database takes (a fixed bigint, "sgdeploy").
const lockKey int64 = 0x7367_6465_706c_6f79

// Holder identifies who holds (or wants) the deploy lock.
type Holder struct {
	Name   string
	RunID  string
	Commit string
	JobURL string
	Since  time.Time
	PID    int
}

func (h *Holder) String() string {
	s := h.Name
	if s == "" {
		s = "unknown"
	}
	s += " (run " + h.RunID
	if h.Commit != "" {
		s += ", commit " + shortSHA(h.Commit)
	}
	if h.JobURL != "" {
		s += ", " + h.JobURL
	}
	s += ")"
	if !h.Since.IsZero() {
		s += " since " + h.Since.UTC().Format(time.RFC3339)
	}
	return s
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// LockError is returned when another deploy holds the lock longer than the wait allows.
type LockError struct {
	Holder *Holder // nil when the holder left no row
	Waited time.Duration
	// Session is the session that held the advisory lock when the wait ended, as pg_locks has it (nil
	// when it could not be seen): the lock row's pid may be an earlier holder's.
	Session *LockSession
}

// LockSession is the server's session that holds the deploy lock.
type LockSession struct {
	PID         int
	Application string
	// Client is its client's address ("" for a Unix socket, or when the role may not see it).
	Client string
	Since  time.Time
}

// String describes the session: pid, application, client and since when.
func (s *LockSession) String() string {
	out := fmt.Sprintf("pid %d", s.PID)
	if s.Application != "" {
		out += ", application " + s.Application
	}
	if s.Client != "" {
		out += ", client " + s.Client
	}
	if !s.Since.IsZero() {
		out += ", connected since " + s.Since.UTC().Format(time.RFC3339)
	}
	return out
}

// Hint says what to do about a deploy lock that another deploy held past lock_wait: wait for it, and,
// when its job is gone but its session is not (the runner's host crashed or lost its network: the server
// keeps the session, and the lock, until TCP keepalives end it, about two minutes with keepaliveSQL but
// hours for a deploy of an earlier release or through a pooler), end that session.
func (e *LockError) Hint() string {
	h := "wait for that deploy to finish, or raise lock_wait"
	if e.Session != nil {
		h += fmt.Sprintf("; if its job is gone (its runner's host crashed or lost its network, so that the server still keeps its connection: %s), end that session, which releases the lock: SELECT pg_terminate_backend(%d)",
			e.Session, e.Session.PID)
	}
	return h
}

// lockSession reads the session holding the deploy lock of the connection's database; nil when none is
// seen (it was just released) or it cannot be read.
func lockSession(ctx context.Context, conn *pgx.Conn) *LockSession {
	var s LockSession
	var app, client *string
	var since *time.Time
	err := conn.QueryRow(ctx, `SELECT l.pid, a.application_name, host(a.client_addr), a.backend_start
		FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		  AND (l.classid::bigint << 32 | l.objid::bigint) = $1 AND l.objsubid = 1
		LIMIT 1`, lockKey).Scan(&s.PID, &app, &client, &since)
	if err != nil {
		return nil
	}
	if app != nil {
		s.Application = *app
	}
	if client != nil {
		s.Client = *client
	}
	if since != nil {
		s.Since = *since
	}
	return &s
}

func (e *LockError) Error() string {
	who := "another deploy"
	if e.Holder != nil {
		who = e.Holder.String()
	}
	return fmt.Sprintf("deploy lock held by %s; gave up after %s", who, e.Waited.Round(time.Millisecond))
}

// lock is the deploy lock: a session-level advisory lock on a dedicated connection, so that a process that
// dies releases it with its connection, plus a row in schemagate_lock that says who holds it.
type lock struct {
	conn *pgx.Conn
	hist history
	// keep are the -c options of the keepalives its session was given (see sessionDefaults).
	keep string
	// since is when claim wrote the lock row, as the row has it: a run that takes the lock again after
	// losing its session finds the row as it left it only if no other deploy took the lock meanwhile
	// (each writes its own since, and releasing the lock deletes the row).
	since time.Time
}

// acquireLock waits up to wait for the advisory lock, polling, and reports each new holder seen. The
// lock's connection waits for a lock on a table (the lock row's, the history tables') at most
// hist.lockTimeout, or the lower one the server gives the deploy's role (see sessionDefaults), which
// the lock's hist then holds. A connection that breaks while it waits (a server restart, a session a person
// terminated) is opened again and the wait goes on, within wait: it held nothing, and nothing was
// changed. Once wait has run out without a connection, the deploy is blocked, as when the database
// cannot be reached at all.
func acquireLock(ctx context.Context, url string, hist history, wait time.Duration, clock Clock, waiting func(*Holder)) (*lock, time.Duration, error) {
	schema := hist.schema
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, 0, fmt.Errorf("parse database url: %w", err)
	}
	cfg.RuntimeParams["application_name"] = "schemagate deploy lock"
	// The lock's session runs none of the migrations' SQL: it names pg_catalog's functions and views
	// (pg_try_advisory_lock, pg_locks) under pg_catalog's search path, which an earlier migration's ALTER
	// DATABASE ... SET search_path = public, pg_catalog cannot put a public.pg_try_advisory_lock(bigint)
	// before: one that answered true had two deploys run at once.
	cfg = pg.OwnSession(cfg)
	ceiling := hist.lockTimeout
	var keep string // the keepalives the session is given, read before (see sessionDefaults)
	open := func() (*pgx.Conn, error) {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			return nil, err
		}
		// The lock's session is idle for the whole deploy: a server, database or role that ends idle
		// sessions (idle_session_timeout) would end it, and the deploy lock with it, while a migration runs.
		// A host that dies (power, network) sends nothing more: the server keeps its session, and the
		// lock, until TCP keepalives end it (keepaliveSQL).
		// Its lock_timeout is read first: a lower one the server gives the role is kept.
		wait, from, k, err := sessionDefaults(ctx, conn, ceiling, hist.keepStricter)
		if err != nil {
			conn.Close(context.WithoutCancel(ctx))
			return nil, err
		}
		hist.lockTimeout, hist.lockFrom, keep = wait, from, k
		if _, err := conn.Exec(ctx, lockTimeoutSQL(hist.lockTimeout)+"; "+keepSessionSQL+"; "+keepaliveSQL); err != nil {
			conn.Close(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("set up the lock's session: %w", err)
		}
		return conn, nil
	}
	conn, err := open()
	if err != nil {
		if ctx.Err() != nil {
			return nil, 0, stopped(ctx, "stopped while waiting for the deploy lock")
		}
		// Nothing has been touched yet: the deploy is blocked, not failed.
		return nil, 0, &Blocked{Reason: "cannot connect to the database: " + err.Error(),
			Hint: "check the database URL, the password and that the server is up and reachable; nothing was changed"}
	}
	// Before the lock is taken: an older server than the deploy needs is refused with nothing changed.
	if err := checkServer(ctx, conn); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		if ctx.Err() != nil {
			return nil, 0, stopped(ctx, "stopped while waiting for the deploy lock")
		}
		return nil, 0, err
	}
	start := clock.Now()
	var seen string
	for {
		waited := clock.Now().Sub(start)
		if conn == nil {
			// The connection broke while waiting: open it again and go on waiting.
			if conn, err = open(); err != nil && waited >= wait {
				return nil, waited, lostWhileWaiting(ctx, err)
			}
		}
		if conn != nil {
			var ok bool
			if err = conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", lockKey).Scan(&ok); err != nil {
				conn.Close(context.WithoutCancel(ctx))
				conn = nil
				if waited >= wait || ctx.Err() != nil {
					return nil, waited, lostWhileWaiting(ctx, err)
				}
			} else {
				waited = clock.Now().Sub(start)
				if ok {
					return &lock{conn: conn, hist: hist, keep: keep}, waited, nil
				}
				h := readHolder(ctx, conn, schema)
				if h != nil && h.RunID != seen && waiting != nil {
					seen = h.RunID
					waiting(h)
				}
				if waited >= wait {
					sess := lockSession(ctx, conn)
					conn.Close(context.WithoutCancel(ctx))
					return nil, waited, &LockError{Holder: h, Waited: waited, Session: sess}
				}
			}
		}
		select {
		case <-ctx.Done():
			if conn != nil {
				conn.Close(context.WithoutCancel(ctx))
			}
			return nil, waited, stopped(ctx, "stopped while waiting for the deploy lock")
		case <-clock.After(min(500*time.Millisecond, max(wait-waited, time.Millisecond))):
		}
	}
}

// lostWhileWaiting is the end of a wait for the deploy lock whose connection broke (err) and could not be
// opened again within lock_wait: blocked, as when the database cannot be reached, since nothing was held
// and nothing changed; or stopped, when a signal ended the wait.
func lostWhileWaiting(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return stopped(ctx, "stopped while waiting for the deploy lock")
	}
	return &Blocked{Reason: "lost the connection to the database while waiting for the deploy lock, and could not connect again within lock_wait: " + err.Error() + "; nothing was changed",
		Hint: "check that the server is up and reachable, then deploy again"}
}

// keepSessionSQL turns off, for its session, the server's timeouts that end an idle session
// (idle_session_timeout, PostgreSQL 14+), a session idle in a transaction
// (idle_in_transaction_session_timeout) or a session whose transaction outlasts it (transaction_timeout,
// PostgreSQL 17+, which counts an idle transaction's time too): the deploy's connections wait idle while
// a migration, a snapshot or another connection's work runs, the write watch holds one transaction for
// the whole deploy, and hardened servers and managed services set them. Read from pg_settings, so that a
// server without one of them skips it (SET transaction_timeout fails before 17). The work session sets
// transaction_timeout again for each migration (see deployer.transactionTimeout). (The driver's dialer
// sends TCP keepalives every 5 minutes, which tell the deploy of a dead server; keepaliveSQL tells the
// server of a dead deploy.)
const keepSessionSQL = `SELECT pg_catalog.set_config(name, '0', false) FROM pg_catalog.pg_settings
	WHERE name OPERATOR(pg_catalog.=) ANY (ARRAY['idle_session_timeout', 'idle_in_transaction_session_timeout', 'transaction_timeout'])`

// keepaliveSQL makes the server notice, within about two minutes, that the host at the other end of its
// session is gone, and end the session (see pg.KeepalivesToSet): the deploy lock's, which would
// otherwise keep the lock for the kernel's defaults (2h11m on Linux), and the work session's, whose
// migration may hold a table's lock. A setting the server already has lower stays; on a Unix socket it
// sets nothing.
const keepaliveSQL = `SELECT pg_catalog.set_config(k.name, k.want::pg_catalog.text, false) FROM (` + pg.KeepalivesToSet + `) k`

// deadHostBound is how long the server of conn's session keeps it after the client's host went silent:
// TCP keepalives' idle time and probes, bounded by tcp_user_timeout; ok is false for a Unix socket, or
// when the settings cannot be read.
func deadHostBound(ctx context.Context, conn *pgx.Conn) (bound time.Duration, settings string, ok bool) {
	var tcp bool
	var idle, interval, count, user int64
	err := conn.QueryRow(ctx, `SELECT inet_client_addr() IS NOT NULL, current_setting('tcp_keepalives_idle')::int,
		current_setting('tcp_keepalives_interval')::int, current_setting('tcp_keepalives_count')::int,
		coalesce((SELECT setting::int FROM pg_settings WHERE name = 'tcp_user_timeout'), 0)`).Scan(&tcp, &idle, &interval, &count, &user)
	if err != nil || !tcp || idle <= 0 {
		return 0, "", false
	}
	bound = time.Duration(idle+interval*count) * time.Second
	settings = fmt.Sprintf("tcp_keepalives_idle %ds, tcp_keepalives_interval %ds, tcp_keepalives_count %d", idle, interval, count)
	if user > 0 {
		settings += fmt.Sprintf(", tcp_user_timeout %s", time.Duration(user)*time.Millisecond)
	}
	return bound, settings, true
}

// LockLostError says that the deploy lock went during the run: its connection ended (the server
// terminated it, or it broke), and with it the advisory lock, so another deploy could have started.
type LockLostError struct {
	Err error
}

func (e *LockLostError) Error() string { return "lost the deploy lock: " + e.Err.Error() }

func (e *LockLostError) Unwrap() error { return e.Err }

// held checks that the lock's session is still there and still holds the advisory lock; a
// *LockLostError otherwise.
func (l *lock) held(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	var ok bool
	err := l.conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
		AND granted AND (classid::bigint << 32 | objid::bigint) = $1 AND objsubid = 1)`, lockKey).Scan(&ok)
	switch {
	case err != nil:
		return &LockLostError{Err: err}
	case !ok:
		return &LockLostError{Err: errors.New("its session no longer holds the advisory lock")}
	}
	return nil
}

// readHolder reads the lock row; nil when there is none (or the table does not exist yet).
func readHolder(ctx context.Context, conn *pgx.Conn, schema string) *Holder {
	var h Holder
	var pid *int32
	err := conn.QueryRow(ctx, fmt.Sprintf(`SELECT coalesce(holder,''), coalesce(run_id,''), coalesce(commit,''), coalesce(job_url,''), since, backend_pid
		FROM %s.schemagate_lock WHERE id = 1`, ident(schema))).Scan(&h.Name, &h.RunID, &h.Commit, &h.JobURL, &h.Since, &pid)
	if err != nil {
		return nil
	}
	if pid != nil {
		h.PID = int(*pid)
	}
	return &h
}

// claim writes the lock row; it returns the row a dead holder left behind, if any.
func (l *lock) claim(ctx context.Context, h *Holder) (*Holder, error) {
	stale := readHolder(ctx, l.conn, l.hist.schema)
	err := l.conn.QueryRow(ctx, fmt.Sprintf(`INSERT INTO %s.schemagate_lock (id, holder, run_id, commit, job_url, since, backend_pid)
		VALUES (1, $1, $2, $3, $4, now(), pg_backend_pid())
		ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, run_id = excluded.run_id, commit = excluded.commit,
		  job_url = excluded.job_url, since = excluded.since, backend_pid = excluded.backend_pid
		RETURNING since`, ident(l.hist.schema)),
		h.Name, h.RunID, h.Commit, h.JobURL).Scan(&l.since)
	if err != nil {
		return nil, l.hist.fail(ctx, l.conn, err, "write the lock row", "RowExclusiveLock", "schemagate_lock")
	}
	return stale, nil
}

// release clears the row and the advisory lock and closes the connection. A failure is harmless: the
// lock goes with the connection, and the next holder overwrites the row.
func (l *lock) release(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	defer l.conn.Close(ctx)
	if l.conn.IsClosed() {
		return nil // the lock went with its connection (the run says so when it matters)
	}
	_, err := l.conn.Exec(ctx, fmt.Sprintf("DELETE FROM %s.schemagate_lock WHERE id = 1", ident(l.hist.schema)))
	if err == nil {
		_, err = l.conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", lockKey)
	}
	if err != nil && !l.conn.IsClosed() {
		return fmt.Errorf("release the deploy lock (it goes with its connection, which is closed now): %w", err)
	}
	return nil
}

func ident(s string) string { return pgx.Identifier{s}.Sanitize() }
