#!/usr/bin/env bash
# Starts a sandbox control plane seeded with the demo estate, prints
# `shipshape scan -A` of it, and stops the sandbox again.
set -euo pipefail
bin=${1:-bin}
dir=$(mktemp -d "${TMPDIR:-/tmp}/shipshape-demo.XXXXXX")
"$bin/shipshape-sandbox" up --dir "$dir" --seed demo --seed-dir "$(dirname "$0")/../examples/estate" --seed-charts "$(dirname "$0")/../examples/charts" >"$dir/sandbox.out" 2>&1 &
pid=$!
cleanup() {
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
echo "starting the sandbox control plane in $dir ..." >&2
for _ in $(seq 1 180); do
	[ -f "$dir/ready" ] && break
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "the sandbox exited before it was ready:" >&2
		tail -n 30 "$dir/sandbox.out" >&2
		exit 1
	fi
	sleep 1
done
[ -f "$dir/ready" ] || { echo "the sandbox was not ready after 180s" >&2; tail -n 30 "$dir/sandbox.out" >&2; exit 1; }
"$bin/shipshape" scan -A --kubeconfig "$dir/kubeconfig" --fail-on none
