#!/bin/sh
# install-deps.sh - install the Debian packages that building and testing
# memleakd needs. Idempotent: prints nothing and touches nothing when every
# package is already present. Run as root (apt-get).
set -eu

BUILD="make gcc clang llvm libc6-dev libbpf-dev libelf-dev zlib1g-dev bpftool pkg-config"
# Test peers: allocators the integration tests trace, a real server that
# uses jemalloc (redis), python3 for the integration runner.
TEST="python3 libjemalloc-dev libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0 procps
	redis-server redis-tools"

missing=""
for pkg in $BUILD $TEST; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
# shellcheck disable=SC2086
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing; } >"$log" 2>&1; then
	cat "$log" >&2
	echo "install-deps: apt-get failed" >&2
	rm -f "$log"
	exit 1
fi
rm -f "$log"
