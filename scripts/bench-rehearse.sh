#!/usr/bin/env bash
# bench-rehearse.sh: issue 2's rehearsal targets, measured against `psql -f` of the same SQL. The
# machine's speed drifts by ±20% over minutes, so each benchmark alternates with its baseline, run after
# run, and the script prints the medians and their ratio:
#   - a PR on a long history: 495 history migrations replayed, 5 new ones traced and round-tripped
#     (target: at most 1.3x psql);
#   - a full round trip of all 500, traced (target: at most 4x psql), with, for reference, the same
#     without tracing and the floor: the same SQL (up; down and up again, rolled back) with no catalog
#     read at all.
# With each time, the CPU a run took (user and system, the servers' and psql's included) and its ratio
# to psql's: on this 2-core VM the rehearsal keeps more than one core busy where psql -f keeps about one,
# so the time ratio moves with how much of the second core the machine gives; the CPU ratio does not.
#
# Usage: scripts/bench-rehearse.sh [pairs]   (default 5 pairs; each pair takes about 20 s)
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-5}
bin=$(mktemp -d)/rehearse.test
trap 'rm -rf "$(dirname "$bin")"' EXIT
go test -c -o "$bin" ./internal/rehearse

# one NAME BENCHTIME: one run of a benchmark: its seconds a run, then its CPU seconds a run.
one() {
	"$bin" -test.run '^$' -test.bench "^Benchmark$1\$" -test.benchtime "$2" |
		awk '/^Benchmark/ { for (i = 4; i < NF; i++) if ($(i + 1) == "cpu-s/op") cpu = $i; printf "%.3f %.3f\n", $3 / 1e9, cpu }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A runs cpus
for ((i = 1; i <= pairs; i++)); do
	for b in Rehearse500With5New:5x PsqlApply500:5x Roundtrip500:1x Roundtrip500NoTrace:1x Roundtrip500Floor:3x; do
		name=${b%%:*}
		read -r t cpu < <(one "$name" "${b##*:}")
		runs[$name]+="$t "
		cpus[$name]+="$cpu "
		echo "pair $i: $name ${t} s, ${cpu} s of CPU" >&2
	done
done
med() { tr ' ' '\n' <<<"$1" | grep . | median; }
psql=$(med "${runs[PsqlApply500]}")
psqlcpu=$(med "${cpus[PsqlApply500]}")
echo "psql -f of the 500 up scripts: median ${psql} s (${runs[PsqlApply500]% }), ${psqlcpu} s of CPU"
for name in Rehearse500With5New Roundtrip500 Roundtrip500NoTrace Roundtrip500Floor; do
	awk -v n="$name" -v m="$(med "${runs[$name]}")" -v p="$psql" -v all="${runs[$name]% }" -v c="$(med "${cpus[$name]}")" -v pc="$psqlcpu" \
		'BEGIN { printf "%-20s median %s s = %.2fx psql (%s); CPU %s s = %.2fx psql\n", n, m, m / p, all, c, c / pc }'
done
