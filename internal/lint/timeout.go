package lint

import (
	"math"
	"regexp"
	"strconv"
	"strings"
)

// timeUnits are the units of a setting in milliseconds, largest first, as PostgreSQL's guc.c has them
// (case-sensitive), with their size in milliseconds.
var timeUnits = []struct {
	unit string
	ms   float64
}{{"d", 86400000}, {"h", 3600000}, {"min", 60000}, {"s", 1000}, {"ms", 1}, {"us", 0.001}}

// timeoutMS reads the value of a setting in milliseconds (lock_timeout, statement_timeout) as
// PostgreSQL's parse_int does: a number (decimal, or a hexadecimal integer), then a unit or none (ms).
// A fractional value is rounded to a whole number of the next smaller unit (convert_to_base_unit:
// '0.001min' is 0 s), then to whole milliseconds, half to even as rint does ('0.5ms' is 0, '400us' 0).
// ok is false for a value PostgreSQL refuses.
func timeoutMS(v string) (ms float64, ok bool) {
	v = strings.TrimLeft(v, " \t\n\r\f\v")
	num := floatPrefix.FindString(v)
	var f float64
	var err error
	if hex := hexPrefix.FindString(v); hex != "" && len(hex) >= len(num) {
		var n int64
		n, err = strconv.ParseInt(hex, 0, 64)
		f, num = float64(n), hex
	} else {
		f, err = strconv.ParseFloat(num, 64)
	}
	if num == "" || err != nil {
		return 0, false
	}
	unit := strings.TrimSpace(v[len(num):])
	if unit == "" {
		return math.RoundToEven(f), true
	}
	for i, u := range timeUnits {
		if u.unit != unit {
			continue
		}
		ms = f * u.ms
		if i+1 < len(timeUnits) {
			next := timeUnits[i+1].ms
			ms = math.RoundToEven(ms/next) * next
		}
		return math.RoundToEven(ms), true
	}
	return 0, false
}

var (
	floatPrefix = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?`)
	hexPrefix   = regexp.MustCompile(`^[+-]?0[xX][0-9a-fA-F]+`)
)
