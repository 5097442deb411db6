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
	// OpenBefore and OpenAfter tell that the window was open before Start already, or is still open after
	// End: windows that run back to back (or overlap) were followed as far as the schedule looks, horizon
	// before and after the time asked about, and Start or End is that bound, not where the window opens
	// or closes.
	OpenBefore bool `json:"open_before,omitempty"`
	OpenAfter  bool `json:"open_after,omitempty"`
}

// Contains reports whether t is inside [Start, End).
func (i Interval) Contains(t time.Time) bool { return !t.Before(i.Start) && t.Before(i.End) }

// Schedule is an environment's windows and blackouts. Windows are computed in their own zone, day by day,
// so DST changes neither move nor duplicate them: a start in a skipped hour (spring forward) opens at the
// same wall-clock offset after the gap, a start in a repeated hour (fall back) opens once, at its first
// occurrence. Durations are elapsed time.
type Schedule struct {
	windows []window
	// longest is the longest window's duration: a window open at a time opened at most that long before.
	longest   time.Duration
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
	// day is the window's occurrences of a day without a change of offset, merged, from its midnight.
	day []Interval
}

// dayRuns merges the occurrences of a day that opens at midnight (time zero) and has no change of offset.
func dayRuns(spec *cron.SpecSchedule, dur time.Duration) []Interval {
	var raw []Interval
	for h := 0; h < 24; h++ {
		for m := 0; m < 60; m++ {
			if spec.Hour&(1<<uint(h)) != 0 && spec.Minute&(1<<uint(m)) != 0 {
				st := time.Time{}.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
				raw = append(raw, Interval{Start: st, End: st.Add(dur)})
			}
		}
	}
	return mergeIntervals(raw)
}

// searchDays bounds how far ahead Next looks for an open window, and how far before and after the time
// asked about a window whose occurrences run back to back is followed (horizon): one that never closes
// ends there, OpenAfter, in Open, Next, Startable and Period alike. A bound is sound because a deploy
// lasts no longer than its timeouts, far less than that, and the same one everywhere keeps the deploy
// and schemagate window saying the same end. (About two years, as they say.)
const searchDays = 800

