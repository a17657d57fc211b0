#!/usr/bin/env bash
# Installs the command-line tools the tests check shipshape's output with,
# when they are missing: `age` (Debian package) decrypts backed-up Secrets
# the way an operator would. Needs root or sudo and Debian's package mirror.
set -euo pipefail
missing=()
command -v age >/dev/null 2>&1 || missing+=(age)
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
if ! command -v apt-get >/dev/null 2>&1; then
	echo "test tools missing (${missing[*]}) and no apt-get to install them; the tests that need them will fail" >&2
	exit 1
fi
echo "installing test tools: ${missing[*]}" >&2
$sudo apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
