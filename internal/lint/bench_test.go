package lint

import (
	"fmt"
	"runtime"
	"strings"
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

// triggerHistory is a folder of n generated migrations, each of which creates a table, a row
// trigger's PL/pgSQL function with a body of about 40 lines that names the table's columns as NEW.col
// and t1.col, a BEGIN ATOMIC function that reads one, and the trigger, then renames one column of the
// previous migration's table and drops another (a table of the same migration is new, which the rules
// let be): every DROP and RENAME COLUMN looks for the functions of the history that use or name the
// column.
func triggerHistory(n int) []*migrate.Script {
	scripts := make([]*migrate.Script, n)
	for i := range n {
		var body strings.Builder
		for j := range 40 {
			fmt.Fprintf(&body, "  IF NEW.qty > %d THEN NEW.note := 'line %d'; END IF; -- t%d.total\n", j, j, i)
		}
		sql := fmt.Sprintf(`CREATE TABLE t%[1]d (id bigint, qty int, price numeric, note text, total numeric, old_note text);
CREATE FUNCTION t%[1]d_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
%[2]s  SELECT sum(t%[1]d.price) INTO NEW.total FROM t%[1]d;
  RETURN NEW;
END $$;
CREATE FUNCTION t%[1]d_sum() RETURNS numeric LANGUAGE sql BEGIN ATOMIC SELECT sum(price) FROM t%[1]d; END;
CREATE TRIGGER t%[1]d_touch BEFORE INSERT OR UPDATE ON t%[1]d FOR EACH ROW EXECUTE FUNCTION t%[1]d_touch();
`, i, body.String())
		if i > 0 {
			sql += fmt.Sprintf("ALTER TABLE t%[1]d RENAME COLUMN note TO remark;\nALTER TABLE t%[1]d DROP COLUMN old_note;\n", i-1)
		}
		name := fmt.Sprintf("%06d_t%d.up.sql", i+1, i)
		scripts[i] = &migrate.Script{File: name, SQL: sql, Statements: sqlparse.Parse(sql)}
	}
	return scripts
}

// BenchmarkLintDirTriggers judges a folder of generated migrations with triggers and functions in
// sequence, as `schemagate lint --dir` does (see triggerHistory); the time grows with the number of
// migrations times the functions the history defines when each DROP or RENAME COLUMN reads them all.
func BenchmarkLintDirTriggers(b *testing.B) {
	for _, n := range []int{500, 1500} {
		scripts := triggerHistory(n)
		b.Run(fmt.Sprintf("migrations=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				q := NewSequence(Config{PGVersion: 15})
				for _, s := range scripts {
					_ = q.AnalyzeScript(s, true)
				}
			}
		})
	}
}
