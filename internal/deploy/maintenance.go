package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/pg"
	"github.com/schemagate/schemagate/internal/proc"
	"github.com/schemagate/schemagate/internal/snapshot"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// Maintenance switches the application's maintenance mode. Both methods must be idempotent: Off is called
// after every run that may have turned it on, including after a failed On.
type Maintenance interface {
	On(ctx context.Context) error
	Off(ctx context.Context) error
}

// Turning maintenance mode off is tried up to offAttempts times, pausing offPause before the second
// attempt and twice as long before each next one (2s, 4s, 8s, 16s: 30s in all), but no attempt starts
// more than offRetryFor after the first did. Until the switch goes off the application is down, and what
// fails it is often brief: a proxy answering 502 or 503 while the service behind it restarts, a
// PostgreSQL server restarting or failing over, an application session holding the flag's row a few
// seconds. Off is idempotent, so trying again is safe. Longer would keep the deploy (its lock, its CI
// job) waiting on a switch that a person has to look at anyway, and offRetryFor bounds the retries of
// an action that hangs until maintenance.timeout each time.
const (
	offAttempts = 5
	offPause    = 2 * time.Second
	offRetryFor = time.Minute
)

// offRetryable tells whether an off action that failed with err may go through when tried again. SQL
// that committed and changed no row (a *NoRowError) would change none again; SQL that the server
// refused as wrong (a misspelt table or column, a syntax error, a missing privilege, a bad value, a
// violated constraint), or a login it refused (a wrong password, a database that does not exist), would
// be refused again, and so would a webhook's 4xx answer (a wrong URL, token or method) other than 408
// and 429. So would SQL whose functions fail by their own code, which runs the same way on the same
// rows within the half minute of the retries: a PL/pgSQL RAISE EXCEPTION or ASSERT (class P0), a
// function that ended without RETURN (2F), a routine or trigger that broke its protocol (38, 39), a
// DROP that other objects depend on (2B). Everything else may pass: a connection refused or ended (a
// server restarting, 08, 57), a lock wait that lock_timeout ended (the session holding it may end, 55),
// a deadlock or serialization failure (40), too many connections or a full disk (53), an I/O error
// (58), a webhook's error answer, a command's non-zero exit, a timeout.
func offRetryable(err error) bool {
	var nr *NoRowError
	if errors.As(err, &nr) {
		return false
	}
	var he *httpStatusError
	if errors.As(err, &he) && he.Code >= 400 && he.Code < 500 && he.Code != http.StatusRequestTimeout && he.Code != http.StatusTooManyRequests {
		// The webhook refused the request itself (a wrong URL, token or method): it would again.
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && len(pe.Code) == 5 {
		switch pe.Code[:2] {
		case "0A", "22", "23", "28", "2B", "2F", "38", "39", "3D", "3F", "42", "P0":
			return false
		}
	}
	return true
}

// httpStatusError is a webhook's answer outside 2xx: Code, and the end of its body (secrets masked).
type httpStatusError struct {
	Code int
	Body string
}

func (e *httpStatusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Code, e.Body) }

// Action is one way of switching: a shell command, a webhook or SQL.
type Action interface {
	Run(ctx context.Context) error
	// String describes the action for messages, without secrets.
	String() string
}

// Switch is a Maintenance made of two actions.
type Switch struct {
	OnAction, OffAction Action
	// Timeout bounds each action (default 30s).
	Timeout time.Duration
}

var (
	_ Maintenance = (*Switch)(nil)
	_ Action      = (*CommandAction)(nil)
	_ Action      = (*WebhookAction)(nil)
	_ Action      = (*SQLAction)(nil)
)

// On runs the on action.
func (s *Switch) On(ctx context.Context) error { return s.run(ctx, "on", s.OnAction) }

// Off runs the off action.
func (s *Switch) Off(ctx context.Context) error { return s.run(ctx, "off", s.OffAction) }

func (s *Switch) run(ctx context.Context, what string, a Action) error {
	if a == nil {
		return nil
	}
	t := s.Timeout
	if t <= 0 {
		t = 30 * time.Second
	}
	actx, cancel := context.WithTimeout(ctx, t)
	defer cancel()
	if err := a.Run(actx); err != nil {
		if errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			err = &timedOutError{action: a, after: t, err: err}
		}
		return fmt.Errorf("turn maintenance mode %s (%s): %w", what, a, err)
	}
	return nil
}

