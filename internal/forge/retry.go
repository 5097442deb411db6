package forge

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// RetryTransport resends requests a code host refuses for its rate limit, waiting as long as the host
// asks, a bounded number of times and never past the request's context. It also resends an idempotent
// request (GET, HEAD) the host or its proxy answers 502, 503 or 504, after a growing pause (Backoff): a
// passing outage must not fail a job. A POST, PUT or DELETE so answered is not resent: the host may have
// done it (a note posted twice). The host's rules (which answers
// are rate limits, how long to wait, which headers to hide from the API client so that its own limiter
// never engages) are its fields; forge/github and forge/gitlab fill them in.
type RetryTransport struct {
	// Base sends the requests (default http.DefaultTransport).
	Base http.RoundTripper
	// Limited reports whether resp is a rate-limit refusal of the given attempt (1, 2, ...) and how long
	// to wait before the next. It may read resp.Body if it puts back what it read.
	Limited func(resp *http.Response, attempt int) (wait time.Duration, limited bool)
	// Strip removes rate-limit headers from the answers passed on (nil: none).
	Strip func(http.Header)
	// Prepare adjusts each attempt's request before it is sent (nil: none).
	Prepare func(*http.Request)
	// Exhausted is the error returned when the retries run out or the host asks for more than MaxWait.
	Exhausted func(wait time.Duration, attempts int) error
	// Sleep waits between attempts (default: a timer that honours ctx).
	Sleep func(ctx context.Context, d time.Duration) error
	// Backoff is the pause before resending an idempotent request after a 502, 503 or 504, for the given
	// attempt (1, 2, ...) that failed (default 1 s, 2 s, 4 s...).
	Backoff func(attempt int) time.Duration
	// MaxRetries bounds the retries (default 3); MaxWait is the longest single wait accepted (default 2m).
	MaxRetries int
	MaxWait    time.Duration
}

// Client returns a copy of hc (nil: a client with a 30 s timeout) whose requests go through t, t sending
// them on with hc's own transport.
func (t *RetryTransport) Client(hc *http.Client) *http.Client {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	wrapped := *hc
	t.Base = hc.Transport
	wrapped.Transport = t
	return &wrapped
}

// RoundTrip implements http.RoundTripper. The request body is read once and replayed on each attempt.
func (t *RetryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	base, sleep, maxRetries, maxWait := t.Base, t.Sleep, t.MaxRetries, t.MaxWait
	if base == nil {
		base = http.DefaultTransport
	}
	if sleep == nil {
		sleep = SleepCtx
	}
	if maxRetries == 0 {
		maxRetries = 3
	}
	if maxWait == 0 {
		maxWait = 2 * time.Minute
	}
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
		body = b
	}
	for attempt := 1; ; attempt++ {
		r := req.Clone(ctx)
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
		}
		if t.Prepare != nil {
			t.Prepare(r)
		}
		resp, err := base.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		wait, limited := t.Limited(resp, attempt)
		if !limited && transient(r, resp) && attempt <= maxRetries {
			pause := time.Second << min(attempt-1, 6)
			if t.Backoff != nil {
				pause = t.Backoff(attempt)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err := sleep(ctx, pause); err != nil {
				return nil, fmt.Errorf("wait to resend after %s: %w", resp.Status, err)
			}
			continue
		}
		if !limited {
			if t.Strip != nil {
				t.Strip(resp.Header)
			}
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if attempt > maxRetries || wait > maxWait {
			if t.Exhausted != nil {
				return nil, t.Exhausted(wait, attempt)
			}
			return nil, fmt.Errorf("rate limited after %s (asked to wait %s)", attempts(attempt), wait)
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("wait for rate limit: %w", err)
		}
	}
}

// transient reports whether resp is a gateway's or an overloaded server's answer to an idempotent
// request, which sending it again may get past.
func transient(req *http.Request, resp *http.Response) bool {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return false
	}
	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// RateLimitError is returned (wrapped) when a code host kept refusing a request for its rate limit after
// every allowed retry, or asked for a longer wait than allowed.
type RateLimitError struct {
	// Host names the code host: GitHub, GitLab.
	Host string
	// Wait is how long the host asked to wait.
	Wait time.Duration
	// Attempts is the number of requests sent.
	Attempts int
	// Fix says what to do about it on this host.
	Fix string
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("rate limited by %s after %s (asked to wait %s)", e.Host, attempts(e.Attempts), e.Wait)
}

// attempts is "1 attempt", "3 attempts".
func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}

// Hint says what to do about it.
func (e *RateLimitError) Hint() string { return e.Fix }

// SleepCtx waits for d or until ctx is done.
func SleepCtx(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}
