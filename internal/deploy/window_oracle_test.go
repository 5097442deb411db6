package deploy

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/schemagate/schemagate/internal/config"
)

// TestScheduleBackToBackWindowHoldsAShorterOne: a 25-hour window that opens every day at 05:00 never
// closes, and the 20:00 hour inside it changes nothing: Open and Next say it was open since before the
// horizon back, not since the last 05:00 (the occurrence that holds 20:00 and the next 05:00 together
// opened before the range read and was followed back from the first run only).
func TestScheduleBackToBackWindowHoldsAShorterOne(t *testing.T) {
	t.Parallel()
	s, err := NewSchedule(&config.Environment{TimeZone: "UTC", Windows: []config.Window{
		{Cron: "0 5 * * *", Duration: 25 * time.Hour}, {Cron: "0 20 * * *", Duration: time.Hour}}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2027, 3, 14, 18, 4, 0, 0, time.UTC)
	want := Interval{Start: now.Add(-horizon), End: now.Add(horizon), OpenBefore: true, OpenAfter: true}
	if open, ok := s.Open(now); !ok || !sameInterval(open, want) {
		t.Errorf("Open = %v %v, want %v", open, ok, want)
	}
	if next := s.Next(now, 2); len(next) != 1 || !sameInterval(next[0], want) {
		t.Errorf("Next = %v, want only %v", next, want)
	}
}

// TestScheduleWindowAcrossTheHorizon: a window that opens before the horizon and closes after it, touching
// no other, keeps its end and is not said to run back to back: 0 0 * * * for 3 hours, 800 days after
// 2026-01-05 01:00, ends at 03:00.
func TestScheduleWindowAcrossTheHorizon(t *testing.T) {
	t.Parallel()
	s, err := NewSchedule(&config.Environment{TimeZone: "UTC", Windows: []config.Window{{Cron: "0 0 * * *", Duration: 3 * time.Hour}}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 5, 1, 0, 0, 0, time.UTC)
	want := Interval{Start: time.Date(2028, 3, 15, 0, 0, 0, 0, time.UTC), End: time.Date(2028, 3, 15, 3, 0, 0, 0, time.UTC)}
	next := s.Next(now, 900)
	if len(next) != searchDays+1 || !sameInterval(next[len(next)-1], want) {
		t.Fatalf("Next: %d windows, the last %v; want %d, the last %v", len(next), next[len(next)-1], searchDays+1, want)
	}
}

// TestScheduleMatchesEveryOccurrence compares Open and Next (once all of them) on random schedules (fixed
// seed) with every occurrence over the range read one by one with cron's own Next, merged, followed to
// the horizon either way and cut by the blackouts: windows of a few minutes to two days, some running
// back to back, some holding others, around blackouts.
func TestScheduleMatchesEveryOccurrence(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(20261206, 2))
	pick := func(vals []string) string { return vals[rng.IntN(len(vals))] }
	durations := []time.Duration{10 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 23 * time.Hour,
		24 * time.Hour, 25 * time.Hour, 49 * time.Hour}
	for round := 0; round < 40; round++ {
		env := &config.Environment{TimeZone: "UTC"}
		for range 1 + rng.IntN(3) {
			cron := strings.Join([]string{pick([]string{"0", "30", "0,30", "15,45", "*/20"}),
				pick([]string{"5", "20", "0,12", "3,4,5", "*/6", "*/8", "22"}),
				pick([]string{"*", "*", "*", "1,15", "*/2"}), pick([]string{"*", "*", "*", "1,6,7"}),
				pick([]string{"*", "*", "1-5", "6", "0,3"})}, " ")
			env.Windows = append(env.Windows, config.Window{Cron: cron, Duration: durations[rng.IntN(len(durations))]})
		}
		base := time.Date(2026+rng.IntN(2), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60), 0, time.UTC)
		for range rng.IntN(3) {
			from := base.AddDate(0, 0, rng.IntN(40)-10)
			env.Blackouts = append(env.Blackouts, config.Blackout{From: from.Format(time.DateOnly), To: from.AddDate(0, 0, rng.IntN(4)).Format(time.DateOnly)})
		}
		s, err := NewSchedule(env)
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprint(env.Windows, env.Blackouts)
		times := []time.Time{base}
		for range 6 {
			times = append(times, base.Add(time.Duration(rng.Int64N(int64(30*24*time.Hour)))))
		}
		occs := everyOccurrence(t, env, base.Add(-horizon-s.longest), base.Add(30*24*time.Hour+horizon+s.longest))
		for _, now := range times {
			want := oracleWindows(s, occs, now)
			var open Interval
			var isOpen bool
			for _, iv := range want {
				if iv.Contains(now) {
					open, isOpen = iv, true
				}
			}
			if got, ok := s.Open(now); ok != isOpen || ok && !sameInterval(got, open) {
				t.Errorf("%s at %s: Open = %v %v, want %v %v", name, now, got, ok, open, isOpen)
			}
			n := 6
			if now.Equal(base) {
				n = len(want) + 1 // all of them, to the horizon
			}
			got := s.Next(now, n)
			want = want[:min(n, len(want))]
			if len(got) != len(want) {
				t.Errorf("%s at %s: Next = %v, want %v", name, now, got, want)
				continue
			}
			for i := range got {
				if !sameInterval(got[i], want[i]) {
					t.Errorf("%s at %s: Next[%d] = %v, want %v", name, now, i, got[i], want[i])
				}
			}
		}
	}
}

