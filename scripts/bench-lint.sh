#!/usr/bin/env bash
# bench-lint.sh: time `schemagate lint --dir` against squawk on the same generated corpus
# (2,600 migration files, about 2.4 MB of SQL; internal/lint/benchdata).
#
#   scripts/bench-lint.sh            # needs squawk: cd /tmp && npm install squawk-cli
#   SQUAWK=/path/to/squawk RUNS=10 BIN=/prebuilt/schemagate scripts/bench-lint.sh
#
# Uses hyperfine when installed (apt-get install -y hyperfine), else /usr/bin/time -v (peak RSS).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
work=${WORK:-$(mktemp -d)}
runs=${RUNS:-10}
corpus="$work/corpus"
bin=${BIN:-$work/schemagate}

squawk=${SQUAWK:-}
if [[ -z "$squawk" ]]; then
	for c in /tmp/node_modules/@squawk-cli/linux-x64/bin/squawk "$root/node_modules/@squawk-cli/linux-x64/bin/squawk" "$(command -v squawk || true)"; do
		if [[ -n "$c" && -x "$c" ]]; then squawk=$c; break; fi
	done
fi
if [[ -z "$squawk" ]]; then
	echo "bench-lint: squawk not found; install it with: cd /tmp && npm install squawk-cli" >&2
	exit 2
fi

echo "== build"
if [[ -z "${BIN:-}" ]]; then (cd "$root" && go build -o "$bin" ./cmd/schemagate); fi
rm -rf "$corpus"
(cd "$root" && go run ./internal/lint/benchdata/gencorpus -out "$corpus")
echo "schemagate: $("$bin" --version 2>/dev/null || echo dev); squawk: $("$squawk" --version)"

# Both tools exit non-zero when they find problems; that is expected here.
sg_cmd="$bin lint --dir $corpus --fail-on never > /dev/null"
sq_cmd="cd $corpus && $squawk *.sql > /dev/null || true"

if command -v hyperfine > /dev/null; then
	hyperfine --warmup 2 --runs "$runs" --export-markdown "$work/bench.md" \
		-n "schemagate lint --dir" "$sg_cmd" \
		-n "squawk" "$sq_cmd"
else
	echo "hyperfine not installed; single runs with /usr/bin/time -v"
fi
echo "== peak memory (/usr/bin/time -v)"
for name in schemagate squawk; do
	if [[ $name == schemagate ]]; then cmd=$sg_cmd; else cmd=$sq_cmd; fi
	/usr/bin/time -v bash -c "$cmd" 2> "$work/$name.time" || true
	printf '%-10s wall %s  peak RSS %s kB\n' "$name" \
		"$(grep 'Elapsed (wall' "$work/$name.time" | awk '{print $NF}')" \
		"$(grep 'Maximum resident' "$work/$name.time" | awk '{print $NF}')"
done
(cd "$root" && go test ./internal/lint -run '^$' -bench BenchmarkLintCorpus -benchtime 5x | grep Benchmark)
