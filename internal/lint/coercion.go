package lint

import "slices"

// shortType is the short name of a type that format_type spells out (character varying, timestamp with
// time zone), as the parser names it; a serial column's type is the integer type it stands for.
func shortType(t string) string {
	switch t {
	case "serial", "serial4":
		return "int4"
	case "bigserial", "serial8":
		return "int8"
	case "smallserial", "serial2":
		return "int2"
	case "character varying":
		return "varchar"
	case "timestamp without time zone":
		return "timestamp"
	case "timestamp with time zone":
		return "timestamptz"
	}
	return t
}

// binaryCasts are PostgreSQL's binary-coercible casts between two different types (pg_cast rows with
// castmethod 'b'), by pg_type name, as PostgreSQL 15 and 17 have them (TestBinaryCastsMatchServer checks
// them against the server). ALTER COLUMN … TYPE without USING relabels the stored value along such a
// cast instead of converting it: no rewrite. Each is implicit or assignment, so none needs a USING.
var binaryCasts = func() map[[2]string]bool {
	m := map[[2]string]bool{}
	add := func(from, to string) { m[[2]string{from, to}] = true }
	for _, r := range []string{"regproc", "regprocedure", "regoper", "regoperator", "regclass", "regcollation", "regtype",
		"regconfig", "regdictionary", "regrole", "regnamespace"} {
		add("oid", r)
		add(r, "oid")
		add("int4", r)
		add(r, "int4")
	}
	add("int4", "oid")
	add("oid", "int4")
	add("regproc", "regprocedure")
	add("regprocedure", "regproc")
	add("regoper", "regoperator")
	add("regoperator", "regoper")
	add("text", "bpchar")
	add("text", "varchar")
	add("varchar", "text")
	add("varchar", "bpchar")
	add("xml", "text")
	add("xml", "varchar")
	add("xml", "bpchar")
	add("pg_node_tree", "text")
	add("pg_ndistinct", "bytea")
	add("pg_dependencies", "bytea")
	add("pg_mcv_list", "bytea")
	add("cidr", "inet")
	add("bit", "varbit")
	add("varbit", "bit")
	return m
}()

// extensionCasts are the binary-coercible casts that creating an extension adds (pg_cast rows with
// castmethod 'b' that belong to it), by type name, for a type an extension defines and migrations use
// by name: citext, whose storage is text's (TestExtensionCastsMatchServer checks them against the
// server). Like binaryCasts they relabel the value: text or varchar(n) to citext keeps the table; an
// index on the column is rebuilt, as citext indexes with its own operator class (measured on 15).
var extensionCasts = map[[2]string]bool{
	{"text", "citext"}: true, {"varchar", "citext"}: true,
	{"citext", "text"}: true, {"citext", "varchar"}: true, {"citext", "bpchar"}: true,
}

// indexType is the type whose default operator class an index on a column of type t uses: t's own, or,
// for a type without one, that of the type it is binary-coercible to (varchar indexes as text, cidr as
// inet, the reg* types as oid; not pg_ndistinct and its kin as bytea: they have a collation, bytea none,
// and a change of collation rebuilds the index as well). A type change that keeps the table's storage keeps an index's only
// when the operator class stays the same (CheckIndexCompatible): int4 to oid, bit to varbit, text to
// bpchar or timestamp to timestamptz rebuild every index on the column (measured on 15).
func indexType(t string) string {
	switch t = shortType(t); t {
	case "varchar", "pg_node_tree":
		return "text"
	case "cidr":
		return "inet"
	case "regproc", "regprocedure", "regoper", "regoperator", "regclass", "regcollation", "regtype", "regconfig",
		"regdictionary", "regrole", "regnamespace":
		return "oid"
	}
	return t
}

