#!/usr/bin/env bash
# Runs `npm test` while two busy loops keep both cores of a 2-core machine at 100%: the suite
# must pass on a busy machine (waits are for conditions; limits scale with
# TAILSHIP_TEST_TIME_FACTOR). Extra arguments go to `npm test`. The load stops however the
# test run ends.
set -u
cd "$(dirname "$0")/.."
loads=()
for _ in 1 2; do
  yes > /dev/null &
  loads+=("$!")
done
stop_load() { kill "${loads[@]}" 2>/dev/null; wait "${loads[@]}" 2>/dev/null; }
trap stop_load EXIT INT TERM
echo "test-busy: ${#loads[@]} busy loops running (pids ${loads[*]}); TAILSHIP_TEST_TIME_FACTOR=${TAILSHIP_TEST_TIME_FACTOR:-1}"
npm test -- "$@"
