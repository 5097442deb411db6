package deploy

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// offHook is a maintenance webhook whose on call succeeds and whose off calls answer as answer says
// (given the call's number, from 1); it counts the off calls.
type offHook struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls int
}

func newOffHook(t *testing.T, answer func(call int) int) *offHook {
	h := &offHook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/on":
			w.WriteHeader(http.StatusNoContent)
		case "/off":
			h.mu.Lock()
			h.calls++
			n := h.calls
			h.mu.Unlock()
			code := answer(n)
			if code >= 300 {
				http.Error(w, "upstream restarting", code)
				return
			}
			w.WriteHeader(code)
		default:
			t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *offHook) offCalls() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls
}

// switchOf is the maintenance switch of h.
func (h *offHook) switchOf() *Switch {
	return &Switch{OnAction: &WebhookAction{URL: h.srv.URL + "/on"}, OffAction: &WebhookAction{Method: "DELETE", URL: h.srv.URL + "/off"}}
}

// recordProgress has o's progress output also kept, for the test to read once the run is over.
func recordProgress(t *testing.T, o *Options) func() string {
	var mu sync.Mutex
	var lines []string
	o.Progress = func(msg string) {
		t.Log(msg)
		mu.Lock()
		lines = append(lines, msg)
		mu.Unlock()
	}
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(lines, "\n")
	}
}

// TestDeployMaintenanceOffRetried: the off action fails in a way that may pass (a webhook answering 503
// while what is behind it restarts). It used to be tried once: the run ended with maintenance mode "may
// still be on" and the application down until a person acted. It is now tried again, pausing 2s, 4s, 8s
// and 16s (the fake clock passes them at once), at most five times and not past a minute after the
// first attempt; the progress output says so at each retry, and a switch that never goes off is
// reported as before, saying how many attempts were made.
func TestDeployMaintenanceOffRetried(t *testing.T) {
	t.Parallel()
	retries := []string{"retrying in 2s (attempt 2 of 5)", "retrying in 4s (attempt 3 of 5)", "retrying in 8s (attempt 4 of 5)", "retrying in 16s (attempt 5 of 5)"}
	for _, tc := range []struct {
		name   string
		answer func(call int) int
		// took is how long each off call takes, on the fake clock.
		took     time.Duration
		calls    int
		off      bool
		progress []string
		err      string
	}{
		{name: "503 twice, then 200", answer: func(n int) int {
			if n <= 2 {
				return 503
			}
			return 200
		},
			calls: 3, off: true, progress: retries[:2]},
		{name: "always 503", answer: func(int) int { return 503 },
			calls: 5, progress: retries, err: "(the last of 5 attempts)"},
		// A refusal of the request itself (a wrong token) would come again: tried once.
		{name: "401", answer: func(int) int { return 401 }, calls: 1, err: "upstream restarting"},
		{name: "429, then 200", answer: func(n int) int {
			if n == 1 {
				return 429
			}
			return 200
		},
			calls: 2, off: true, progress: retries[:1]},
		// The third attempt would start 66s after the first: no more.
		{name: "always 503 after 20s", answer: func(int) int { return 503 }, took: 20 * time.Second,
			calls: 3, progress: retries[:2], err: "(the last of 3 attempts)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			clock := &fakeClock{now: time.Now()}
			hook := newOffHook(t, func(n int) int { clock.advance(tc.took); return tc.answer(n) })
			o := tg.options(t, folder(t, goodMigrations), "run-1")
			o.Maintenance = hook.switchOf()
			o.Clock, o.offPause = clock, 0 // the pauses as they are, which the fake clock passes at once
			progress := recordProgress(t, &o)
			res, err := runBounded(t, o)
			if err != nil || res.Outcome != OutcomeDeployed || !res.OK {
				t.Fatalf("err %v, outcome %s; want deployed", err, res.Outcome)
			}
			if got := hook.offCalls(); got != tc.calls {
				t.Errorf("the off webhook was called %d times, want %d", got, tc.calls)
			}
			out := progress()
			for i, want := range tc.progress {
				if got := strings.Count(out, want); got != 1 {
					t.Errorf("progress says %q %d times, want once:\n%s", want, got, out)
				}
				if i == 0 && !strings.Contains(out, "turn maintenance mode off (webhook DELETE "+hook.srv.URL+"/off): HTTP "+strconv.Itoa(tc.answer(1))+": upstream restarting; "+want) {
					t.Errorf("progress does not say why it retries:\n%s", out)
				}
			}
			if got := strings.Count(out, "retrying in"); got != len(tc.progress) {
				t.Errorf("%d retries in the progress output, want %d:\n%s", got, len(tc.progress), out)
			}
			m := res.Maintenance
			if tc.off {
				if m == nil || m.Off == nil || m.Error != "" || m.LeftOn() {
					t.Errorf("maintenance %+v; want off", m)
				}
				if !strings.HasSuffix(out, "maintenance mode off") || strings.Contains(out, "could not turn maintenance mode off") {
					t.Errorf("progress does not end with maintenance mode off:\n%s", out)
				}
				if got := tg.value(t, "SELECT maintenance_on::text FROM schemagate.schemagate_runs WHERE run_id = 'run-1'"); got != "false" {
					t.Errorf("run recorded with maintenance_on %s", got)
				}
				return
			}
			if !m.LeftOn() {
				t.Fatalf("maintenance %+v; want it reported as left on", m)
			}
			for _, want := range []string{"turn maintenance mode off (webhook DELETE", "HTTP " + strconv.Itoa(tc.answer(1)) + ": upstream restarting", tc.err} {
				if !strings.Contains(m.Error, want) {
					t.Errorf("maintenance error %q does not say %q", m.Error, want)
				}
			}
			if !strings.HasPrefix(m.Hint, "turn it off by hand: run the maintenance.off action (webhook DELETE") {
				t.Errorf("maintenance hint %q", m.Hint)
			}
			if !strings.Contains(out, "could not turn maintenance mode off, it may still be on: turn maintenance mode off (webhook DELETE") || !strings.HasSuffix(out, tc.err) {
				t.Errorf("progress does not end with the failure and its attempts:\n%s", out)
			}
			if got := tg.value(t, "SELECT maintenance_on::text FROM schemagate.schemagate_runs WHERE run_id = 'run-1'"); got != "true" {
				t.Errorf("run recorded with maintenance_on %s; the next deploy would not turn it off", got)
			}
		})
	}
}

