#!/bin/sh
# demo.sh - `make demo`: start the bundled leaky program, attach memleakd to
# it for 7 s with a report every second (seven reports, the last one final),
# then stop both. Needs root (memleakd loads BPF).
set -eu
cd "$(dirname "$0")/.."
build/targets/demo_leaky &
demo=$!
trap 'kill $demo 2>/dev/null || true' EXIT
sleep 0.5
echo "\$ sudo ./memleakd -p $demo -i 1 -d 7 -n 4"
./memleakd -p "$demo" -i 1 -d 7 -n 4