// horizon is searchDays as a duration.
const horizon = searchDays * 24 * time.Hour

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
		s.windows = append(s.windows, window{spec: spec, dur: w.Duration, loc: loc, src: src, day: dayRuns(spec, w.Duration)})
		s.longest = max(s.longest, w.Duration)
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
	for _, iv := range s.intervals(t.Add(-s.longest-48*time.Hour), t.Add(48*time.Hour), t.Add(-horizon), t.Add(horizon)) {
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
		end = t.Add(horizon)
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
	return Interval{Start: t, End: t.Add(horizon), OpenAfter: true}, true
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
	var out []Interval
	limit := t.Add(horizon)
	from := t.Add(-s.longest - 48*time.Hour) // a window open at t opened at most longest before (or runs on from further back)
	back := t.Add(-horizon)
	for day := 0; day < searchDays && len(out) < n; day += 7 {
		to := t.Add(time.Duration(day+7) * 24 * time.Hour)
		if to.After(limit) {
			to = limit // no window that opens past the horizon either
		}
		if !from.Before(limit) {
			break
		}
		if !from.Before(to) {
			continue // a window read already lasts past to
		}
		ivs := s.intervals(from, to, back, limit)
		back = from // only the first window may have opened before what is read
		for _, iv := range ivs {
			if !iv.End.After(t) {
				continue
			}
			if k := len(out) - 1; k >= 0 && !iv.Start.After(out[k].End) {
				// The rest of a window already listed (intervals follows a chain of overlapping
				// occurrences past the range it was asked for).
				if iv.End.After(out[k].End) {
					out[k].End, out[k].OpenAfter = iv.End, iv.OpenAfter
				}
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
// last one ends at the horizon (searchDays ahead), OpenAfter. Empty when no blackout touches [t, horizon).
func (s *Schedule) between(t time.Time, n int) []Interval {
	all := Interval{Start: t, End: t.Add(horizon), OpenAfter: true}
	bs := s.cut([]Interval{all})
	if len(bs) == 1 && bs[0] == all {
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
// removed. Occurrences that overlap or touch (every 2 hours for 3 hours, every hour for an hour) make one
// window: the first one is followed back before from, down to back, and the last one past to, up to limit,
// while further occurrences overlap or touch it, so that it begins and ends where the chain does whatever
// range it was asked for (Open and Next agree). A window that occurrences from limit on still lengthen ends
// there, OpenAfter (one that opened before limit and just closes after it keeps its end); one open at back
// already starts there, OpenBefore.
func (s *Schedule) intervals(from, to, back, limit time.Time) []Interval {
	read := from
	if back.Before(from) {
		// What opened in the longest window's duration before from can still be open at from and join
		// occurrences after it, not only the first: a 25-hour window that opens at 05:00 the day before
		// holds the 20:00 one of that day and the 05:00 one of from's day together. Read with the rest,
		// they are merged with it; a run of them alone that closes by from is no window of [from, to).
		read = maxTime(from.Add(-s.longest), back)
	}
	merged := mergeIntervals(s.occurrences(read, to))
	for len(merged) > 0 && !merged[0].End.After(from) {
		merged = merged[1:]
	}
	if len(merged) == 0 {
		return nil
	}
	first, last := &merged[0], &merged[len(merged)-1]
	if back.Before(from) {
		first.Start = s.followBack(first.Start, read, back)
		if s.reaches(back.Add(-s.longest), back, first.Start) {
			first.Start, first.OpenBefore = back, true
		}
	}
	last.End = s.follow(last.End, to, limit)
	// Only an occurrence that opens at limit or later, before it closes, keeps it open past limit, the chain
	// going on where no more is read. One that opened before limit and closes after it, touching none,
	// is an ordinary window with its own end.
	if !last.End.Before(limit) && len(s.occurrences(limit, last.End.Add(time.Nanosecond))) > 0 {
		last.End, last.OpenAfter = limit, true
	}
	return s.cut(merged)
}

// reaches tells whether an occurrence that starts in [from, to) is open at t or ends there.
func (s *Schedule) reaches(from, to, t time.Time) bool {
	for _, iv := range s.occurrences(from, to) {
		if !iv.End.Before(t) && !iv.Start.After(t) {
			return true
		}
	}
	return false
}

// occurrences returns the windows' occurrences that start in [from, to); those of a whole day in it,
// away from a change of offset, already merged (the union is the same, which is all that is asked).
func (s *Schedule) occurrences(from, to time.Time) []Interval {
	var raw []Interval
	for _, w := range s.windows {
		raw = w.occurrences(from, to, raw)
	}
	return raw
}

// followStep is how much of the schedule follow and followBack read after the occurrences that can touch
// the window, twice as much each time: a chain that never closes is followed to the horizon in 7 steps,
// each with no more than two days read occurrence by occurrence (see window.occurrences).
const followStep = 7 * 24 * time.Hour

// follow returns where a window open until end closes, the occurrences that start before cursor being
// read: one that starts before it ends, or as it ends, lengthens it. It reads no occurrence that starts at
// limit or later (the end it returns may then lie past limit).
func (s *Schedule) follow(end, cursor, limit time.Time) time.Time {
	for step := time.Duration(0); !end.Before(cursor) && cursor.Before(limit); step = max(2*step, followStep) {
		// First what can touch it (most windows end there), then a week, two, four...
		next := maxTime(cursor.Add(step), end.Add(time.Nanosecond))
		if next.After(limit) {
			next = limit
		}
		for _, iv := range mergeIntervals(s.occurrences(cursor, next)) {
			if iv.Start.After(end) {
				return end
			}
			end = maxTime(end, iv.End)
		}
		cursor = next
	}
	return end
}

// followBack returns where a window that opens at start opened, the occurrences that start at cursor or
// later being read: one that starts before it and ends at it or later lengthens it. It reads no occurrence
// that starts before back.
func (s *Schedule) followBack(start, cursor, back time.Time) time.Time {
	// An occurrence that starts before cursor ends before cursor+longest.
	for step := time.Duration(0); cursor.After(back) && start.Before(cursor.Add(s.longest)); step = max(2*step, followStep) {
		// First what can reach it (most windows open there), then a week, two, four...
		prev := minTime(cursor.Add(-step), start.Add(-s.longest))
		if prev.Before(back) {
			prev = back
		}
		// Merged occurrences are apart: only the last one can reach start.
		ivs := mergeIntervals(s.occurrences(prev, cursor))
		k := len(ivs) - 1
		if k < 0 || ivs[k].End.Before(start) {
			return start
		}
		start = minTime(start, ivs[k].Start)
		cursor = prev
	}
	return start
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
				out = append(out, Interval{Start: iv.Start, End: b.Start, OpenBefore: iv.OpenBefore})
			}
			if iv.End.After(b.End) {
				// In the window's zone, which shows it.
				out = append(out, Interval{Start: b.End.In(iv.Start.Location()), End: iv.End, OpenAfter: iv.OpenAfter})
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

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func (s *Schedule) blackedOut(t time.Time) bool {
	_, in := s.Blackout(t)
	return in
}

const starBit = 1 << 63

// occurrences appends the window's occurrences that start in [from, to) to out, their starts computed on
// the local calendar of its zone. Those of a whole day in [from, to) are appended merged (w.day).
func (w window) occurrences(from, to time.Time, out []Interval) []Interval {
	lf := from.In(w.loc)
	day := time.Date(lf.Year(), lf.Month(), lf.Day(), 12, 0, 0, 0, w.loc)
	for ; !day.After(to.Add(24 * time.Hour)); day = time.Date(day.Year(), day.Month(), day.Day()+1, 12, 0, 0, 0, w.loc) {
		if !w.dayMatches(day) {
			continue
		}
		// A day further than a day from a change of offset shows each of its wall times once, at its
		// offset: its starts are its midnight plus the time of day, and a day outside [from, to) is
		// passed over, one inside it taken whole (a window that opens every minute has 1,440 starts a
		// day, and follow reads two years of them). Near a change, wallTime finds each start.
		y, mo, d := day.Date()
		_, off := day.Zone()
		midnight := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).Add(-time.Duration(off) * time.Second)
		zoneStart, zoneEnd := day.ZoneBounds()
		uniform := (zoneStart.IsZero() || zoneStart.Before(midnight.Add(-48*time.Hour))) &&
			(zoneEnd.IsZero() || zoneEnd.After(midnight.Add(72*time.Hour)))
		if uniform && (!midnight.Add(24*time.Hour).After(from) || !midnight.Before(to)) {
			continue
		}
		if uniform && !midnight.Before(from) && !midnight.Add(24*time.Hour).After(to) {
			for _, r := range w.day {
				out = append(out, Interval{Start: midnight.Add(r.Start.Sub(time.Time{})).In(w.loc), End: midnight.Add(r.End.Sub(time.Time{})).In(w.loc)})
			}
			continue
		}
		for h := 0; h < 24; h++ {
			if w.spec.Hour&(1<<uint(h)) == 0 {
				continue
			}
			for m := 0; m < 60; m++ {
				if w.spec.Minute&(1<<uint(m)) == 0 {
					continue
				}
				var st time.Time
				if uniform {
					st = midnight.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute).In(w.loc)
				} else {
					st = wallTime(y, mo, d, h, m, w.loc)
				}
				if !st.Before(from) && st.Before(to) {
					out = append(out, Interval{Start: st, End: st.Add(w.dur)})
				}
			}
		}
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
