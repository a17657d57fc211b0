#!/usr/bin/env bash
# Runs shipshape's benchmarks five times each and prints the median of every
# metric as a table (hack/cmd/benchmedian). Extra arguments go to `go test` (e.g. -benchtime 5x).
set -euo pipefail
cd "$(dirname "$0")/.."
count=${COUNT:-5}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -run '^$' -bench . -benchtime "${BENCHTIME:-3x}" -count "$count" "$@" \
	./internal/manifest/ ./internal/cluster/ | tee "$out" >&2
go run ./hack/cmd/benchmedian < "$out"
