#!/usr/bin/env bash
# bench-seed.sh: the memory and time of `schemagate check` on one big INSERT … VALUES seed: a goose
# folder whose base creates a table and whose branch adds a migration of one INSERT of ROWS rows (130,000
# rows: 21 MB), rehearsed with the local provider. Prints the built binary's peak resident memory and
# wall time (GNU time), and the SQL's size, for each of RUNS runs.
#
# Usage: scripts/bench-seed.sh [rows] [runs]   (default 130000 rows, 3 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-130000}
runs=${2:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/schemagate" ./cmd/schemagate

repo=$tmp/repo
mkdir -p "$repo/db"
git -C "$repo" init -q -b main
printf -- '-- +goose Up\nCREATE TABLE items (id bigint PRIMARY KEY, sku text NOT NULL, descr text, price numeric(12,2));\n\n-- +goose Down\nDROP TABLE items;\n' >"$repo/db/00001_items.sql"
git -C "$repo" add -A
git -C "$repo" -c user.name=bench -c user.email=bench@example.com commit -q -m base
git -C "$repo" checkout -q -b seed
{
	printf -- '-- +goose Up\nINSERT INTO items (id, sku, descr, price) VALUES\n'
	awk -v n="$rows" 'BEGIN {
		pad = sprintf("%120s", ""); gsub(/ /, "x", pad)
		for (i = 1; i <= n; i++) printf "(%d, '\''SKU-%08d'\'', '\''%s %d'\'', %d.99)%s\n", i, i, pad, i, i % 1000, (i < n ? "," : ";")
	}'
	printf -- '\n-- +goose Down\nDELETE FROM items;\n'
} >"$repo/db/00002_seed_items.sql"
git -C "$repo" add -A
git -C "$repo" -c user.name=bench -c user.email=bench@example.com commit -q -m seed
echo "seed: $rows rows, $(($(stat -c %s "$repo/db/00002_seed_items.sql") >> 20)) MiB"

for ((i = 1; i <= runs; i++)); do
	(cd "$repo" && /usr/bin/time -f '%M %e' -o "$tmp/time" "$tmp/schemagate" check -q --dir db --base main >/dev/null)
	read -r kb secs <"$tmp/time"
	echo "run $i: max RSS $((kb >> 10)) MiB, wall ${secs} s"
done
