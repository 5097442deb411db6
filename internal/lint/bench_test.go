package lint

import (
	"runtime"
	"sync"
	"testing"

	"github.com/schemagate/schemagate/internal/lint/benchdata"
	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// BenchmarkLintCorpus parses and analyses the benchmark corpus (2,600 generated migrations, about
// 2.4 MB) on every core, as `schemagate lint` does; MB/s is SQL text per second.
func BenchmarkLintCorpus(b *testing.B) {
	files := benchdata.Files(2600)
	var size int64
	for _, f := range files {
		size += int64(len(f.SQL))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	workers := runtime.GOMAXPROCS(0)
	for b.Loop() {
		var wg sync.WaitGroup
		next := make(chan int)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					s := &migrate.Script{File: files[i].Name, SQL: files[i].SQL, Statements: sqlparse.Parse(files[i].SQL)}
					_ = AnalyzeScript(s, true, Config{})
				}
			}()
		}
		for i := range files {
			next <- i
		}
		close(next)
		wg.Wait()
	}
}

// BenchmarkAnalyze measures the rules alone on pre-parsed scripts (one core).
func BenchmarkAnalyze(b *testing.B) {
	files := benchdata.Files(200)
	scripts := make([]*migrate.Script, len(files))
	var size int64
	for i, f := range files {
		scripts[i] = &migrate.Script{File: f.Name, SQL: f.SQL, Statements: sqlparse.Parse(f.SQL)}
		size += int64(len(f.SQL))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range scripts {
			_ = AnalyzeScript(s, true, Config{})
		}
	}
}
