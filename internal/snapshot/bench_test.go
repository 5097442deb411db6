package snapshot

import (
	"os"
	"testing"
	"time"
)

// BenchmarkSnapshotRestore dumps and restores the database in BENCH_DATABASE_URL (see
// scripts/bench-deploy.sh, which fills it with about 1 GB): directory format with 2 jobs versus custom
// format with one.
func BenchmarkSnapshotRestore(b *testing.B) {
	url := os.Getenv("BENCH_DATABASE_URL")
	if url == "" {
		b.Skip("set BENCH_DATABASE_URL (scripts/bench-deploy.sh does)")
	}
	for _, bc := range []struct {
		name     string
		format   string
		jobs     int
		compress *int
	}{
		{"directory-2-jobs", FormatDirectory, 2, nil},
		{"custom-1-job", FormatCustom, 1, nil},
		{"directory-2-jobs-uncompressed", FormatDirectory, 2, new(int)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p := &PGDump{URL: url, Dir: b.TempDir(), Format: bc.format, Jobs: bc.jobs, Compress: bc.compress, ExcludeSchemas: []string{"schemagate"}}
			var dump, restore time.Duration
			var size int64
			for i := 0; i < b.N; i++ {
				start := time.Now()
				info, rf, err := p.Snapshot(b.Context(), "bench")
				if err != nil {
					b.Fatal(err)
				}
				dump += time.Since(start)
				size = info.Size
				start = time.Now()
				if err := rf(b.Context()); err != nil {
					b.Fatal(err)
				}
				restore += time.Since(start)
				os.RemoveAll(info.Location)
			}
			b.ReportMetric(dump.Seconds()/float64(b.N), "snapshot-s")
			b.ReportMetric(restore.Seconds()/float64(b.N), "restore-s")
			b.ReportMetric(float64(size)/1e6, "dump-MB")
		})
	}
}
