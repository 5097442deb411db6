package sandbox

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestLocalServerNeedsTheRunsPassword: a pull request's SQL runs as the server's OS user, which every
// run's server shares, and can reach another run's socket (COPY … TO PROGRAM). Without the run's
// password, which only its URL carries, nothing connects: not without a password, not with the
// template's, not with another run's. The password appears in no log.
func TestLocalServerNeedsTheRunsPassword(t *testing.T) {
	l, logs := cacheLocal(t, Options{})
	ctx := t.Context()
	a, err := l.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(context.Background())
	b, err := l.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background())
	ua, _ := url.Parse(a.URL)
	ub, _ := url.Parse(b.URL)
	pa, _ := ua.User.Password()
	pb, _ := ub.User.Password()
	if len(pa) < 32 || pa == pb {
		t.Fatalf("the runs' passwords are %q and %q: want a random one of 128 bits each", pa, pb)
	}
	if strings.Contains(logs.String(), pa) {
		t.Errorf("the run's password is in the log:\n%s", logs)
	}
	secret, err := os.ReadFile(filepath.Join(templateDir(t, l), templateSecret))
	if err != nil {
		t.Fatalf("read the template's password: %v", err)
	}
	for _, tt := range []struct {
		name string
		user *url.Userinfo
	}{
		{"no password", url.User("postgres")},
		{"the template's password", url.UserPassword("postgres", strings.TrimSpace(string(secret)))},
		{"another run's password", url.UserPassword("postgres", pb)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := *ua
			u.User = tt.user
			conn, err := pgx.Connect(ctx, u.String())
			if err == nil {
				conn.Close(ctx)
				t.Fatalf("connected to the run's server with %s", tt.name)
			}
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != "28P01" {
				t.Fatalf("error %v; want 28P01 (password authentication failed)", err)
			}
		})
	}
	conn, err := pgx.Connect(ctx, a.URL)
	if err != nil {
		t.Fatalf("connect with the run's URL: %v", err)
	}
	defer conn.Close(ctx)
	var method string
	if err := conn.QueryRow(ctx, "SELECT string_agg(DISTINCT auth_method, ',') FROM pg_hba_file_rules").Scan(&method); err != nil || method != "scram-sha-256" {
		t.Errorf("pg_hba.conf's methods are %q (%v), want scram-sha-256 only", method, err)
	}
}
