package sqlparse

import (
	"fmt"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// MaxNesting bounds how deeply a statement may nest expressions for schemagate to parse it. The parser
// (C code) and the conversion of its tree recurse once per level: a generated statement such as
// 1+1+...+1 with tens of thousands of terms overflows the C stack and kills the process. Real
// migrations stay far below; a statement above gets a parse error at its line instead.
const MaxNesting = 5000

// nesting estimates, from the text alone, how deeply a statement nests: the parenthesis depth plus,
// at each open level, the operators chained since that level's last comma (a+b+c nests two deep; a
// list of a thousand values separated by commas does not nest). Comments and quoted text do not count.
func nesting(text string) int {
	levels := []int{0} // operators chained at each open parenthesis level
	chained, deepest := 0, 0
	prevOp := false
	for i := 0; i < len(text); {
		if next, ok := skipToken(text, i); ok {
			i, prevOp = next, false
			continue
		}
		c := text[i]
		switch {
		case c == '(':
			levels = append(levels, 0)
		case c == ')':
			if len(levels) > 1 {
				chained -= levels[len(levels)-1]
				levels = levels[:len(levels)-1]
			}
		case c == ',':
			chained -= levels[len(levels)-1]
			levels[len(levels)-1] = 0
		case c == ';' && len(levels) == 1:
			chained, levels[0] = 0, 0 // the next statement
		case isOpChar(c):
			if !prevOp {
				levels[len(levels)-1]++
				chained++
			}
			i, prevOp = i+1, true
			deepest = max(deepest, chained+len(levels)-1)
			continue
		}
		prevOp = false
		deepest = max(deepest, chained+len(levels)-1)
		i++
	}
	return deepest
}

func isOpChar(c byte) bool {
	switch c {
	case '+', '-', '*', '/', '<', '>', '=', '~', '!', '@', '#', '%', '^', '&', '|', '`', '?':
		return true
	}
	return false
}

// parse is pg_query.Parse, refusing text that nests deeper than MaxNesting.
func parse(text string) (*pg_query.ParseResult, error) {
	if n := nesting(text); n > MaxNesting {
		return nil, fmt.Errorf("the statement nests expressions about %d deep, more than schemagate parses (%d): split it into smaller statements", n, MaxNesting)
	}
	return pg_query.Parse(text)
}
