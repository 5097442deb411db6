package schema

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// sequenceNumbers are an identity sequence's options as numbers: Column.IdentityOptions names only
// those that differ from the defaults GENERATED ... AS IDENTITY gives, and those defaults hang on the
// increment's sign and on the sequence's data type (MINVALUE 1 or the type's lowest, MAXVALUE the
// type's highest or -1, START WITH MINVALUE or MAXVALUE), so two option strings cannot be compared word
// by word: "INCREMENT BY -1" alone is MINVALUE -2147483648 MAXVALUE -1 START WITH -1 on an integer
// sequence, and an up that ran SET INCREMENT BY 1 on it reads "START WITH -1 MINVALUE -2147483648
// MAXVALUE -1", with INCREMENT gone from the string but three options changed.
type sequenceNumbers struct {
	start, increment, min, max, cache int64
	cycle                             bool
}

// sequenceTypeBounds are the lowest and highest value of an identity sequence's data type as
// format_type names it (smallint, integer or bigint, the only types a sequence takes).
func sequenceTypeBounds(typ string) (lo, hi int64) {
	switch typ {
	case "smallint":
		return math.MinInt16, math.MaxInt16
	case "integer":
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

// defaultMin and defaultMax are what NO MINVALUE and NO MAXVALUE give a sequence of type typ that
// counts by increment.
func defaultMin(increment int64, typ string) int64 {
	if lo, _ := sequenceTypeBounds(typ); increment < 0 {
		return lo
	}
	return 1
}

func defaultMax(increment int64, typ string) int64 {
	if _, hi := sequenceTypeBounds(typ); increment > 0 {
		return hi
	}
	return -1
}

// parseIdentityOptions reads Column.IdentityOptions (as internal/pg writes it: START WITH n, INCREMENT
// BY n, MINVALUE n, MAXVALUE n, CACHE n, CYCLE, each when not the default) of a sequence of type typ
// into numbers, the defaults filled in. A word it does not know is passed over.
func parseIdentityOptions(s, typ string) sequenceNumbers {
	n := sequenceNumbers{increment: 1, cache: 1}
	var start, min, max *int64
	words := strings.Fields(s)
	num := func(i int) (int64, bool) {
		if i >= len(words) {
			return 0, false
		}
		v, err := strconv.ParseInt(words[i], 10, 64)
		return v, err == nil
	}
	for i := 0; i < len(words); i++ {
		switch words[i] {
		case "START", "INCREMENT":
			if v, ok := num(i + 2); ok {
				if words[i] == "START" {
					start = &v
				} else {
					n.increment = v
				}
				i += 2
			}
		case "MINVALUE", "MAXVALUE", "CACHE":
			if v, ok := num(i + 1); ok {
				switch words[i] {
				case "MINVALUE":
					min = &v
				case "MAXVALUE":
					max = &v
				default:
					n.cache = v
				}
				i++
			}
		case "CYCLE":
			n.cycle = true
		}
	}
	n.min, n.max = defaultMin(n.increment, typ), defaultMax(n.increment, typ)
	if min != nil {
		n.min = *min
	}
	if max != nil {
		n.max = *max
	}
	n.start = n.min
	if n.increment < 0 {
		n.start = n.max
	}
	if start != nil {
		n.start = *start
	}
	return n
}

// identitySequenceType is the data type of the identity sequence of column c: its own when the
// catalog keeps one, else the column's.
func identitySequenceType(c *Column) string {
	if s := c.IdentitySequence; s != nil && s.Type != "" {
		return s.Type
	}
	return c.Type
}

// identityOptions gives the identity sequence of column c of table t (as the before-catalog has them)
// back the options the up changed, ALTER TABLE ... ALTER COLUMN ... SET INCREMENT BY / SET MINVALUE /
// SET NO MINVALUE / SET MAXVALUE / SET NO MAXVALUE / SET START WITH / SET CACHE / SET [NO] CYCLE, in
// one statement: PostgreSQL checks START against MINVALUE and MAXVALUE once all are set, so an up that
// moved them together cannot make the down fail half way. ac is the column after the up; a column the
// down made an identity again, or added again, or whose table it created again, got its options there
// (ADD GENERATED ... AS IDENTITY (...), columnSummary) and has none to restore. at is the data type the
// sequence has when the statement runs.
//
// That type is not always the one the sequence had after the up, nor the one it had before: the down
// changes the column's type back (ALTER COLUMN ... TYPE gives the sequence the column's) and runs
// ALTER SEQUENCE ... AS (identitySequence), and PostgreSQL then moves a MINVALUE or MAXVALUE that was
// the old type's lowest or highest to the new type's, and leaves any other; both sides are read as
// they are in type at (translated). Where a type step narrows the sequence, the options go back before
// it (identityOptionsBefore): a MAXVALUE 5000000000 the up gave a bigint sequence would not fit the
// integer one ("MAXVALUE (5000000000) is out of range for sequence data type integer"), while what the
// down gives back fits the wider type as well; elsewhere they go back after the type.
//
// The sequence's position (RESTART, setval, nextval) is data, not an option: the catalog does not hold
// it, and the down leaves it where it is (it fails when that position is outside the MINVALUE and
// MAXVALUE it gives back: "RESTART value (5000) cannot be greater than MAXVALUE (1000)").
func (g *downGen) identityOptions(t *Table, c, ac *Column, at string) {
	key := subKey(t.QName(), c.Name)
	if ac.Identity == "" || c.Identity == "" || g.identityOpts[key] {
		return
	}
	g.identityOpts[key] = true
	wantType, haveType := identitySequenceType(c), identitySequenceType(ac)
	if ac.IdentityOptions == c.IdentityOptions && wantType == haveType {
		return
	}
	want := parseIdentityOptions(c.IdentityOptions, wantType).retyped(wantType, at)
	have := parseIdentityOptions(ac.IdentityOptions, haveType).retyped(haveType, at)
	var set []string
	if have.increment != want.increment {
		set = append(set, "SET INCREMENT BY "+strconv.FormatInt(want.increment, 10))
	}
	if have.min != want.min {
		if want.min == defaultMin(want.increment, at) {
			set = append(set, "SET NO MINVALUE")
		} else {
			set = append(set, "SET MINVALUE "+strconv.FormatInt(want.min, 10))
		}
	}
	if have.max != want.max {
		if want.max == defaultMax(want.increment, at) {
			set = append(set, "SET NO MAXVALUE")
		} else {
			set = append(set, "SET MAXVALUE "+strconv.FormatInt(want.max, 10))
		}
	}
	if have.start != want.start {
		set = append(set, "SET START WITH "+strconv.FormatInt(want.start, 10))
	}
	if have.cache != want.cache {
		set = append(set, "SET CACHE "+strconv.FormatInt(want.cache, 10))
	}
	if have.cycle != want.cycle {
		if want.cycle {
			set = append(set, "SET CYCLE")
		} else {
			set = append(set, "SET NO CYCLE")
		}
	}
	if len(set) == 0 {
		return
	}
	g.add(fmt.Sprintf("restore the options of the identity sequence of column %s", display(key)),
		"ALTER TABLE "+QIdent(t.Schema, t.Name)+" ALTER COLUMN "+Ident(c.Name)+" "+strings.Join(set, " "))
}

// identityOptionsBefore gives the options of the identity sequence of column c of table t back (see
// identityOptions) before a step that changes the sequence's data type from from to to, when that
// narrows it.
func (g *downGen) identityOptionsBefore(t *Table, c, ac *Column, from, to string) {
	_, hiFrom := sequenceTypeBounds(from)
	if _, hiTo := sequenceTypeBounds(to); hiTo < hiFrom {
		g.identityOptions(t, c, ac, from)
	}
}

// retyped is n as ALTER SEQUENCE ... AS to leaves a sequence of type from: a MINVALUE or MAXVALUE that
// was from's lowest or highest becomes to's.
func (n sequenceNumbers) retyped(from, to string) sequenceNumbers {
	if from == to {
		return n
	}
	oldLo, oldHi := sequenceTypeBounds(from)
	newLo, newHi := sequenceTypeBounds(to)
	if n.max == oldHi {
		n.max = newHi
	}
	if n.min == oldLo {
		n.min = newLo
	}
	return n
}