// sameInterval compares two intervals as instants, whatever their zones.
func sameInterval(a, b Interval) bool {
	return a.Start.Equal(b.Start) && a.End.Equal(b.End) && a.OpenBefore == b.OpenBefore && a.OpenAfter == b.OpenAfter
}

// everyOccurrence lists the occurrences of env's windows that start in [from, to), one by one, from
// cron's own Next (in UTC, where no change of offset makes the schedule's rules differ from cron's).
func everyOccurrence(t *testing.T, env *config.Environment, from, to time.Time) []Interval {
	t.Helper()
	var out []Interval
	for _, w := range env.Windows {
		spec, err := config.ParseCron(w.Cron)
		if err != nil {
			t.Fatal(err)
		}
		for st := spec.Next(from.Add(-time.Second)); !st.IsZero() && st.Before(to); st = spec.Next(st) {
			if !st.Before(from) {
				out = append(out, Interval{Start: st, End: st.Add(w.Duration)})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// oracleWindows is what Next(now, ∞) should return, from every occurrence (occs, sorted): the
// occurrences that start in [now-horizon, now+horizon) merged; a window that an earlier occurrence reaches
// starts at now-horizon, OpenBefore, one that a later occurrence reaches ends at now+horizon, OpenAfter;
// blackouts cut; those that end after now.
func oracleWindows(s *Schedule, occs []Interval, now time.Time) []Interval {
	back, limit := now.Add(-horizon), now.Add(horizon)
	var runs, outside []Interval
	for _, o := range occs {
		if o.Start.Before(back) || !o.Start.Before(limit) {
			outside = append(outside, o)
			continue
		}
		if k := len(runs) - 1; k >= 0 && !o.Start.After(runs[k].End) {
			runs[k].End = maxTime(runs[k].End, o.End)
			continue
		}
		runs = append(runs, o)
	}
	for i := range runs {
		for _, o := range outside {
			if o.Start.Before(back) && !o.End.Before(runs[i].Start) {
				runs[i].Start, runs[i].OpenBefore = back, true
			}
			if !o.Start.Before(limit) && !o.Start.After(runs[i].End) {
				runs[i].End, runs[i].OpenAfter = limit, true
			}
		}
	}
	for _, b := range s.blackouts {
		var cut []Interval
		for _, r := range runs {
			if r.Start.Before(b.Start) {
				cut = append(cut, Interval{Start: r.Start, End: minTime(r.End, b.Start), OpenBefore: r.OpenBefore, OpenAfter: r.OpenAfter && !r.End.After(b.Start)})
			}
			if r.End.After(b.End) {
				cut = append(cut, Interval{Start: maxTime(r.Start, b.End), End: r.End, OpenBefore: r.OpenBefore && !r.Start.Before(b.End), OpenAfter: r.OpenAfter})
			}
		}
		runs = cut
	}
	var out []Interval
	for _, r := range runs {
		if r.End.After(now) {
			out = append(out, r)
		}
	}
	return out
}
