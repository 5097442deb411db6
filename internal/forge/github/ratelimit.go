package github

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/schemagate/schemagate/internal/forge"
)

// RateLimitError is returned (wrapped) when GitHub kept refusing a request for its rate limit.
type RateLimitError = forge.RateLimitError

const rateLimitFix = "re-run the job later, or use a token with a higher rate limit (a GitHub App installation token)"

// newRateLimitTransport retries requests GitHub answers as rate-limited (HTTP 429, or 403 with
// Retry-After, x-ratelimit-remaining: 0 or a secondary-rate-limit message), waiting as long as GitHub
// asks, a bounded number of times. It owns rate limiting alone: it strips the rate headers from the
// answers it passes on so that go-github's own client-side gate (which refuses requests until the reset
// time without asking) never engages.
func newRateLimitTransport(base http.RoundTripper, opts Options) *forge.RetryTransport {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &forge.RetryTransport{
		Base:    base,
		Limited: func(resp *http.Response, _ int) (time.Duration, bool) { return rateLimited(resp, now()) },
		Strip:   stripRateHeaders,
		Exhausted: func(wait time.Duration, attempts int) error {
			return &RateLimitError{Host: "GitHub", Wait: wait, Attempts: attempts, Fix: rateLimitFix}
		},
		Sleep:      opts.Sleep,
		MaxRetries: opts.MaxRetries,
		MaxWait:    opts.MaxWait,
	}
}

// rateLimited reports whether resp is a rate-limit refusal and how long GitHub asks to wait.
// Documented rules (docs.github.com "Rate limits for the REST API"): honour retry-after; else if
// x-ratelimit-remaining is 0 wait until x-ratelimit-reset; else wait at least a minute.
func rateLimited(resp *http.Response, now time.Time) (time.Duration, bool) {
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
			d := time.Unix(n, 0).Sub(now) + time.Second
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
