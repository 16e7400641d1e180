#!/bin/sh
# install-deps.sh - install the Debian packages that building and testing
# memleakd needs. Idempotent: prints nothing and touches nothing when every
# package is already present. Run as root (apt-get).
set -eu

BUILD="make gcc clang llvm libc6-dev libbpf-dev libelf-dev libdw-dev libdebuginfod-dev zlib1g-dev liblzma-dev libiberty-dev libmicrohttpd-dev bpftool pkg-config"
# `make fuzz`: libFuzzer and clang's sanitizer runtimes (gcc's, which `make
# check` uses, come with gcc).
FUZZ="libclang-rt-14-dev"
# Test peers: allocators the integration tests trace, a real server that
# uses jemalloc (redis), nginx under wrk (healthy servers must get no false
# alarm), python3 for the integration runner, g++ for the C++
# unwinding target and gdb, whose backtraces the unwinding tests compare;
# rustc, Debian's, for the Rust symbolization targets;
# Go and pprof's sources to build the pprof client, and protoc with
# pprof's profile.proto, which read the pprof format back; debuginfod, the
# server that the debug-info tests fetch from; chromium,
# headless, loads the flame graphs (nodejs and npm, which drive it, come
# with the machine: Debian's npm is not wanted); valgrind, whose memcheck
# counts the test compares with memleakd's on real programs: jq, sqlite3,
# cmake and git; prometheus, the server that scrapes --listen's /metrics.
TEST="python3 xz-utils libjemalloc-dev libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0 libapr1-dev procps
	redis-server redis-tools nginx-light wrk g++ gdb rustc golang-go golang-github-google-pprof-dev protobuf-compiler
	chromium debuginfod valgrind jq sqlite3 cmake git prometheus"
# A real server that allocates through its own memory contexts, PostgreSQL
# 15, and the headers and PGXS that build the tests' C extension for it. The
# headers must be the server's version: when one of these is missing, all
# three are installed, so that apt brings them to one version.
POSTGRES="postgresql-15 postgresql-client-15 postgresql-server-dev-15"

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=""
for pkg in $BUILD $FUZZ $TEST; do
	installed "$pkg" || missing="$missing $pkg"
done
for pkg in $POSTGRES; do
	if ! installed "$pkg"; then
		missing="$missing $POSTGRES"
		break
	fi
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

server=$(dpkg-query -W -f='${Version}' postgresql-15)
headers=$(dpkg-query -W -f='${Version}' postgresql-server-dev-15)
if [ "$server" != "$headers" ]; then
	echo "install-deps: postgresql-15 is $server but postgresql-server-dev-15 is $headers" >&2
	exit 1
fi