// timedOutError is an action that maintenance.timeout stopped.
type timedOutError struct {
	action Action
	after  time.Duration
	err    error
}

func (e *timedOutError) Error() string {
	var cs *commandStoppedError
	switch {
	case errors.As(e.err, &cs):
		msg := fmt.Sprintf("maintenance command timed out after %s (maintenance.timeout); it was stopped with its child processes", e.after)
		if cs.output != "" {
			msg += "; its output: " + cs.output
		}
		return msg
	default:
		return fmt.Sprintf("maintenance action timed out after %s (maintenance.timeout): %v", e.after, e.err)
	}
}

func (e *timedOutError) Unwrap() error { return e.err }

// commandStoppedError is a command that its context stopped (the action's timeout, or a signal to the
// deploy), with the tail of what it had written.
type commandStoppedError struct {
	cause  error
	output string
}

func (e *commandStoppedError) Error() string {
	if e.output == "" {
		return "stopped: " + e.cause.Error()
	}
	return "stopped: " + e.cause.Error() + "; its output: " + e.output
}

func (e *commandStoppedError) Unwrap() error { return e.cause }

// boundLocks returns a copy of s whose SQL actions that set no LockTimeout wait for a lock at most
// wait (the environment's lock_timeout). s itself is left as it is.
func (s *Switch) boundLocks(wait time.Duration) *Switch {
	c := *s
	bound := func(a Action) Action {
		if sa, ok := a.(*SQLAction); ok && sa.LockTimeout <= 0 {
			b := *sa
			b.LockTimeout = wait
			return &b
		}
		return a
	}
	c.OnAction, c.OffAction = bound(s.OnAction), bound(s.OffAction)
	return &c
}

// byHand says how a person turns maintenance mode off when m could not: what its off action does.
func byHand(m Maintenance) string {
	sw, ok := m.(*Switch)
	if !ok || sw.OffAction == nil {
		return "switch it off as the application's operations do"
	}
	switch a := sw.OffAction.(type) {
	case *SQLAction:
		// Byte for byte what the action runs: literals keep their white space, comments go.
		if line, ok := sqlparse.RunnableLine(a.SQL); ok {
			return "run on the database: " + line
		}
		return "run on the database the maintenance.off SQL as it is written (a literal in it spans lines):\n" + strings.TrimSpace(a.SQL) + "\n"
	case *CommandAction:
		return "run: " + snapshot.Mask(a.Command, a.Secrets)
	}
	return "run the maintenance.off action (" + sw.OffAction.String() + ")"
}

// NewMaintenance builds the maintenance switch of an environment; nil when none is configured. Webhook
// header values are read from the environment variables the configuration names, through getenv.
func NewMaintenance(cfg config.Maintenance, dbURL string, getenv func(string) string) (Maintenance, error) {
	if cfg.On.IsZero() && cfg.Off.IsZero() {
		return nil, nil
	}
	secrets := Secrets(cfg, dbURL, getenv)
	on, err := newAction(cfg.On, dbURL, getenv, secrets)
	if err != nil {
		return nil, fmt.Errorf("maintenance.on: %w", err)
	}
	off, err := newAction(cfg.Off, dbURL, getenv, secrets)
	if err != nil {
		return nil, fmt.Errorf("maintenance.off: %w", err)
	}
	return &Switch{OnAction: on, OffAction: off, Timeout: cfg.Timeout}, nil
}

// Secrets are what the output of a hook (a maintenance command, a snapshot's command or
// restore_command) must not show when a message or report quotes it: the database password, which hooks
// get in SCHEMAGATE_DATABASE_URL (a script under set -x echoes it), and the webhooks' secrets (their
// header values, the password and query values of their URLs).
func Secrets(cfg config.Maintenance, dbURL string, getenv func(string) string) []string {
	var out []string
	if c, err := pgx.ParseConfig(dbURL); err == nil && c.Password != "" {
		out = append(out, c.Password, url.QueryEscape(c.Password), url.PathEscape(c.Password))
	}
	for _, a := range []config.Action{cfg.On, cfg.Off} {
		if a.Webhook == nil {
			continue
		}
		out = append(out, config.URLSecrets(a.Webhook.URL)...)
		for _, env := range a.Webhook.Headers {
			if getenv != nil {
				out = append(out, getenv(env))
			}
		}
	}
	return out
}