// coercible reports whether changing old to new keeps the on-disk format (no rewrite), and whether
// that could be judged at all (false when the old type is unknown).
func coercible(oldT string, oldM []int, newT string, newM []int) bool {
	oldT, newT = shortType(oldT), shortType(newT)
	switch {
	case oldT == newT && (oldT == "varchar" || oldT == "varbit"):
		// char(n) and bit(n) are padded or checked to their exact length: any change rewrites.
		return len(newM) == 0 || (len(oldM) > 0 && newM[0] >= oldM[0])
	case oldT == newT && oldT == "numeric":
		if len(newM) == 0 {
			return true
		}
		if len(oldM) == 0 {
			return false
		}
		os, ns := 0, 0
		if len(oldM) > 1 {
			os = oldM[1]
		}
		if len(newM) > 1 {
			ns = newM[1]
		}
		return ns == os && newM[0] >= oldM[0]
	case oldT == newT && (oldT == "time" || oldT == "timetz" || oldT == "timestamp" || oldT == "timestamptz"):
		return precisionKept(oldM, newM)
	case oldT == newT && oldT == "interval":
		return intervalKept(oldM, newM)
	case oldT != newT && (binaryCasts[[2]string{oldT, newT}] || extensionCasts[[2]string{oldT, newT}]):
		// The value is relabelled, not converted. A length on the new type (varchar(10), varbit(8),
		// char(1) as "char" means) is then checked by a length coercion of a value whose own length the
		// relabel forgot, so every row is rewritten (measured on 15: bit(8) to varbit(8), text to varchar(10)).
		return len(newM) == 0
	case oldT == newT && slices.Equal(oldM, newM):
		// Nothing to convert (measured on 15: bit(8) to bit(8) keeps the relfilenode).
		return true
	}
	return false
}

// maxPrecision is the highest precision of time, timetz, timestamp, timestamptz and interval (PostgreSQL's
// MAX_TIMESTAMP_PRECISION, MAX_INTERVAL_PRECISION): a value is stored to the microsecond.
const maxPrecision = 6

// precisionKept reports whether a time or timestamp value of precision oldM (none: any) is stored the
// same at precision newM, so that the length coercion to it is a no-op (PostgreSQL's
// TemporalSimplify): to no precision, to 6, or to one no lower than the old. The cast between timestamp
// and timestamptz yields a value of no precision (oldM nil): to timestamptz(3) every row is rounded,
// under any time zone (measured on 15).
func precisionKept(oldM, newM []int) bool {
	return len(newM) == 0 || newM[0] >= maxPrecision || (len(oldM) > 0 && newM[0] >= oldM[0])
}

// intervalKept reports whether an interval with typmods oldM (the field mask, then the precision; none:
// all fields, any precision) is stored the same with typmods newM, so that the length coercion is a
// no-op (PostgreSQL's interval_support): its least field stays or gets smaller (interval year to
// interval month, interval day to interval), and, when that is the second, its precision is 6, none,
// or no lower than the old (measured on 15: interval(6) to interval(3) and interval month to interval
// year rewrite).
func intervalKept(oldM, newM []int) bool {
	if len(newM) == 0 {
		return true
	}
	least := func(m []int) int { // 5 year, 4 month, 3 day, 2 hour, 1 minute, 0 second
		if len(m) == 0 {
			return 0
		}
		const month, year, day, hour, minute = 1 << 1, 1 << 2, 1 << 3, 1 << 10, 1 << 11
		switch m[0] {
		case year:
			return 5
		case month, year | month:
			return 4
		case day:
			return 3
		case hour, day | hour:
			return 2
		case minute, day | hour | minute, hour | minute:
			return 1
		}
		return 0
	}
	precision := func(m []int) int {
		if len(m) < 2 {
			return maxPrecision // INTERVAL_FULL_PRECISION: kept whole
		}
		return m[1]
	}
	oldLeast := least(oldM)
	return least(newM) <= oldLeast && (oldLeast > 0 || precision(newM) >= maxPrecision || precision(newM) >= precision(oldM))
}
