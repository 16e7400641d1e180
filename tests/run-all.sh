#!/bin/sh
# run-all.sh - run every unit test binary given as an argument, then the
# integration suite, and print the one summary line `N passed, N failed`.
# Each suite prints "PASS name" or "FAIL name" per test; this counts them.
# A suite that dies without saying so counts as one failure. The
# integration suite traces with $MEMLEAKD when it is set (the sanitized
# build); the tests named by $PLAIN_TESTS (substrings, as run.py takes them)
# then run again with ./memleakd, as "integration.plain...". Integration
# tests run $INTEGRATION_JOBS at a time (2 by default).
cd "$(dirname "$0")/.." || exit 1
log=$(mktemp)
out=$(mktemp)
run_suite() {
	"$@" >"$out" 2>&1
	rc=$?
	cat "$out"
	cat "$out" >>"$log"
	if [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$out"; then
		echo "FAIL $* (exit status $rc)" | tee -a "$log"
	fi
}
for t in "$@"; do
	run_suite "$t"
done
jobs=${INTEGRATION_JOBS:-2}
run_suite python3 tests/integration/run.py --jobs "$jobs"
if [ -n "${PLAIN_TESTS:-}" ]; then
	# shellcheck disable=SC2086
	run_suite env MEMLEAKD= python3 tests/integration/run.py --jobs "$jobs" --label plain $PLAIN_TESTS
fi
passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
rm -f "$log" "$out"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
