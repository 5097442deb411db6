package github

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RateLimitError is returned (wrapped) when GitHub kept refusing a request for its rate limit after
// every allowed retry, or asked for a longer wait than allowed.
type RateLimitError struct {
	// Wait is how long GitHub asked to wait.
	Wait time.Duration
	// Attempts is the number of requests sent.
	Attempts int
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("rate limited by GitHub after %d attempts (asked to wait %s)", e.Attempts, e.Wait)
}

// Hint says what to do about it.
func (e *RateLimitError) Hint() string {
	return "re-run the job later, or use a token with a higher rate limit (a GitHub App installation token)"
}

// rateLimitTransport retries requests GitHub answers as rate-limited (HTTP 429, or 403 with
// Retry-After, x-ratelimit-remaining: 0 or a secondary-rate-limit message), waiting as long as GitHub
// asks, a bounded number of times. It owns rate limiting alone: it strips the rate headers from the
// answers it passes on so that go-github's own client-side gate (which refuses requests until the reset
// time without asking) never engages.
type rateLimitTransport struct {
	base       http.RoundTripper
	sleep      func(ctx context.Context, d time.Duration) error
	now        func() time.Time
	maxRetries int
	maxWait    time.Duration
}

func (t *rateLimitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 {
			r = req.Clone(ctx)
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return nil, fmt.Errorf("replay request body: %w", err)
				}
				r.Body = body
			}
		}
		resp, err := t.base.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		wait, limited := t.rateLimited(resp)
		if !limited {
			stripRateHeaders(resp.Header)
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if attempt > t.maxRetries || wait > t.maxWait {
			return nil, &RateLimitError{Wait: wait, Attempts: attempt}
		}
		if err := t.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("wait for rate limit: %w", err)
		}
	}
}

// rateLimited reports whether resp is a rate-limit refusal and how long GitHub asks to wait.
// Documented rules (docs.github.com "Rate limits for the REST API"): honour retry-after; else if
// x-ratelimit-remaining is 0 wait until x-ratelimit-reset; else wait at least a minute.
func (t *rateLimitTransport) rateLimited(resp *http.Response) (time.Duration, bool) {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusForbidden {
		return 0, false
	}
	h := resp.Header
	if s := h.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n >= 0 {
			return time.Duration(n) * time.Second, true
		}
	}
	if h.Get("X-RateLimit-Remaining") == "0" {
		if n, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			d := time.Unix(n, 0).Sub(t.now()) + time.Second
			return max(d, time.Second), true
		}
		return time.Minute, true
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return time.Minute, true
	}
	// A 403 without rate headers is a rate limit only when its message says so; otherwise it is a
	// permission refusal the caller maps (e.g. "Resource not accessible by integration").
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if err == nil && bytes.Contains(bytes.ToLower(data), []byte("rate limit")) {
		return time.Minute, true
	}
	return 0, false
}

func stripRateHeaders(h http.Header) {
	for _, k := range []string{"X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Limit", "X-RateLimit-Used", "Retry-After"} {
		h.Del(k)
	}
}

// sleepCtx waits for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
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

// isRateLimit reports whether err is our rate-limit error.
func isRateLimit(err error) bool {
	var rl *RateLimitError
	return errors.As(err, &rl)
}
