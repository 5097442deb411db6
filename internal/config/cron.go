package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/robfig/cron/v3"
)

// ParseCron reads a window's cron expression: five fields (minute hour day-of-month month day-of-week)
// or a descriptor (@daily, @weekly...), as Vixie cron reads them: a day of week may be 0-7, both 0 and 7
// being Sunday. It refuses what is not a calendar schedule (@every), a zone inside the expression (the
// zone is time_zone's) and an expression that matches no date at all (0 0 30 2 *).
func ParseCron(expr string) (*cron.SpecSchedule, error) {
	src := strings.TrimSpace(expr)
	if strings.HasPrefix(src, "TZ=") || strings.HasPrefix(src, "CRON_TZ=") {
		return nil, errors.New("put the zone in time_zone, not in the expression")
	}
	if f := strings.Fields(src); len(f) == 5 {
		dow, err := sundaySeven(f[4])
		if err != nil {
			return nil, err
		}
		f[4] = dow
		src = strings.Join(f, " ")
	}
	sched, err := cron.ParseStandard(src)
	if err != nil {
		return nil, err
	}
	spec, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return nil, errors.New("@every is not a calendar schedule: write the days and times the window opens")
	}
	if f := strings.Fields(src); len(f) == 5 {
		// Vixie cron (and cronie, and GitHub's schedule) combine day of month and day of week with AND
		// when either field starts with '*', "*/2" included, and with OR otherwise. The parser marks
		// only a bare '*' (or '?') that way; mark a stepped one too.
		if strings.HasPrefix(f[2], "*") {
			spec.Dom |= starBit
		}
		if strings.HasPrefix(f[4], "*") {
			spec.Dow |= starBit
		}
	}
	if !ever(spec) {
		return nil, errors.New("matches no date: the day of the month never falls in the months given")
	}
	return spec, nil
}

// sundaySeven rewrites 7 in a day-of-week field (Sunday, as cron allows) to 0, which the parser knows:
// "7" becomes "0" and a range ending at 7 ("5-7") becomes "5-6,0".
func sundaySeven(field string) (string, error) {
	parts := strings.Split(field, ",")
	var out []string
	for _, p := range parts {
		rng, step, hasStep := strings.Cut(p, "/")
		lo, hi, isRange := strings.Cut(rng, "-")
		switch {
		case rng == "7" && !hasStep:
			out = append(out, "0")
			continue
		case rng == "7":
			// cron reads "7/2" as 7 and every second day after it in the week, that is 7 alone; the
			// parser would read "0/2" as 0,2,4,6. Neither is likely what was meant.
			return "", fmt.Errorf("day of week %q: a step from 7 matches Sunday alone; write 0 for Sunday, or the days as a list or a range over 0-6 (e.g. 0-6/2)", p)
		case isRange && hi == "7" && !hasStep:
			n, err := strconv.Atoi(lo)
			if err != nil || n < 0 || n > 7 {
				return "", fmt.Errorf("day of week %q: want 0-7 (0 and 7 are Sunday) or SUN-SAT", p)
			}
			if n <= 6 {
				out = append(out, fmt.Sprintf("%d-6", n))
			}
			out = append(out, "0")
			continue
		case isRange && hi == "7":
			return "", fmt.Errorf("day of week %q: write the step over 0-6 (Sunday is 0)", p)
		}
		_ = step
		out = append(out, p)
	}
	return strings.Join(out, ","), nil
}

// starBit marks a field written as * (robfig/cron's representation).
const starBit = 1 << 63

// ever reports whether spec matches at least one date: with a day of month restricted and the day of
// week not (cron matches either when both are restricted), some month given must have one of the days.
func ever(spec *cron.SpecSchedule) bool {
	if spec.Dom&starBit != 0 || spec.Dow&starBit == 0 {
		return true
	}
	days := [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	for m := 1; m <= 12; m++ {
		if spec.Month&(1<<uint(m)) == 0 {
			continue
		}
		for d := 1; d <= days[m]; d++ {
			if spec.Dom&(1<<uint(d)) != 0 {
				return true
			}
		}
	}
	return false
}
