package deploy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schemagate/schemagate/internal/config"
)

// Maintenance switches the application's maintenance mode. Both methods must be idempotent: Off is called
// after every run that may have turned it on, including after a failed On.
type Maintenance interface {
	On(ctx context.Context) error
	Off(ctx context.Context) error
}

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
	ctx, cancel := context.WithTimeout(ctx, t)
	defer cancel()
	if err := a.Run(ctx); err != nil {
		return fmt.Errorf("turn maintenance mode %s (%s): %w", what, a, err)
	}
	return nil
}

// NewMaintenance builds the maintenance switch of an environment; nil when none is configured. Webhook
// header values are read from the environment variables the configuration names, through getenv.
func NewMaintenance(cfg config.Maintenance, dbURL string, getenv func(string) string) (Maintenance, error) {
	if cfg.On.IsZero() && cfg.Off.IsZero() {
		return nil, nil
	}
	on, err := newAction(cfg.On, dbURL, getenv)
	if err != nil {
		return nil, fmt.Errorf("maintenance.on: %w", err)
	}
	off, err := newAction(cfg.Off, dbURL, getenv)
	if err != nil {
		return nil, fmt.Errorf("maintenance.off: %w", err)
	}
	return &Switch{OnAction: on, OffAction: off, Timeout: cfg.Timeout}, nil
}

func newAction(a config.Action, dbURL string, getenv func(string) string) (Action, error) {
	switch {
	case a.Command != "":
		return &CommandAction{Command: a.Command, Env: []string{"SCHEMAGATE_DATABASE_URL=" + dbURL}}, nil
	case a.SQL != "":
		return &SQLAction{URL: dbURL, SQL: a.SQL}, nil
	case a.Webhook != nil:
		w := &WebhookAction{Method: a.Webhook.Method, URL: a.Webhook.URL, Body: a.Webhook.Body, Header: http.Header{}}
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
}

// Run runs the command; a non-zero exit is an error carrying its output's tail.
func (c *CommandAction) Run(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, "sh", "-c", c.Command)
	cmd.Env = append(os.Environ(), c.Env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w: %s", err, tail(out.String(), 500))
	}
	return nil
}

func (c *CommandAction) String() string { return "command " + tail(c.Command, 80) }

// WebhookAction sends an HTTP request; any 2xx answer is success.
type WebhookAction struct {
	Method string
	URL    string
	Header http.Header
	Body   string
	Client *http.Client
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
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 2000))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, tail(string(body), 300))
	}
	return nil
}

func (w *WebhookAction) String() string {
	method := w.Method
	if method == "" {
		method = http.MethodPost
	}
	u := w.URL
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i] // query strings may hold tokens
	}
	return "webhook " + method + " " + u
}

// SQLAction runs SQL on the target database, in one transaction on its own connection.
type SQLAction struct {
	URL string
	SQL string
	// xids counts the transaction ids it assigned, so that write detection can tell them from others'.
	xids int64
}

// Run runs the SQL.
func (s *SQLAction) Run(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.URL)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Conn().PgConn().Exec(ctx, s.SQL).ReadAll(); err != nil {
		return err
	}
	var assigned bool
	if err := tx.QueryRow(ctx, "SELECT pg_current_xact_id_if_assigned() IS NOT NULL").Scan(&assigned); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	if assigned {
		s.xids++
	}
	return nil
}

func (s *SQLAction) String() string {
	return "sql " + tail(strings.Join(strings.Fields(s.SQL), " "), 80)
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
		return "..." + s[len(s)-n:]
	}
	return s
}