func newAction(a config.Action, dbURL string, getenv func(string) string, secrets []string) (Action, error) {
	switch {
	case a.Command != "":
		return &CommandAction{Command: a.Command, Env: []string{"SCHEMAGATE_DATABASE_URL=" + dbURL}, Secrets: secrets}, nil
	case a.SQL != "":
		return &SQLAction{URL: dbURL, SQL: a.SQL}, nil
	case a.Webhook != nil:
		w := &WebhookAction{Method: a.Webhook.Method, URL: a.Webhook.URL, Body: a.Webhook.Body, Header: http.Header{}, Secrets: secrets}
		for name, env := range a.Webhook.Headers {
			v := getenv(env)
			if v == "" {
				return nil, fmt.Errorf("webhook header %s: environment variable %s is empty", name, env)
			}
			w.Header.Set(name, v)
		}
		return w, nil
	}
	return nil, nil
}

// CommandAction runs a shell command with sh -c.
type CommandAction struct {
	Command string
	Env     []string
	// Secrets are masked in the output an error quotes (see Secrets).
	Secrets []string
}

// commandGrace is how long a stopped command's process group has between SIGTERM and SIGKILL, and
// commandWaitDelay how long the deploy then waits for its output pipes: a child that left the group (or
// ignores SIGKILL's outcome) and keeps them open must not hold the deploy.
const (
	commandGrace     = 2 * time.Second
	commandWaitDelay = commandGrace + time.Second
)

// Run runs the command; a non-zero exit is an error carrying its output's tail. The command runs in a
// process group of its own (proc.Shell): when ctx ends (the action's timeout, a signal), the whole group
// gets SIGTERM and, commandGrace later, SIGKILL, so that a child it started (a sleep, a curl in a
// wrapper script) does not keep it, and the deploy, waiting; when the deploy is killed, the group dies
// with it.
func (c *CommandAction) Run(ctx context.Context) error {
	cmd := proc.Shell(ctx, c.Command)
	cmd.Env = append(os.Environ(), c.Env...)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Cancel = func() error {
		pgid := cmd.Process.Pid
		err := syscall.Kill(-pgid, syscall.SIGTERM)
		time.AfterFunc(commandGrace, func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
		return err
	}
	cmd.WaitDelay = commandWaitDelay
	err := proc.Run(cmd)
	if ctx.Err() != nil {
		return &commandStoppedError{cause: context.Cause(ctx), output: tail(snapshot.Mask(out.String(), c.Secrets), 500)}
	}
	if err != nil {
		return fmt.Errorf("%w: %s", err, tail(snapshot.Mask(out.String(), c.Secrets), 500))
	}
	return nil
}

// syncBuffer is a bytes.Buffer that the command's output copy and Run (after WaitDelay gave up on the
// copy) may use at the same time.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (c *CommandAction) String() string {
	return "command " + tail(snapshot.Mask(c.Command, c.Secrets), 80)
}

// WebhookAction sends an HTTP request; any 2xx answer is success.
type WebhookAction struct {
	Method string
	URL    string
	Header http.Header
	Body   string
	Client *http.Client
	// Secrets are masked in the answer an error quotes: a service may echo the request (its token
	// header, the URL) back in an error page.
	Secrets []string
}

// Run sends the request.
func (w *WebhookAction) Run(ctx context.Context) error {
	method := w.Method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, w.URL, strings.NewReader(w.Body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header = w.Header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if w.Body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	client := w.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		// net/http's error quotes the URL with its query, which may hold the webhook's token.
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = config.RedactURL(w.URL)
		}
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 2000))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &httpStatusError{Code: resp.StatusCode, Body: tail(snapshot.Mask(string(body), w.Secrets), 300)}
	}
	return nil
}

func (w *WebhookAction) String() string {
	method := w.Method
	if method == "" {
		method = http.MethodPost
	}
	return "webhook " + method + " " + config.RedactURL(w.URL)
}

// SQLAction runs SQL on the target database, in one transaction on its own connection.
type SQLAction struct {
	URL string
	SQL string
	// LockTimeout bounds each wait of the SQL for a lock (zero: config.DefaultLockTimeout; Run gives
	// the environment's lock_timeout to the actions that set none). The SQL may SET its own.
	LockTimeout time.Duration
	// xids counts the transaction ids it assigned, so that write detection can tell them from others'.
	xids int64
}

