#!/usr/bin/env bash
# bench-downgen.sh: issue 8's measurement of generated rollback scripts. Runs, on the test PostgreSQL
# (internal/pgtest), the proof of every generated down (up, generated down, compare with the
# before-catalog, up again, compare with the after-catalog) over a generated history of 246 migrations
# covering every object kind and over the folders in testdata/corpora, printing the share that
# round-trips exactly and the time taken; then the benchmarks of Inspect and GenerateDown.
#
# Usage: scripts/bench-downgen.sh [extra go test flags]
set -euo pipefail
cd "$(dirname "$0")/.."
go test ./internal/pg -run 'TestGeneratedDowns' -count=1 -v "$@" | grep -E 'history:|corpora:|wall time|^(---|ok|FAIL)'
go test ./internal/pg -run '^$' -bench 'BenchmarkInspect$|BenchmarkGenerateDown$' -benchtime 200x -count=1 "$@" | grep -E '^Benchmark|^ok|FAIL'
go test ./internal/pg -run '^$' -bench 'BenchmarkGenerateDownRoundTrip' -benchtime 2x -count=1 "$@" | grep -E '^Benchmark|^ok|FAIL'
