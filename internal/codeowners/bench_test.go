package codeowners

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkOwners matches one path against a 1000-line CODEOWNERS file, the size of a large monorepo's.
func BenchmarkOwners(b *testing.B) {
	var src strings.Builder
	src.WriteString("* @acme/everyone\n")
	for i := range 1000 {
		fmt.Fprintf(&src, "/services/svc%d/**/*.go @acme/team%d\n", i, i%50)
	}
	src.WriteString("/db/migrations/ @acme/dba\n")
	f, probs := Parse(GitHub, []byte(src.String()))
	if len(probs) > 0 {
		b.Fatal(probs)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ms := f.Owners("db/migrations/20260301120000_orders_status.up.sql"); len(ms) != 1 {
			b.Fatal(ms)
		}
	}
}

// BenchmarkParse parses the same file.
func BenchmarkParse(b *testing.B) {
	var src strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&src, "/services/svc%d/**/*.go @acme/team%d # owners of svc%d\n", i, i%50, i)
	}
	data := []byte(src.String())
	b.ReportAllocs()
	for b.Loop() {
		Parse(GitHub, data)
	}
}
