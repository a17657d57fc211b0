#!/usr/bin/env bash
# Starts a sandbox control plane seeded with the demo estate, prints
# `shipshape scan -A` of it and `shipshape certs` of its node PKI, and stops
# the sandbox again.
#
# The PKI is issued like the second outage in docs/lessons: the etcd
# server certificate for one year while its siblings got three, and the
# estate's storefront/web-tls Secret is generated at seed time to expire in
# ten days.
set -euo pipefail
bin=${1:-bin}
dir=$(mktemp -d "${TMPDIR:-/tmp}/shipshape-demo.XXXXXX")
"$bin/shipshape-sandbox" up --dir "$dir" --seed demo --seed-dir "$(dirname "$0")/../examples/estate" --seed-charts "$(dirname "$0")/../examples/charts" \
	--cert-validity etcd/server=365d \
	--cert-validity etcd/peer=1095d,etcd/healthcheck-client=1095d,apiserver-etcd-client=1095d \
	>"$dir/sandbox.out" 2>&1 &
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
echo
echo "# shipshape certs --root $dir (the sandbox's node filesystem) and the live cluster"
"$bin/shipshape" certs --root "$dir" --kubeconfig "$dir/kubeconfig" --fail-on none
