package forge

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

var errExhausted = errors.New("exhausted")

// limitedTransport answers 429 to the first n requests and 200 after, recording the bodies and waits.
func limitedTransport(n int, wait time.Duration) (*RetryTransport, *[]string, *[]time.Duration) {
	var bodies []string
	var slept []time.Duration
	calls := 0
	t := &RetryTransport{
		Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			b, _ := io.ReadAll(r.Body)
			bodies = append(bodies, string(b))
			calls++
			code := http.StatusOK
			if calls <= n {
				code = http.StatusTooManyRequests
			}
			return &http.Response{StatusCode: code, Header: http.Header{"X-Rate": {"1"}}, Body: io.NopCloser(strings.NewReader("{}"))}, nil
		}),
		Limited: func(resp *http.Response, attempt int) (time.Duration, bool) {
			return wait, resp.StatusCode == http.StatusTooManyRequests
		},
		Strip:     func(h http.Header) { h.Del("X-Rate") },
		Exhausted: func(time.Duration, int) error { return errExhausted },
		Sleep: func(_ context.Context, d time.Duration) error {
			slept = append(slept, d)
			return nil
		},
		MaxRetries: 2,
		MaxWait:    time.Minute,
	}
	return t, &bodies, &slept
}

func TestRetryTransport(t *testing.T) {
	post := func() *http.Request {
		r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/notes", strings.NewReader(`{"body":"x"}`))
		return r
	}
	t.Run("retries then succeeds, replaying the body", func(t *testing.T) {
		tr, bodies, slept := limitedTransport(2, 3*time.Second)
		resp, err := tr.RoundTrip(post())
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("RoundTrip = %v, %v", resp, err)
		}
		if len(*bodies) != 3 || (*bodies)[2] != `{"body":"x"}` || len(*slept) != 2 || (*slept)[0] != 3*time.Second {
			t.Errorf("bodies %q, slept %v", *bodies, *slept)
		}
		if resp.Header.Get("X-Rate") != "" {
			t.Error("rate header not stripped from the answer")
		}
	})
	t.Run("gives up after MaxRetries", func(t *testing.T) {
		tr, bodies, _ := limitedTransport(10, time.Second)
		if _, err := tr.RoundTrip(post()); !errors.Is(err, errExhausted) {
			t.Fatalf("err = %v, want the Exhausted error", err)
		}
		if len(*bodies) != 3 {
			t.Errorf("%d attempts, want 3 (1 + MaxRetries)", len(*bodies))
		}
	})
	t.Run("a wait beyond MaxWait fails at once", func(t *testing.T) {
		tr, bodies, slept := limitedTransport(1, time.Hour)
		if _, err := tr.RoundTrip(post()); !errors.Is(err, errExhausted) {
			t.Fatalf("err = %v", err)
		}
		if len(*bodies) != 1 || len(*slept) != 0 {
			t.Errorf("%d attempts, %d sleeps; want 1 and 0", len(*bodies), len(*slept))
		}
	})
	t.Run("a cancelled context stops the wait", func(t *testing.T) {
		tr, _, _ := limitedTransport(1, time.Second)
		tr.Sleep = nil // the real timer
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r := post().WithContext(ctx)
		if _, err := tr.RoundTrip(r); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}

// TestMemo: a lookup runs once per key; its error is remembered as its value is.
func TestMemo(t *testing.T) {
	var m Memo[string, int]
	calls := 0
	look := func(v int, err error) func() (int, error) {
		return func() (int, error) { calls++; return v, err }
	}
	for range 2 {
		if v, err := m.Get("a", look(1, nil)); v != 1 || err != nil {
			t.Fatalf("a: %d %v", v, err)
		}
		if _, err := m.Get("b", look(0, errors.New("gone"))); err == nil || err.Error() != "gone" {
			t.Fatalf("b: %v", err)
		}
	}
	if calls != 2 {
		t.Errorf("%d lookups for two keys asked twice each, want 2", calls)
	}
}

func TestRateLimitErrorCountsAttempts(t *testing.T) {
	for n, want := range map[int]string{1: "rate limited by GitHub after 1 attempt (asked", 4: "rate limited by GitHub after 4 attempts (asked"} {
		if got := (&RateLimitError{Host: "GitHub", Attempts: n, Wait: time.Hour}).Error(); !strings.Contains(got, want) {
			t.Errorf("%d attempts: %q, want %q", n, got, want)
		}
	}
}

// TestRetryTransportGatewayErrors: a GET answered 502, 503 or 504 is sent again after the backoff, a
// bounded number of times; a POST so answered is not (the host may have done it).
func TestRetryTransportGatewayErrors(t *testing.T) {
	for _, tt := range []struct {
		name      string
		method    string
		codes     []int // the answers in turn; 200 after them
		wantCode  int
		wantSends int
	}{
		{name: "GET after a 502", method: http.MethodGet, codes: []int{502}, wantCode: 200, wantSends: 2},
		{name: "GET after 503 then 504", method: http.MethodGet, codes: []int{503, 504}, wantCode: 200, wantSends: 3},
		{name: "GET gives up with the last answer", method: http.MethodGet, codes: []int{502, 502, 502, 502}, wantCode: 502, wantSends: 3},
		{name: "GET after a 500 is not resent", method: http.MethodGet, codes: []int{500}, wantCode: 500, wantSends: 1},
		{name: "POST after a 502 is not resent", method: http.MethodPost, codes: []int{502}, wantCode: 502, wantSends: 1},
		{name: "PUT after a 503 is not resent", method: http.MethodPut, codes: []int{503}, wantCode: 503, wantSends: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sends := 0
			var slept []time.Duration
			tr := &RetryTransport{
				Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
					sends++
					code := http.StatusOK
					if sends <= len(tt.codes) {
						code = tt.codes[sends-1]
					}
					return &http.Response{StatusCode: code, Status: http.StatusText(code), Header: http.Header{}, Body: io.NopCloser(strings.NewReader("{}"))}, nil
				}),
				Limited:    func(*http.Response, int) (time.Duration, bool) { return 0, false },
				Sleep:      func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil },
				Backoff:    func(attempt int) time.Duration { return time.Duration(attempt) * time.Millisecond },
				MaxRetries: 2,
			}
			r, _ := http.NewRequest(tt.method, "http://127.0.0.1/notes", strings.NewReader(`{"body":"x"}`))
			resp, err := tr.RoundTrip(r)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantCode || sends != tt.wantSends || len(slept) != tt.wantSends-1 {
				t.Errorf("answer %d after %d sends, %d pauses (%v); want %d after %d", resp.StatusCode, sends, len(slept), slept, tt.wantCode, tt.wantSends)
			}
			if len(slept) > 1 && slept[1] != 2*time.Millisecond {
				t.Errorf("pauses %v, want the Backoff's", slept)
			}
		})
	}
}
