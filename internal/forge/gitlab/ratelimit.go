package gitlab

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RateLimitError is returned (wrapped) when GitLab kept refusing a request for its rate limit after every
// allowed retry, or asked for a longer wait than allowed.
type RateLimitError struct {
	// Wait is how long GitLab asked to wait.
	Wait time.Duration
	// Attempts is the number of requests sent.
	Attempts int
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("rate limited by GitLab after %d attempts (asked to wait %s)", e.Attempts, e.Wait)
}

// Hint says what to do about it.
func (e *RateLimitError) Hint() string {
	return "re-run the job later, or ask the instance administrator about the authenticated API rate limit"
}

// retryTransport retries requests GitLab answers with 429 Too Many Requests, waiting as long as
// Retry-After (or RateLimit-Reset) says, a bounded number of times and never past ctx. A 429 means the
// request was not processed, so retrying a POST cannot create a note twice. It owns rate limiting alone:
// client-go's retries are off and the RateLimit-* headers are stripped from the answers it passes on, so
// that client-go's own limiter never engages. It also drops an empty PRIVATE-TOKEN header, so that a
// missing token reads public projects instead of being refused outright.
type retryTransport struct {
	base       http.RoundTripper
	sleep      func(ctx context.Context, d time.Duration) error
	now        func() time.Time
	maxRetries int
	maxWait    time.Duration
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
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
		for _, h := range []string{"Private-Token", "Job-Token"} {
			if v, ok := r.Header[h]; ok && (len(v) == 0 || v[0] == "") {
				r.Header.Del(h)
			}
		}
		resp, err := t.base.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusTooManyRequests {
			stripRateHeaders(resp.Header)
			return resp, nil
		}
		wait := t.retryAfter(resp.Header, attempt)
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

// retryAfter reads how long GitLab asks to wait: Retry-After (seconds or an HTTP date), else
// RateLimit-Reset (a Unix time), else an exponential 1 s, 2 s, 4 s... (GitLab docs "Rate limits").
func (t *retryTransport) retryAfter(h http.Header, attempt int) time.Duration {
	if s := strings.TrimSpace(h.Get("Retry-After")); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			return time.Duration(n) * time.Second
		}
		if at, err := http.ParseTime(s); err == nil {
			return max(at.Sub(t.now()), 0)
		}
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(h.Get("RateLimit-Reset")), 10, 64); err == nil && n > 0 {
		return max(time.Unix(n, 0).Sub(t.now()), time.Second)
	}
	return time.Second << min(attempt-1, 6)
}

func stripRateHeaders(h http.Header) {
	for k := range h {
		if strings.HasPrefix(strings.ToLower(k), "ratelimit-") {
			h.Del(k)
		}
	}
	h.Del("Retry-After")
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