// TestDeployMaintenanceOffSQLRetried: an off SQL action that waits for a lock an application session
// holds on the flag's row gives up after lock_timeout; it is tried again, and goes through once the
// session has ended. SQL that the server refuses as wrong (a misspelt table), SQL whose PL/pgSQL raises
// an exception and SQL that changed no row are not tried again: they would fail, or change nothing,
// again. The sequence off_calls counts the
// attempts (nextval is not rolled back).
func TestDeployMaintenanceOffSQLRetried(t *testing.T) {
	t.Parallel()
	const count = "SELECT nextval('off_calls'); "
	for _, tc := range []struct {
		name, off string
		hold      bool
		calls     string
		check     func(t *testing.T, m *MaintenanceResult)
	}{
		{name: "lock wait", off: count + "UPDATE app_settings SET value = 'off' WHERE key = 'maintenance'", hold: true, calls: "2",
			check: func(t *testing.T, m *MaintenanceResult) {
				if m.Off == nil || m.Error != "" || m.Warning != "" {
					t.Errorf("maintenance %+v; want off", m)
				}
			}},
		{name: "misspelt table", off: count + "UPDATE app_setings SET value = 'off' WHERE key = 'maintenance'", calls: "1",
			check: func(t *testing.T, m *MaintenanceResult) {
				if !m.LeftOn() || !strings.Contains(m.Error, "app_setings") || strings.Contains(m.Error, "attempts") {
					t.Errorf("maintenance %+v; want left on after one attempt", m)
				}
			}},
		// A PL/pgSQL RAISE (class P0) raises again on the same data: it used to be tried five times,
		// half a minute lost before the deploy said so.
		{name: "raise exception", off: count + "DO $$ BEGIN RAISE EXCEPTION 'the flag service is down'; END $$", calls: "1",
			check: func(t *testing.T, m *MaintenanceResult) {
				if !m.LeftOn() || !strings.Contains(m.Error, "the flag service is down") || strings.Contains(m.Error, "attempts") {
					t.Errorf("maintenance %+v; want left on after one attempt", m)
				}
			}},
		{name: "no row", off: count + "UPDATE app_settings SET value = 'off' WHERE key = 'maintenace'", calls: "1",
			check: func(t *testing.T, m *MaintenanceResult) {
				if m.Off == nil || !strings.Contains(m.Warning, "changed no row") || m.LeftOn() {
					t.Errorf("maintenance %+v; want a warning", m)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			tg.exec(t, "CREATE SEQUENCE off_calls")
			o := tg.options(t, folder(t, goodMigrations), "run-1")
			o.Config.LockTimeout = 500 * time.Millisecond
			sqlSwitch(t, tg, &o, "UPDATE app_settings SET value = 'on' WHERE key = 'maintenance'", tc.off)
			progress := recordProgress(t, &o)
			var release func()
			if tc.hold {
				// The application's session takes the flag's row while the migrations run, and ends once
				// the off action has given up waiting for it.
				p := o.Progress
				o.Progress = func(msg string) {
					p(msg)
					if strings.HasPrefix(msg, "applying 1/") {
						release = tg.holdLocks(t, "SELECT 1 FROM app_settings WHERE key = 'maintenance' FOR UPDATE", "app-worker")
					}
					if strings.Contains(msg, "retrying in") {
						release()
					}
				}
			}
			res, err := runBounded(t, o)
			if err != nil || res.Outcome != OutcomeDeployed {
				t.Fatalf("err %v, outcome %s; want deployed", err, res.Outcome)
			}
			if tc.hold && release == nil {
				t.Fatal("the deploy never reached migration 1")
			}
			if got := tg.value(t, "SELECT last_value::text FROM off_calls"); got != tc.calls {
				t.Errorf("the off SQL ran %s times, want %s:\n%s", got, tc.calls, progress())
			}
			if tc.hold && !strings.Contains(progress(), "a row of public.app_settings is locked by pid") {
				t.Errorf("the retry does not name the lock:\n%s", progress())
			}
			tc.check(t, res.Maintenance)
		})
	}
}

// TestDeployMaintenanceOffRetriesStopAtSignal: a run that a signal stopped still turns maintenance mode
// off, once, as before (finish runs without the run's cancellation), but does not try again when that
// fails: the job is being cancelled, and its runner may kill it at any moment. Its error says why it
// was not tried again.
func TestDeployMaintenanceOffRetriesStopAtSignal(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	hook := newOffHook(t, func(int) int { return 503 })
	o := tg.options(t, folder(t, goodMigrations), "run-1")
	o.Maintenance = hook.switchOf()
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	progress := recordProgress(t, &o)
	p := o.Progress
	o.Progress = func(msg string) {
		p(msg)
		if strings.HasPrefix(msg, "applying 1/") {
			cancel(errors.New("received SIGTERM"))
		}
	}
	res, err := Run(ctx, o)
	if err == nil {
		t.Fatalf("outcome %s: the signal did not stop the run", res.Outcome)
	}
	if got := hook.offCalls(); got != 1 {
		t.Errorf("the off webhook was called %d times, want once", got)
	}
	if strings.Contains(progress(), "retrying in") {
		t.Errorf("progress:\n%s", progress())
	}
	m := res.Maintenance
	if !m.LeftOn() || !strings.Contains(m.Error, "HTTP 503") || !strings.Contains(m.Error, "(attempt 1 of 5; not tried again: received SIGTERM)") {
		t.Errorf("maintenance %+v; want left on, saying that the signal stopped the retries", m)
	}
}
