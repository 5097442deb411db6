package deploy

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/schemagate/schemagate/internal/config"
)

// Clock is the time source of a deploy; tests substitute a fake one.
type Clock interface {
	Now() time.Time
	// After waits like time.After.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// RealClock is the wall clock.
var RealClock Clock = realClock{}

// Interval is one open maintenance window.
type Interval struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Contains reports whether t is inside [Start, End).
func (i Interval) Contains(t time.Time) bool { return !t.Before(i.Start) && t.Before(i.End) }

// Schedule is an environment's windows and blackouts. Windows are computed in their own zone, day by day,
// so DST changes neither move nor duplicate them: a start in a skipped hour (spring forward) opens at the
// same wall-clock offset after the gap, a start in a repeated hour (fall back) opens once, at its first
// occurrence. Durations are elapsed time.
type Schedule struct {
	windows   []window
	blackouts []Blackout
	// minLeft is how much of a window must be left for a migration to start in it (min_window_left).
	minLeft time.Duration
}

// Blackout is a date range in which no window opens, with the reason the configuration gives.
type Blackout struct {
	Interval
	Reason string
}

// String names the blackout as the configuration does: its dates (End is the day after the last one)
// and its reason.
func (b Blackout) String() string {
	s := fmt.Sprintf("blackout %s to %s", b.Start.Format(time.DateOnly), b.End.Add(-time.Hour).Format(time.DateOnly))
	if b.Reason != "" {
		s += " (" + b.Reason + ")"
	}
	return s
}

type window struct {
	spec *cron.SpecSchedule
	dur  time.Duration
	loc  *time.Location
	src  string
}

// searchDays bounds how far ahead Next looks for an open window.
const searchDays = 800

// NewSchedule builds the schedule of env. An environment without windows is always open.
func NewSchedule(env *config.Environment) (*Schedule, error) {
	envLoc, err := env.Location()
	if err != nil {
		return nil, err
	}
	s := &Schedule{minLeft: max(env.MinWindowLeft, 0)}
	for i, w := range env.Windows {
		src := strings.TrimSpace(w.Cron)
		spec, err := config.ParseCron(src)
		if err != nil {
			return nil, fmt.Errorf("windows[%d].cron %q: %w", i, w.Cron, err)
		}
		if w.Duration <= 0 {
			return nil, fmt.Errorf("windows[%d]: duration must be positive", i)
		}
		loc := envLoc
		if w.TimeZone != "" {
			if loc, err = config.LoadZone(w.TimeZone); err != nil {
				return nil, fmt.Errorf("windows[%d]: %w", i, err)
			}
		}
		s.windows = append(s.windows, window{spec: spec, dur: w.Duration, loc: loc, src: src})
	}
	for i, b := range env.Blackouts {
		from, err := time.ParseInLocation(time.DateOnly, b.From, envLoc)
		if err != nil {
			return nil, fmt.Errorf("blackouts[%d].from %q: want YYYY-MM-DD", i, b.From)
		}
		to, err := time.ParseInLocation(time.DateOnly, b.To, envLoc)
		if err != nil {
			return nil, fmt.Errorf("blackouts[%d].to %q: want YYYY-MM-DD", i, b.To)
		}
		end := time.Date(to.Year(), to.Month(), to.Day()+1, 0, 0, 0, 0, envLoc)
		if !end.After(from) {
			return nil, fmt.Errorf("blackouts[%d]: to %s is before from %s", i, b.To, b.From)
		}
		s.blackouts = append(s.blackouts, Blackout{Interval: Interval{Start: from, End: end}, Reason: b.Reason})
	}
	return s, nil
}

// Always reports whether the schedule has no windows (a deploy may run at any time).
func (s *Schedule) Always() bool { return len(s.windows) == 0 }

// Open returns the window containing t, if any.
func (s *Schedule) Open(t time.Time) (Interval, bool) {
	if s.Always() {
		if s.blackedOut(t) {
			return Interval{}, false
		}
		return Interval{Start: t, End: t}, true
	}
	var longest time.Duration
	for _, w := range s.windows {
		longest = max(longest, w.dur)
	}
	for _, iv := range s.intervals(t.Add(-longest-48*time.Hour), t.Add(48*time.Hour), t.Add(searchDays*24*time.Hour)) {
		if iv.Contains(t) {
			return iv, true
		}
	}
	return Interval{}, false
}

// MinLeft is how much of a window must be left for a migration to start in it (0: any).
func (s *Schedule) MinLeft() time.Duration { return s.minLeft }

// Startable returns the window open at t, and whether a migration may start in it now: whether at least
// MinLeft of it is left (without windows, until the next blackout). left is what is left of it.
func (s *Schedule) Startable(t time.Time) (iv Interval, ok bool, left time.Duration) {
	iv, open := s.Open(t)
	if !open || s.minLeft <= 0 {
		return iv, open, 0
	}
	end := iv.End
	if s.Always() {
		end = t.Add(searchDays * 24 * time.Hour)
		if p := s.between(t, 1); len(p) > 0 {
			end = p[0].End
		}
	}
	left = end.Sub(t)
	return iv, left >= s.minLeft, left
}

// Period returns the open period that holds t: the window open at t or, without windows, the time until
// the next blackout (far in the future when none lies ahead); false when t is in none.
func (s *Schedule) Period(t time.Time) (Interval, bool) {
	if !s.Always() {
		return s.Open(t)
	}
	if s.blackedOut(t) {
		return Interval{}, false
	}
	if p := s.between(t, 1); len(p) > 0 {
		return p[0], true
	}
	return Interval{Start: t, End: t.Add(searchDays * 24 * time.Hour)}, true
}

// StartableLater tells whether a migration may start at the later time at in the open period that holds
// t (Period), as Startable would tell at at: before the period ends, with at least MinLeft of it left.
// The period must be the same: a later window does not count, nor the time after a blackout that begins
// in between. period is that of t, and left what is left of it at at.
func (s *Schedule) StartableLater(t, at time.Time) (period Interval, ok bool, left time.Duration) {
	period, open := s.Period(t)
	if !open {
		return period, false, 0
	}
	left = period.End.Sub(at)
	return period, left > 0 && left >= s.minLeft, left
}

// NextStartable is Next without the windows, or the rest of the open one, shorter than MinLeft: the
// windows a deploy can start in.
func (s *Schedule) NextStartable(t time.Time, n int) []Interval {
	if s.minLeft <= 0 {
		return s.Next(t, n)
	}
	var out []Interval
	for _, iv := range s.Next(t, n+16) {
		if iv.End.Sub(maxTime(iv.Start, t)) >= s.minLeft && len(out) < n {
			out = append(out, iv)
		}
	}
	return out
}

// Next returns up to n windows that are open at t or open after it, in order. Blackouts cut windows short
// or remove them. Without windows, the open periods are those between blackouts: none when t is in none
// and no blackout lies ahead (the deploy may run at any time).
func (s *Schedule) Next(t time.Time, n int) []Interval {
	if n <= 0 {
		return nil
	}
	if s.Always() {
		return s.between(t, n)
	}
	var longest time.Duration
	for _, w := range s.windows {
		longest = max(longest, w.dur)
	}
	var out []Interval
	horizon := t.Add(searchDays * 24 * time.Hour)
	from := t.Add(-longest - 48*time.Hour) // a window open at t may have opened that long ago
	for day := 0; day < searchDays && len(out) < n; day += 7 {
		to := t.Add(time.Duration(day+7) * 24 * time.Hour)
		if !from.Before(horizon) {
			break
		}
		ivs := s.intervals(from, to, horizon)
		for _, iv := range ivs {
			if !iv.End.After(t) {
				continue
			}
			if k := len(out) - 1; k >= 0 && !iv.Start.After(out[k].End) {
				// The rest of a window already listed (intervals follows a chain of overlapping
				// occurrences past the range it was asked for).
				out[k].End = maxTime(out[k].End, iv.End)
				continue
			}
			if len(out) == n {
				break
			}
			out = append(out, iv)
		}
		from = to
		if k := len(ivs) - 1; k >= 0 && ivs[k].End.After(to) {
			from = ivs[k].End // what starts before it is part of it
		}
	}
	return out
}

// between returns up to n periods outside every blackout, from t on, for a schedule without windows; the
// last one ends at the far future (searchDays ahead). Empty when no blackout touches [t, far future).
func (s *Schedule) between(t time.Time, n int) []Interval {
	far := t.Add(searchDays * 24 * time.Hour)
	bs := s.cut([]Interval{{Start: t, End: far}})
	if len(bs) == 1 && bs[0] == (Interval{Start: t, End: far}) {
		return nil
	}
	return bs[:min(n, len(bs))]
}

// Blackout returns the blackout t falls in, if any.
func (s *Schedule) Blackout(t time.Time) (Blackout, bool) {
	for _, b := range s.blackouts {
		if b.Contains(t) {
			return b, true
		}
	}
	return Blackout{}, false
}

// intervals returns the open intervals whose start falls in [from, to), merged and with blackouts
// removed. Occurrences that overlap (every 2 hours for 3 hours) make one window: the last one is followed
// past to while later occurrences start before it ends, up to limit (searchDays after the time asked
// about), so that it ends where the chain ends whatever range it was asked for (Open and Next agree).
func (s *Schedule) intervals(from, to, limit time.Time) []Interval {
	var raw []Interval
	add := func(from, to time.Time) {
		for _, w := range s.windows {
			for _, st := range w.starts(from, to) {
				raw = append(raw, Interval{Start: st, End: st.Add(w.dur)})
			}
		}
	}
	add(from, to)
	asked := to
	for {
		merged := mergeIntervals(raw)
		if len(merged) == 0 {
			return nil
		}
		// The chain is the window of the last start asked about: only while it reaches past what was
		// read do later occurrences lengthen it. (The last window read ends past to whenever one
		// starts shortly before it, chain or not: following that took every minute of two years for
		// a window that opens every minute.)
		last := merged[len(merged)-1].End
		for k := len(merged) - 1; k >= 0; k-- {
			if merged[k].Start.Before(asked) {
				last = merged[k].End
				break
			}
		}
		if !last.After(to) || !to.Before(limit) {
			return s.cut(merged)
		}
		// First to the chain's end, where most windows that open often end (the next one opens after
		// it); then, for a chain that goes on, a week at a time: a chain of short windows would otherwise
		// take one step per occurrence.
		next := last
		if !to.Equal(asked) {
			next = maxTime(last, to.Add(7*24*time.Hour))
		}
		if next.After(limit) {
			next = limit
		}
		add(to, next)
		to = next
	}
}

// mergeIntervals sorts intervals by start and merges those that overlap or touch.
func mergeIntervals(raw []Interval) []Interval {
	sort.Slice(raw, func(i, j int) bool { return raw[i].Start.Before(raw[j].Start) })
	var merged []Interval
	for _, iv := range raw {
		if k := len(merged) - 1; k >= 0 && !iv.Start.After(merged[k].End) {
			if iv.End.After(merged[k].End) {
				merged[k].End = iv.End
			}
			continue
		}
		merged = append(merged, iv)
	}
	return merged
}

// cut removes the blackout periods from the intervals.
func (s *Schedule) cut(ivs []Interval) []Interval {
	for _, b := range s.blackouts {
		var out []Interval
		for _, iv := range ivs {
			if !iv.Start.Before(b.End) || !iv.End.After(b.Start) {
				out = append(out, iv)
				continue
			}
			if iv.Start.Before(b.Start) {
				out = append(out, Interval{Start: iv.Start, End: b.Start})
			}
			if iv.End.After(b.End) {
				// In the window's zone, which shows it.
				out = append(out, Interval{Start: b.End.In(iv.Start.Location()), End: iv.End})
			}
		}
		ivs = out
	}
	return ivs
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (s *Schedule) blackedOut(t time.Time) bool {
	_, in := s.Blackout(t)
	return in
}

const starBit = 1 << 63

// starts lists the window's start times in [from, to), computed on the local calendar of its zone.
func (w window) starts(from, to time.Time) []time.Time {
	var out []time.Time
	lf := from.In(w.loc)
	day := time.Date(lf.Year(), lf.Month(), lf.Day(), 12, 0, 0, 0, w.loc)
	for !day.After(to.Add(24 * time.Hour)) {
		if w.dayMatches(day) {
			for h := 0; h < 24; h++ {
				if w.spec.Hour&(1<<uint(h)) == 0 {
					continue
				}
				for m := 0; m < 60; m++ {
					if w.spec.Minute&(1<<uint(m)) == 0 {
						continue
					}
					st := wallTime(day.Year(), day.Month(), day.Day(), h, m, w.loc)
					if !st.Before(from) && st.Before(to) {
						out = append(out, st)
					}
				}
			}
		}
		day = time.Date(day.Year(), day.Month(), day.Day()+1, 12, 0, 0, 0, w.loc)
	}
	return out
}

// dayMatches follows cron's rule: when both day-of-month and day-of-week are restricted, either matches.
func (w window) dayMatches(t time.Time) bool {
	if w.spec.Month&(1<<uint(t.Month())) == 0 {
		return false
	}
	dom := w.spec.Dom&(1<<uint(t.Day())) != 0
	dow := w.spec.Dow&(1<<uint(t.Weekday())) != 0
	if w.spec.Dom&starBit != 0 || w.spec.Dow&starBit != 0 {
		return dom && dow
	}
	return dom || dow
}

// wallTime is the first instant showing the given wall clock in loc. A wall time skipped by a DST change
// maps to the same offset after the gap (02:30 becomes 03:30); a repeated one maps to its first occurrence.
// time.Date promises neither, so both offsets around the day are tried.
func wallTime(y int, mo time.Month, d, h, mi int, loc *time.Location) time.Time {
	u := time.Date(y, mo, d, h, mi, 0, 0, time.UTC)
	_, offBefore := u.Add(-14 * time.Hour).In(loc).Zone()
	_, offAfter := u.Add(14 * time.Hour).In(loc).Zone()
	var best time.Time
	for _, off := range []int{offBefore, offAfter} {
		c := u.Add(-time.Duration(off) * time.Second).In(loc)
		if c.Hour() == h && c.Minute() == mi && c.Day() == d && (best.IsZero() || c.Before(best)) {
			best = c
		}
	}
	if best.IsZero() {
		// In the gap: read the wall clock with the offset in force before it.
		best = u.Add(-time.Duration(offBefore) * time.Second).In(loc)
	}
	return best
}
