#!/usr/bin/env bash
# Runs shipshape's benchmarks five times each and prints the median of every
# metric as a table. Extra arguments go to `go test` (e.g. -benchtime 5x).
set -euo pipefail
cd "$(dirname "$0")/.."
count=${COUNT:-5}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -run '^$' -bench . -benchtime "${BENCHTIME:-3x}" -count "$count" "$@" \
	./internal/manifest/ ./internal/cluster/ | tee "$out" >&2
# Each result line: name iterations value unit [value unit]...
awk '
/^Benchmark/ {
	name=$1; sub(/-[0-9]+$/, "", name)
	for (i = 3; i < NF; i += 2) { key = name SUBSEP $(i+1); vals[key] = vals[key] " " $i; units[$(i+1)] = 1; names[name] = 1 }
}
END {
	printf "\n%-55s %-14s %s\n", "benchmark", "unit", "median (of runs)"
	n = asorti(names, sorted)
	for (j = 1; j <= n; j++) {
		for (u in units) {
			key = sorted[j] SUBSEP u
			if (!(key in vals)) continue
			m = split(substr(vals[key], 2), a, " ")
			asort(a)
			med = (m % 2) ? a[(m+1)/2] : (a[m/2] + a[m/2+1]) / 2
			printf "%-55s %-14s %.4g (%d)\n", sorted[j], u, med, m
		}
	}
}' "$out"
