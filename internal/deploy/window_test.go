package deploy

import (
	"strings"
	"testing"
	"time"

	"github.com/schemagate/schemagate/internal/config"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load zone: %v", err)
	}
	return loc
}

func TestScheduleNextAcrossDST(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		zone string
		cron string
		dur  time.Duration
		now  string // RFC 3339
		// want are the starts (RFC 3339 with offset) and the elapsed durations of the next windows.
		want []string
	}{
		{
			name: "berlin spring forward keeps 01:00 local",
			zone: "Europe/Berlin", cron: "0 1 * * *", dur: 2 * time.Hour,
			now:  "2026-03-28T12:00:00Z",
			want: []string{"2026-03-29T01:00:00+01:00", "2026-03-30T01:00:00+02:00"},
		},
		{
			name: "berlin spring forward start in the skipped hour opens after the gap",
			zone: "Europe/Berlin", cron: "30 2 * * *", dur: time.Hour,
			now:  "2026-03-28T12:00:00Z",
			want: []string{"2026-03-29T03:30:00+02:00", "2026-03-30T02:30:00+02:00"},
		},
		{
			name: "berlin fall back repeated hour opens once",
			zone: "Europe/Berlin", cron: "30 2 * * *", dur: time.Hour,
			now:  "2026-10-24T12:00:00Z",
			want: []string{"2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"},
		},
		{
			name: "new york spring forward",
			zone: "America/New_York", cron: "0 22 * * 6", dur: 3 * time.Hour,
			now:  "2026-03-02T00:00:00Z",
			want: []string{"2026-03-07T22:00:00-05:00", "2026-03-14T22:00:00-04:00"},
		},
		{
			name: "new york fall back repeated hour",
			zone: "America/New_York", cron: "30 1 * * *", dur: 30 * time.Minute,
			now:  "2026-10-31T12:00:00Z",
			want: []string{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"},
		},
		{
			name: "new york spring forward skipped start",
			zone: "America/New_York", cron: "15 2 * * *", dur: time.Hour,
			now:  "2026-03-07T12:00:00Z",
			want: []string{"2026-03-08T03:15:00-04:00", "2026-03-09T02:15:00-04:00"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := NewSchedule(&config.Environment{TimeZone: tc.zone, Windows: []config.Window{{Cron: tc.cron, Duration: tc.dur}}})
			if err != nil {
				t.Fatal(err)
			}
			now, _ := time.Parse(time.RFC3339, tc.now)
			got := s.Next(now, len(tc.want))
			if len(got) != len(tc.want) {
				t.Fatalf("got %d windows, want %d: %v", len(got), len(tc.want), got)
			}
			loc := mustZone(t, tc.zone)
			for i, w := range tc.want {
				want, _ := time.Parse(time.RFC3339, w)
				if !got[i].Start.Equal(want) {
					t.Errorf("window %d starts %s, want %s", i, got[i].Start.In(loc).Format(time.RFC3339), w)
				}
				if d := got[i].End.Sub(got[i].Start); d != tc.dur {
					t.Errorf("window %d lasts %s, want %s", i, d, tc.dur)
				}
			}
		})
	}
}

func TestScheduleOpenAndBlackout(t *testing.T) {
	t.Parallel()
	env := &config.Environment{
		TimeZone:  "Europe/Berlin",
		Windows:   []config.Window{{Cron: "0 22 * * 1-5", Duration: 3 * time.Hour}},
		Blackouts: []config.Blackout{{From: "2026-12-21", To: "2026-12-23", Reason: "freeze"}},
	}
	s, err := NewSchedule(env)
	if err != nil {
		t.Fatal(err)
	}
	loc := mustZone(t, "Europe/Berlin")
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		name string
		t    time.Time
		open bool
	}{
		{"inside monday window", at("2026-12-14 23:00"), true},
		{"after midnight still inside", at("2026-12-15 00:59"), true},
		{"window end excluded", at("2026-12-15 01:00"), false},
		{"saturday closed", at("2026-12-19 23:00"), false},
		{"blackout day", at("2026-12-22 23:00"), false},
		{"last blackout window cut at midnight", at("2026-12-23 23:30"), false},
		{"window running into the day after blackout opens at midnight", at("2026-12-24 00:30"), true},
	}
	for _, tc := range tests {
		if _, open := s.Open(tc.t); open != tc.open {
			t.Errorf("%s: open = %v, want %v", tc.name, open, tc.open)
		}
	}
	next := s.Next(at("2026-12-21 08:00"), 2)
	if len(next) != 2 || !next[0].Start.Equal(at("2026-12-24 00:00")) || !next[1].Start.Equal(at("2026-12-24 22:00")) {
		t.Errorf("next windows around the blackout = %v", next)
	}
}

func TestNewScheduleErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  config.Environment
	}{
		{"bad cron", config.Environment{Windows: []config.Window{{Cron: "61 * * * *", Duration: time.Hour}}}},
		{"every", config.Environment{Windows: []config.Window{{Cron: "@every 1h", Duration: time.Hour}}}},
		{"zone in cron", config.Environment{Windows: []config.Window{{Cron: "CRON_TZ=UTC 0 1 * * *", Duration: time.Hour}}}},
		{"bad zone", config.Environment{TimeZone: "Mars/Olympus", Windows: []config.Window{{Cron: "0 1 * * *", Duration: time.Hour}}}},
		{"zero duration", config.Environment{Windows: []config.Window{{Cron: "0 1 * * *"}}}},
		{"bad blackout", config.Environment{Blackouts: []config.Blackout{{From: "2026-13-01", To: "2026-12-01"}}}},
	}
	for _, tc := range tests {
		if _, err := NewSchedule(&tc.env); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestScheduleBlackoutsWithoutWindows(t *testing.T) {
	t.Parallel()
	s, err := NewSchedule(&config.Environment{Blackouts: []config.Blackout{
		{From: "2026-11-30", To: "2026-12-01", Reason: "year-end freeze"}, {From: "2026-12-02", To: "2026-12-02"}}})
	if err != nil {
		t.Fatal(err)
	}
	in := time.Date(2026, 12, 1, 18, 0, 0, 0, time.UTC)
	if _, open := s.Open(in); open {
		t.Error("open in a blackout")
	}
	b, ok := s.Blackout(in)
	if !ok || b.Reason != "year-end freeze" || b.String() != "blackout 2026-11-30 to 2026-12-01 (year-end freeze)" {
		t.Errorf("Blackout = %v, %v", b, ok)
	}
	next := s.Next(in, 3)
	day := func(d int) time.Time { return time.Date(2026, 12, d, 0, 0, 0, 0, time.UTC) }
	if len(next) != 1 || !next[0].Start.Equal(day(3)) || next[0].End.Sub(next[0].Start) < 365*24*time.Hour {
		t.Errorf("Next in back-to-back blackouts = %v, want one period from Dec 3 on", next)
	}
	if next := s.Next(day(10), 1); next != nil {
		t.Errorf("Next with no blackout ahead = %v, want none (any time)", next)
	}
}

func TestScheduleNextListsAWindowOpenForDays(t *testing.T) {
	t.Parallel()
	s, err := NewSchedule(&config.Environment{Windows: []config.Window{{Cron: "0 0 * * 6", Duration: 72 * time.Hour}}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 7, 23, 0, 0, 0, time.UTC) // Monday, 71 h into the window opened on Saturday
	next := s.Next(now, 1)
	if len(next) != 1 || !next[0].Start.Equal(time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Next = %v, want the open window (from Saturday Dec 5) first", next)
	}
}

// TestScheduleSteppedDayFieldsCombineWithAnd: as in Vixie cron, a day-of-month field that starts with
// '*' (also "*/2") combines with the day of week by AND: "0 22 */2 * 1" is Mondays that fall on an odd
// date, not every odd date and every Monday. Two restricted fields still combine by OR.
func TestScheduleSteppedDayFieldsCombineWithAnd(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for cron, want := range map[string]string{
		"0 22 */2 * 1":  "2026-12-07 2026-12-21 2027-01-11",
		"0 22 1 * */3":  "2027-05-01 2027-08-01 2027-09-01", // the 1st, when it is a Sunday, Wednesday or Saturday
		"0 22 1,15 * 1": "2026-12-01 2026-12-07 2026-12-14",
	} {
		s, err := NewSchedule(&config.Environment{Windows: []config.Window{{Cron: cron, Duration: time.Hour}}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, w := range s.Next(now, 3) {
			got = append(got, w.Start.Format("2006-01-02"))
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%s: next windows %v, want %s", cron, got, want)
		}
	}
}

// TestScheduleOverlappingOccurrences: occurrences of a window that overlap make one window, in Open and
// Next alike: 01:00 and 03:00 for three hours are open from 01:00 to 06:00; every two hours for three
// hours is a window that never closes, which ends at the search horizon, listed once.
func TestScheduleOverlappingOccurrences(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC)
	s, err := NewSchedule(&config.Environment{TimeZone: "UTC", Windows: []config.Window{{Cron: "0 1,3 * * *", Duration: 3 * time.Hour}}})
	if err != nil {
		t.Fatal(err)
	}
	open, ok := s.Open(now)
	want := Interval{Start: time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)}
	if !ok || open != want {
		t.Fatalf("Open = %v %v, want %v", open, ok, want)
	}
	next := s.Next(now, 3)
	if len(next) != 3 || next[0] != want || next[1].Start != want.Start.Add(24*time.Hour) || next[1].End != want.End.Add(24*time.Hour) {
		t.Fatalf("Next = %v, want %v and the same on the next days", next, want)
	}
	s, err = NewSchedule(&config.Environment{TimeZone: "UTC", Windows: []config.Window{{Cron: "0 */2 * * *", Duration: 3 * time.Hour}}})
	if err != nil {
		t.Fatal(err)
	}
	open, ok = s.Open(now)
	next = s.Next(now, 5)
	if !ok || len(next) != 1 || next[0] != open {
		t.Fatalf("a window that never closes: Open = %v %v, Next = %v; want one window, the same", open, ok, next)
	}
	if days := open.End.Sub(now).Hours() / 24; days < searchDays-3 || days > searchDays+1 {
		t.Fatalf("a window that never closes ends %v, %.0f days ahead; want the search horizon, %d days", open.End, days, searchDays)
	}
}

// TestScheduleMinWindowLeft: with min_window_left, a window may be open and still too short to start a
// migration in; the windows a deploy can start in skip it (and, without windows, the time before a
// blackout counts as the window).
func TestScheduleMinWindowLeft(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		tm, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	s, err := NewSchedule(&config.Environment{Windows: []config.Window{{Cron: "0 3 * * *", Duration: time.Hour}}, MinWindowLeft: 15 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		now       string
		startable bool
		left      time.Duration
		next      string
	}{
		{"2026-05-05 03:00", true, time.Hour, "2026-05-05 03:00"},
		{"2026-05-05 03:45", true, 15 * time.Minute, "2026-05-05 03:00"},
		{"2026-05-05 03:46", false, 14 * time.Minute, "2026-05-06 03:00"},
		{"2026-05-05 04:00", false, 0, "2026-05-06 03:00"},
	}
	for _, tc := range tests {
		_, ok, left := s.Startable(at(tc.now))
		if ok != tc.startable || left != tc.left {
			t.Errorf("%s: startable %v with %s left, want %v with %s", tc.now, ok, left, tc.startable, tc.left)
		}
		if next := s.NextStartable(at(tc.now), 1); len(next) != 1 || !next[0].Start.Equal(at(tc.next)) {
			t.Errorf("%s: next startable %v, want the one at %s", tc.now, next, tc.next)
		}
	}
	if got := s.Next(at("2026-05-05 03:50"), 1); len(got) != 1 || !got[0].Start.Equal(at("2026-05-05 03:00")) {
		t.Errorf("Next %v: the open window is still listed by Next", got)
	}

	// Without windows, a blackout ends the time a deploy has.
	s, err = NewSchedule(&config.Environment{Blackouts: []config.Blackout{{From: "2026-05-06", To: "2026-05-06"}}, MinWindowLeft: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, left := s.Startable(at("2026-05-05 23:30")); ok || left != 30*time.Minute {
		t.Errorf("30 minutes before a blackout: startable %v with %s left", ok, left)
	}
	if _, ok, _ := s.Startable(at("2026-05-05 12:00")); !ok {
		t.Error("12 hours before a blackout: not startable")
	}
	if next := s.NextStartable(at("2026-05-05 23:30"), 1); len(next) != 1 || !next[0].Start.Equal(at("2026-05-07 00:00")) {
		t.Errorf("next startable %v, want the end of the blackout", next)
	}
}

// TestScheduleFrequentWindows: windows that open every minute or hour, and close before the next one
// opens, are answered window by window (Open, Next, Startable), the chain of overlapping occurrences
// aside. See BenchmarkScheduleFrequentWindows for what an answer costs.
func TestScheduleFrequentWindows(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 5, 44, 30, 0, time.UTC)
	for _, tc := range []struct {
		cron  string
		dur   time.Duration
		open  Interval
		next2 time.Time // the start of the window after the open one
	}{
		{"* * * * *", 50 * time.Second, Interval{Start: time.Date(2026, 12, 4, 5, 44, 0, 0, time.UTC), End: time.Date(2026, 12, 4, 5, 44, 50, 0, time.UTC)},
			time.Date(2026, 12, 4, 5, 45, 0, 0, time.UTC)},
		{"0 * * * *", 50 * time.Minute, Interval{Start: time.Date(2026, 12, 4, 5, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 4, 5, 50, 0, 0, time.UTC)},
			time.Date(2026, 12, 4, 6, 0, 0, 0, time.UTC)},
	} {
		s, err := NewSchedule(&config.Environment{TimeZone: "UTC", Windows: []config.Window{{Cron: tc.cron, Duration: tc.dur}}})
		if err != nil {
			t.Fatal(err)
		}
		open, ok := s.Open(now)
		if !ok || open != tc.open {
			t.Errorf("%s: Open = %v %v, want %v", tc.cron, open, ok, tc.open)
		}
		next := s.Next(now, 2)
		if len(next) != 2 || next[0] != tc.open || next[1].Start != tc.next2 || next[1].End != tc.next2.Add(tc.dur) {
			t.Errorf("%s: Next = %v, want %v then the one at %v", tc.cron, next, tc.open, tc.next2)
		}
	}
}

// BenchmarkScheduleFrequentWindows: one Open, as a deploy asks before each migration, of a window that
// opens every minute (it took 20 s of CPU when every such answer followed the windows for two years).
func BenchmarkScheduleFrequentWindows(b *testing.B) {
	s, err := NewSchedule(&config.Environment{TimeZone: "UTC", Windows: []config.Window{{Cron: "* * * * *", Duration: 50 * time.Second}}})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 12, 4, 5, 44, 30, 0, time.UTC)
	for b.Loop() {
		if _, ok := s.Open(now); !ok {
			b.Fatal("not open")
		}
	}
}

// BenchmarkScheduleBackToBackWindows: one Open of a window that opens every minute for a minute, which
// never closes: it is followed to the horizon, both ways.
func BenchmarkScheduleBackToBackWindows(b *testing.B) {
	s, err := NewSchedule(&config.Environment{TimeZone: "UTC", Windows: []config.Window{{Cron: "* * * * *", Duration: time.Minute}}})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 12, 4, 5, 44, 30, 0, time.UTC)
	for b.Loop() {
		if iv, ok := s.Open(now); !ok || !iv.OpenAfter {
			b.Fatalf("Open = %v %v, want open past the horizon", iv, ok)
		}
	}
}

// TestScheduleBackToBackWindows: a window that opens as the one before closes (every hour for an hour,
// every five minutes for five, every minute for a minute) never closes: Open, which the deploy asks,
// and Next, which schemagate window lists, end it at the same time, the horizon, and say that it is
// open past it and was open before the first occurrence read. A blackout still cuts it; in a zone with
// daylight saving time the hour repeated in autumn has no start, and the window closes there.
func TestScheduleBackToBackWindows(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 6, 14, 47, 17, 0, time.UTC)
	far := now.Add(searchDays * 24 * time.Hour)
	for _, tc := range []struct {
		cron string
		dur  time.Duration
	}{{"0 * * * *", time.Hour}, {"*/5 * * * *", 5 * time.Minute}, {"* * * * *", time.Minute}} {
		s, err := NewSchedule(&config.Environment{TimeZone: "UTC", Windows: []config.Window{{Cron: tc.cron, Duration: tc.dur}}, MinWindowLeft: 15 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		open, ok := s.Open(now)
		if !ok || !open.End.Equal(far) || !open.OpenAfter {
			t.Errorf("%s for %s: Open = %v %v, want open past the horizon, %v", tc.cron, tc.dur, open, ok, far)
		}
		if !open.Start.Equal(now.Add(-searchDays*24*time.Hour)) || !open.OpenBefore {
			t.Errorf("%s for %s: Open starts %v (open before: %v), want open since before the horizon back", tc.cron, tc.dur, open.Start, open.OpenBefore)
		}
		if next := s.Next(now, 2); len(next) != 1 || next[0] != open {
			t.Errorf("%s for %s: Next = %v, want only the open window, %v", tc.cron, tc.dur, next, open)
		}
		if _, ok, left := s.Startable(now); !ok || left != far.Sub(now) {
			t.Errorf("%s for %s: Startable %v with %s left, want the horizon", tc.cron, tc.dur, ok, left)
		}
	}

	s, err := NewSchedule(&config.Environment{TimeZone: "UTC", Windows: []config.Window{{Cron: "0 * * * *", Duration: time.Hour}},
		Blackouts: []config.Blackout{{From: "2026-12-10", To: "2026-12-11", Reason: "freeze"}}})
	if err != nil {
		t.Fatal(err)
	}
	day := func(d int) time.Time { return time.Date(2026, 12, d, 0, 0, 0, 0, time.UTC) }
	open, ok := s.Open(now)
	if !ok || !open.End.Equal(day(10)) || open.OpenAfter {
		t.Errorf("before a blackout: Open = %v %v, want it closing at the blackout, %v", open, ok, day(10))
	}
	after := Interval{Start: day(12), End: far, OpenAfter: true}
	if next := s.Next(now, 3); len(next) != 2 || next[0] != open || next[1] != after {
		t.Errorf("around a blackout: Next = %v, want %v then %v", next, open, after)
	}
	if _, ok := s.Open(day(10).Add(12 * time.Hour)); ok {
		t.Error("open in the blackout")
	}
	later := day(12).Add(5 * time.Hour)
	if open, ok := s.Open(later); !ok || open != (Interval{Start: day(12), End: later.Add(searchDays * 24 * time.Hour), OpenAfter: true}) {
		t.Errorf("after the blackout: Open = %v %v, want from its end past the horizon", open, ok)
	}

	s, err = NewSchedule(&config.Environment{TimeZone: "Europe/Berlin", Windows: []config.Window{{Cron: "* * * * *", Duration: time.Minute}}})
	if err != nil {
		t.Fatal(err)
	}
	want := Interval{Start: time.Date(2026, 10, 25, 2, 0, 0, 0, time.UTC), End: time.Date(2027, 10, 31, 1, 0, 0, 0, time.UTC)}
	open, ok = s.Open(now)
	if !ok || !open.Start.Equal(want.Start) || !open.End.Equal(want.End) || open.OpenBefore || open.OpenAfter {
		t.Errorf("every minute in Berlin: Open = %v %v, want %v, between the autumn hours repeated", open, ok, want)
	}
	if next := s.Next(now, 2); len(next) != 2 || next[0] != open || !next[1].Start.Equal(want.End.Add(time.Hour)) {
		t.Errorf("every minute in Berlin: Next = %v, want %v, then from an hour later", next, open)
	}
}
