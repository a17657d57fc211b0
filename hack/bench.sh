#!/usr/bin/env bash
# Runs shipshape's benchmarks five times each and prints the median of every
# metric as a table (hack/cmd/benchmedian). Extra arguments go to `go test`
# (e.g. -bench Corpus). PKGS chooses the packages; the sandbox benchmarks
# (certs, backup, restore, guard) seed thousands of objects and take minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${COUNT:-5}
pkgs=${PKGS:-./internal/manifest/ ./internal/cluster/ ./internal/audit/ ./internal/audit/rbac/ ./internal/upgrade/ ./internal/yamledit/ ./internal/certs/ ./internal/backup/ ./internal/restore/ ./internal/cli/}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# shellcheck disable=SC2086
go test -run '^$' -bench "${BENCH:-.}" -benchtime "${BENCHTIME:-3x}" -count "$count" "$@" $pkgs | tee "$out" >&2
go run ./hack/cmd/benchmedian < "$out"
