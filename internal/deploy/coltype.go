package deploy

import (
	"fmt"
	"slices"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/schemagate/schemagate/internal/lint"
)

// colType is a column's type as ALTER TABLE ... ALTER COLUMN ... TYPE writes it: its name (lower case,
// without pg_catalog, which the grammar puts in front of the SQL keywords: int4, varchar, numeric), its
// type modifiers (varchar(10): [10]; numeric(12,2): [12 2]; "" name and no modifiers when one is not a
// constant), and whether it is an array.
type colType struct {
	name  string
	mods  []int32
	array bool
}

func typeOf(tn *pg_query.TypeName) colType {
	if tn == nil {
		return colType{}
	}
	t := colType{name: strings.TrimPrefix(funcName(tn.Names), "pg_catalog."), array: len(tn.ArrayBounds) > 0}
	for _, m := range tn.Typmods {
		c := m.GetAConst()
		if c == nil || c.GetIval() == nil {
			return colType{}
		}
		t.mods = append(t.mods, c.GetIval().Ival)
	}
	return t
}

// String is the type as a migration spells it (integer, not int4; char(3), not bpchar(3)).
func (t colType) String() string {
	s := lint.SQLTypeName(t.name)
	if len(t.mods) > 0 {
		mods := make([]string, len(t.mods))
		for i, m := range t.mods {
			mods[i] = fmt.Sprint(m)
		}
		s += "(" + strings.Join(mods, ",") + ")"
	}
	if t.array {
		s += "[]"
	}
	return s
}

// widens tells whether converting a column of type from to type to (without USING) keeps every value
// as it was, so that converting back loses nothing either. The pairs accepted, the same type and
// modifiers aside (array to array of the same pairs):
//   - int2 to int4 or int8, int4 to int8; an integer type to numeric without modifiers or with enough
//     digits before the point (5 for int2, 10 for int4, 19 for int8) and a scale that is not negative;
//   - float4 to float8;
//   - numeric(p,s) to numeric, or to numeric(p2,s2) with s2 >= s and p2-s2 >= p-s;
//   - varchar(n) to varchar(m) with m >= n, to varchar or to text; varchar to text and text to varchar
//     (both without a length); varbit(n) to varbit(m) with m >= n, or to varbit;
//   - date to timestamp or timestamptz; timestamp, timestamptz, time and timetz to the same type with
//     the same or a greater precision (none is 6).
//
// Everything else counts as a type change that may lose data (char(n), timestamp to timestamptz and
// back, which reads the session's time zone, domains and other types by name, and any narrowing).
func widens(from, to colType) bool {
	if from.name == "" || to.name == "" || from.array != to.array {
		return false
	}
	if from.name == to.name && slices.Equal(from.mods, to.mods) {
		return true
	}
	// holds tells whether numeric with modifiers mods holds every integer of digits digits.
	holds := func(mods []int32, digits int32) bool {
		switch len(mods) {
		case 0:
			return true
		case 1:
			return mods[0] >= digits
		}
		return mods[1] >= 0 && mods[0]-mods[1] >= digits
	}
	// longer tells whether the length (varchar, varbit; none is no limit) of to is at least that of from.
	longer := func() bool { return len(to.mods) == 0 || (len(from.mods) > 0 && to.mods[0] >= from.mods[0]) }
	// finer tells whether the precision (timestamp, time; none is 6) of to is at least that of from.
	finer := func() bool {
		f, t := int32(6), int32(6)
		if len(from.mods) > 0 {
			f = from.mods[0]
		}
		if len(to.mods) > 0 {
			t = to.mods[0]
		}
		return t >= f
	}
	switch from.name {
	case "int2", "int4", "int8":
		digits := map[string]int32{"int2": 5, "int4": 10, "int8": 19}[from.name]
		switch to.name {
		case "int4":
			return from.name == "int2"
		case "int8":
			return from.name != "int8"
		case "numeric":
			return holds(to.mods, digits)
		}
	case "float4":
		return to.name == "float8"
	case "numeric":
		if to.name != "numeric" || len(from.mods) == 0 {
			return to.name == "numeric" && len(to.mods) == 0
		}
		fs, ts := int32(0), int32(0)
		if len(from.mods) > 1 {
			fs = from.mods[1]
		}
		switch len(to.mods) {
		case 0:
			return true
		case 2:
			ts = to.mods[1]
		}
		return ts >= fs && to.mods[0]-ts >= from.mods[0]-fs
	case "varchar":
		return to.name == "text" || (to.name == "varchar" && longer())
	case "text":
		return to.name == "varchar" && len(to.mods) == 0
	case "varbit":
		return to.name == "varbit" && longer()
	case "date":
		return to.name == "timestamp" || to.name == "timestamptz"
	case "timestamp", "timestamptz", "time", "timetz":
		return to.name == from.name && finer()
	}
	return false
}
