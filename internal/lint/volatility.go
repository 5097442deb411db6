package lint

import (
	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
)

// The volatility of the functions a DEFAULT calls decides whether ADD COLUMN rewrites the table: a
// volatile one (pg_proc.provolatile = 'v') is evaluated for each row, any other once, stored as the
// column's missing value. TestFuncVolatilityMatchesServer checks these lists against pg_proc.

// volatileFuncs are functions whose DEFAULT forces a table rewrite (provolatile = 'v').
var volatileFuncs = map[string]bool{
	"clock_timestamp": true, "random": true, "gen_random_uuid": true, "uuid_generate_v1": true,
	"uuid_generate_v1mc": true, "uuid_generate_v4": true, "uuidv4": true, "uuidv7": true, "uuid_generate_v7": true,
	"nextval": true, "timeofday": true, "setseed": true, "random_normal": true,
	"gen_random_bytes": true, "setval": true, "currval": true, "lastval": true,
}

// stableFuncs are functions known not to be volatile: a DEFAULT calling them is stored once (fast default).
// txid_current and pg_current_xact_id are stable: the transaction's id does not change within it.
var stableFuncs = map[string]bool{
	"txid_current": true, "pg_current_xact_id": true,
	"now": true, "transaction_timestamp": true, "statement_timestamp": true, "current_setting": true, "lower": true, "upper": true,
	"btrim": true, "trim": true, "length": true, "concat": true, "concat_ws": true, "md5": true, "abs": true, "round": true,
	"to_char": true, "to_date": true, "to_timestamp": true, "to_json": true, "to_jsonb": true, "json_build_object": true,
	"jsonb_build_object": true, "json_build_array": true, "jsonb_build_array": true, "array_fill": true, "make_interval": true,
	"make_date": true, "date_trunc": true, "timezone": true, "replace": true, "substring": true, "left": true, "right": true,
	"format": true, "repeat": true, "int4range": true, "int8range": true, "tstzrange": true, "daterange": true, "numrange": true,
	"tsrange": true, "jsonb_object": true, "json_object": true, "array_to_string": true, "string_to_array": true,
}

// unknownFunc returns the first function an expression calls whose volatility is unknown to the parser
// (a user function), or "".
func unknownFunc(n *pg_query.Node) string {
	found := ""
	walk(n, func(m proto.Message) {
		if fc, ok := m.(*pg_query.FuncCall); ok && found == "" {
			if name := lastName(fc.Funcname); !volatileFuncs[name] && !stableFuncs[name] {
				found = name
			}
		}
	})
	return found
}

// callsVolatile returns the first function an expression calls that volatileFuncs names, or "".
func callsVolatile(n *pg_query.Node) string {
	found := ""
	walk(n, func(m proto.Message) {
		if fc, ok := m.(*pg_query.FuncCall); ok && found == "" {
			if name := lastName(fc.Funcname); volatileFuncs[name] {
				found = name
			}
		}
	})
	return found
}
