package sandbox

import (
	"context"
	"slices"
	"testing"
	"time"
)

// BenchmarkDockerReady measures the time from Start until the database accepts connections (the
// container removal after each start is not counted). It reports the median as ms-median-ready.
//
//	go test ./internal/sandbox -run '^$' -bench BenchmarkDockerReady -benchtime 10x
func BenchmarkDockerReady(b *testing.B) {
	cli := requireDocker(b)
	requireImage(b, cli, testImage())
	d := NewDocker(Options{Image: testImage()})
	var ready []time.Duration
	for b.Loop() {
		start := time.Now()
		inst, err := d.Start(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		ready = append(ready, time.Since(start))
		b.StopTimer()
		if err := inst.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	slices.Sort(ready)
	b.ReportMetric(float64(ready[len(ready)/2].Microseconds())/1000, "ms-median-ready")
}
