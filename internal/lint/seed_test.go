package lint

import (
	"fmt"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// TestSeedRowsAreNotScanned: the rules that read a statement's text for what the tree cannot tell (an
// identifier over 63 bytes, a call of a server function) read a seed's INSERT without its VALUES rows
// of literals, which name and call nothing. A literal with a long word ('xxx…', a description) had
// the whole statement go through the scanner, a protobuf message a token: linting a 21 MB seed took
// 340 MB and a second for that alone. Linting a seed whose literals hold long words now costs what
// one with short words does; a long identifier is still found, in the rows' code and around them.
func TestSeedRowsAreNotScanned(t *testing.T) {
	seed := func(word string) *migrate.Script {
		var rows []string
		for i := range 2000 {
			rows = append(rows, fmt.Sprintf("(%d, 'SKU-%08d', '%s %d', %d.99)", i, i, word, i, i%1000))
		}
		sql := "INSERT INTO items (id, sku, descr, price) VALUES\n" + strings.Join(rows, ",\n") + ";\n"
		return &migrate.Script{File: "2_seed.up.sql", SQL: sql, Statements: sqlparse.Parse(sql)}
	}
	short, long := seed("x"), seed(strings.Repeat("x", 120))
	allocs := func(s *migrate.Script) float64 {
		return testing.AllocsPerRun(3, func() { AnalyzeScript(s, true, Config{}) })
	}
	if a, b := allocs(short), allocs(long); b > a*1.05 {
		t.Errorf("linting a seed of long words took %.0f allocations, of short ones %.0f", b, a)
	}

	name := strings.Repeat("n", 70)
	for _, sql := range []string{
		"INSERT INTO items (id, sku) VALUES (1, 'a'), (2, 'b') RETURNING id AS " + name,
		"INSERT INTO items (id, sku) VALUES (1, 'a'), (2, " + name + "())",
	} {
		s := &migrate.Script{File: "2_seed.up.sql", SQL: sql, Statements: sqlparse.Parse(sql)}
		found := false
		for _, f := range AnalyzeScript(s, true, Config{}) {
			found = found || f.Rule == "identifier-too-long"
		}
		if !found {
			t.Errorf("no identifier-too-long for %s", sql)
		}
	}
}