// Run runs the SQL. A wait for a lock that lock_timeout ends is a *LockWaitError naming the sessions
// that held it, and leaves nothing done: the transaction is rolled back. SQL whose INSERT, UPDATE,
// DELETE and MERGE statements changed no row between them is committed and returns a *NoRowError: the
// switch did not move (see noRow).
func (s *SQLAction) Run(ctx context.Context) error {
	cfg, err := pgx.ParseConfig(s.URL)
	if err != nil {
		return fmt.Errorf("parse database url: %w", err)
	}
	cfg.RuntimeParams["application_name"] = "schemagate maintenance"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// An application's session holding a lock the SQL needs (its own UPDATE of the flag, a LOCK TABLE)
	// must not hold up the deploy, nor, for the off action, the application, until the action's timeout.
	wait := s.LockTimeout
	if wait <= 0 {
		wait = config.DefaultLockTimeout
	}
	// Its transaction holds the locks of what the SQL changes until it commits: should the deploy's host
	// die meanwhile, the server must end it, and release them, within minutes, not hours (keepaliveSQL).
	if _, err := conn.Exec(ctx, lockTimeoutSQL(wait)+"; "+keepaliveSQL); err != nil {
		return fmt.Errorf("set up the session: %w", err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	w := watchLockWaits(ctx, cfg, conn.PgConn().PID(), wait)
	results, err := tx.Conn().PgConn().Exec(ctx, s.SQL).ReadAll()
	seen := w.stop()
	if err != nil {
		if isLockTimeout(err) {
			if len(seen.holders) == 0 {
				// The watch missed the wait: a lock_timeout of a few tens of milliseconds ends it before
				// a second connection can sample it. Who held the lock is looked up now, once the
				// transaction is over, from what the failed statement needed.
				_ = tx.Rollback(context.WithoutCancel(ctx))
				seen = heldAfterTimeout(ctx, conn, err, s.SQL, completed(results))
			}
			return seen.lockWaitError(err, wait)
		}
		return err
	}
	var assigned bool
	if err := tx.QueryRow(ctx, "SELECT pg_catalog.pg_current_xact_id_if_assigned() IS NOT NULL").Scan(&assigned); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	if assigned {
		s.xids++
	}
	// Committed all the same: whatever else the SQL did stands, as an action's work does.
	if nr := noRow(results); nr != nil {
		return nr
	}
	return nil
}

// lockWatch samples, on a connection of its own, what a session waits for while it waits for a lock:
// once lock_timeout has ended the wait, neither the session nor pg_locks can tell any more. The SQL of a
// maintenance action is the user's, so what it locks is not known beforehand.
type lockWatch struct {
	cancel context.CancelFunc
	done   chan struct{}
	// seen is the last wait sampled; read after done is closed.
	seen lockSeen
}

// lockSeen is a wait for a lock: the table (schema-qualified; "" when the lock is not a table's or a
// row's) and the sessions holding it, described as lockHolders describes them.
type lockSeen struct {
	table   string
	holders []string
}

// watchLockWaits starts watching session pid, connecting as cfg says, about twenty times per wait.
func watchLockWaits(ctx context.Context, cfg *pgx.ConnConfig, pid uint32, wait time.Duration) *lockWatch {
	ctx, cancel := context.WithCancel(ctx)
	w := &lockWatch{cancel: cancel, done: make(chan struct{})}
	every := min(max(wait/20, 5*time.Millisecond), 100*time.Millisecond)
	// The watch runs none of the action's SQL: it reads pg_locks under pg_catalog's search path.
	wcfg := pg.OwnSession(cfg)
	wcfg.RuntimeParams["application_name"] = "schemagate maintenance (lock watch)"
	go func() {
		defer close(w.done)
		conn, err := pgx.ConnectConfig(ctx, wcfg)
		if err != nil {
			return
		}
		defer conn.Close(context.WithoutCancel(ctx))
		for {
			var seen lockSeen
			if err := conn.QueryRow(ctx, lockWaitSQL, pid).Scan(&seen.table, &seen.holders); err == nil && len(seen.holders) > 0 {
				w.seen = seen
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(every):
			}
		}
	}()
	return w
}

// stop ends the watch and returns the last wait it saw.
func (w *lockWatch) stop() lockSeen {
	w.cancel()
	<-w.done
	return w.seen
}

// lockWaitError is the *LockWaitError of the SQL, which lock_timeout (wait) ended with err.
func (s lockSeen) lockWaitError(err error, wait time.Duration) error {
	lw := &LockWaitError{What: "its SQL", Wait: wait, Holders: s.holders, Err: err,
		Hint: "another session holds a lock the maintenance SQL needs (the reason says which, when it could be seen): end it, or wait for it to end"}
	if s.table != "" {
		lw.Tables = []string{s.table}
		lw.Hint = "another session holds a lock on " + s.table + " (the reason says which): end it, or wait for it to end"
	}
	return lw
}

// lockWaitSQL reads what session $1 waits for: the table it waits to lock, or whose row it waits for
// (a row lock shows as a wait for the holder's transaction, with the row's table in the waiter's tuple
// lock), and pg_blocking_pids' sessions, described as lockHolders describes them (never their query).
var lockWaitSQL = `
WITH w AS (
  SELECT c.oid AS rel, format('%I.%I', n.nspname, c.relname) AS name,
         EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = $1 AND NOT l.granted AND l.locktype = 'relation') AS whole
    FROM (SELECT 1) one
    LEFT JOIN LATERAL (SELECT l.relation FROM pg_locks l WHERE l.pid = $1 AND l.relation IS NOT NULL
                          AND (NOT l.granted OR l.locktype = 'tuple') ORDER BY l.granted LIMIT 1) r ON true
    LEFT JOIN pg_class c ON c.oid = r.relation LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
)
SELECT coalesce(w.name, ''), coalesce((array_agg(
         CASE WHEN w.name IS NULL THEN 'a lock it needs is held'
              WHEN NOT w.whole THEN 'a row of ' || w.name || ' is locked'
              WHEN m.modes IS NULL THEN w.name || ' is awaited ahead of it'
              ELSE w.name || ' is locked (' || m.modes || ')' END || ' ' || ` + holderSQL("b.pid") + `
         ORDER BY b.pid))[1:5], '{}')
  FROM w CROSS JOIN unnest(pg_blocking_pids($1)) b(pid)
  LEFT JOIN pg_stat_activity a ON a.pid = b.pid
  LEFT JOIN LATERAL (SELECT string_agg(l.mode, ', ' ORDER BY l.mode) AS modes FROM pg_locks l
                      WHERE l.pid = b.pid AND l.relation = w.rel AND l.granted) m ON true
 GROUP BY w.name`

// NoRowError is SQL of a maintenance action whose INSERT, UPDATE, DELETE and MERGE statements changed
// no row between them: a WHERE clause that matches nothing (a misspelt key, a missing row), so the
// switch it stands for has not moved.
type NoRowError struct {
	// Tag is the command tag of its last such statement ("UPDATE 0").
	Tag string
}

func (e *NoRowError) Error() string {
	return "its SQL changed no row (" + e.Tag + "): its WHERE clause matches no row, or the row it should change is missing"
}

// noRow returns the *NoRowError of the results of a maintenance action's SQL whose DML statements
// changed no row between them; nil when one changed a row or there is none. Other statements (a SELECT
// of set_config or of a function, a DO block, a CALL) have no row count to judge by: what they do is
// theirs to tell by an error. Between them: DELETE FROM flag; INSERT INTO flag ... changes a row
// whether the DELETE finds one or not.
func noRow(results []*pgconn.Result) *NoRowError {
	var last string
	for _, r := range results {
		tag := r.CommandTag
		if !tag.Insert() && !tag.Update() && !tag.Delete() && !strings.HasPrefix(tag.String(), "MERGE ") {
			continue
		}
		if tag.RowsAffected() > 0 {
			return nil
		}
		last = tag.String()
	}
	if last == "" {
		return nil
	}
	return &NoRowError{Tag: last}
}

func (s *SQLAction) String() string {
	return "sql " + tail(sqlparse.OneLine(s.SQL), 80)
}

// ownXIDs is how many transaction ids the maintenance switch assigned itself.
func ownXIDs(m Maintenance) int64 {
	sw, ok := m.(*Switch)
	if !ok {
		return 0
	}
	var n int64
	for _, a := range []Action{sw.OnAction, sw.OffAction} {
		if s, ok := a.(*SQLAction); ok {
			n += s.xids
		}
	}
	return n
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		i := len(s) - n
		for i < len(s) && !utf8.RuneStart(s[i]) {
			i++ // not into the middle of a character
		}
		return "..." + s[i:]
	}
	return s
}
