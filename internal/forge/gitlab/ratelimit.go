package gitlab

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/schemagate/schemagate/internal/forge"
)

// RateLimitError is returned (wrapped) when GitLab kept refusing a request for its rate limit.
type RateLimitError = forge.RateLimitError

const rateLimitFix = "re-run the job later, or ask the instance administrator about the authenticated API rate limit"

// newRetryTransport retries requests GitLab answers with 429 Too Many Requests, waiting as long as
// Retry-After (or RateLimit-Reset) says, a bounded number of times and never past ctx. A 429 means the
// request was not processed, so retrying a POST cannot create a note twice. It owns rate limiting alone:
// client-go's retries are off and the RateLimit-* headers are stripped from the answers it passes on, so
// that client-go's own limiter never engages. It also drops an empty PRIVATE-TOKEN header, so that a
// missing token reads public projects instead of being refused outright.
func newRetryTransport(base http.RoundTripper, opts Options) *forge.RetryTransport {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &forge.RetryTransport{
		Base: base,
		Limited: func(resp *http.Response, attempt int) (time.Duration, bool) {
			if resp.StatusCode != http.StatusTooManyRequests {
				return 0, false
			}
			return retryAfter(resp.Header, attempt, now()), true
		},
		Strip: stripRateHeaders,
		Prepare: func(r *http.Request) {
			for _, h := range []string{"Private-Token", "Job-Token"} {
				if v, ok := r.Header[h]; ok && (len(v) == 0 || v[0] == "") {
					r.Header.Del(h)
				}
			}
		},
		Exhausted: func(wait time.Duration, attempts int) error {
			return &RateLimitError{Host: "GitLab", Wait: wait, Attempts: attempts, Fix: rateLimitFix}
		},
		Sleep:      opts.Sleep,
		MaxRetries: opts.MaxRetries,
		MaxWait:    opts.MaxWait,
	}
}

// retryAfter reads how long GitLab asks to wait: Retry-After (seconds or an HTTP date), else
// RateLimit-Reset (a Unix time), else an exponential 1 s, 2 s, 4 s... (GitLab docs "Rate limits").
func retryAfter(h http.Header, attempt int, now time.Time) time.Duration {
	if s := strings.TrimSpace(h.Get("Retry-After")); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			return time.Duration(n) * time.Second
		}
		if at, err := http.ParseTime(s); err == nil {
			return max(at.Sub(now), 0)
		}
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(h.Get("RateLimit-Reset")), 10, 64); err == nil && n > 0 {
		return max(time.Unix(n, 0).Sub(now), time.Second)
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
