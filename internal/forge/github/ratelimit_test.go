package github

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRateLimited(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	resp := func(code int, h map[string]string, body string) *http.Response {
		r := &http.Response{StatusCode: code, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}
		for k, v := range h {
			r.Header.Set(k, v)
		}
		return r
	}
	tests := []struct {
		name    string
		resp    *http.Response
		limited bool
		wait    time.Duration
	}{
		{"ok", resp(200, nil, "{}"), false, 0},
		{"retry-after", resp(403, map[string]string{"Retry-After": "7"}, ""), true, 7 * time.Second},
		{"429 retry-after", resp(429, map[string]string{"Retry-After": "2"}, ""), true, 2 * time.Second},
		{"primary reset", resp(403, map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(now.Unix()+30, 10)}, ""), true, 31 * time.Second},
		{"reset in the past", resp(403, map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(now.Unix()-30, 10)}, ""), true, time.Second},
		{"429 bare", resp(429, nil, ""), true, time.Minute},
		{"secondary message", resp(403, nil, `{"message":"You have exceeded a secondary rate limit"}`), true, time.Minute},
		{"integration refusal", resp(403, nil, `{"message":"Resource not accessible by integration"}`), false, 0},
		{"not found", resp(404, nil, `{"message":"Not Found"}`), false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wait, limited := rateLimited(tt.resp, now)
			if limited != tt.limited || wait != tt.wait {
				t.Errorf("rateLimited = %v, %v; want %v, %v", wait, limited, tt.wait, tt.limited)
			}
			if !limited {
				body, _ := io.ReadAll(tt.resp.Body)
				if tt.resp.StatusCode == 403 && len(body) == 0 {
					t.Errorf("the body of a 403 that is not a rate limit was lost")
				}
			}
		})
	}
}

func TestRateLimitReplaysBody(t *testing.T) {
	var bodies []string
	calls := 0
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		calls++
		h := http.Header{}
		code := 201
		if calls == 1 {
			code = 429
			h.Set("Retry-After", "1")
		}
		return &http.Response{StatusCode: code, Header: h, Body: io.NopCloser(strings.NewReader("{}"))}, nil
	})
	tr := newRateLimitTransport(base, Options{MaxRetries: 3, MaxWait: time.Minute,
		Sleep: func(context.Context, time.Duration) error { return nil }})
	req, _ := http.NewRequest("POST", "http://127.0.0.1/x", strings.NewReader(`{"body":"hi"}`))
	resp, err := tr.RoundTrip(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("RoundTrip = %v, %v", resp, err)
	}
	if len(bodies) != 2 || bodies[1] != `{"body":"hi"}` {
		t.Errorf("bodies sent = %q, want the body twice", bodies)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
