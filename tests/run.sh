#!/bin/sh
# Runs every test program given and the shell tests; prints the total as
# "N passed, N failed" and fails if any test failed.
cd "$(dirname "$0")/.." || exit 2
passed=0; failed=0
for t in "$@" tests/test_*.sh; do
    [ "$t" = tests/run.sh ] && continue
    [ -e "$t" ] || continue
    echo "== $t"
    case "$t" in *.sh) out=$(sh "$t" 2>&1) ;; *) out=$("./$t" 2>&1) ;; esac
    rc=$?
    printf '%s\n' "$out" | grep -E '^(FAIL|ok|not ok)' | head -50
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -1)
    if [ -z "$line" ]; then
        printf '%s\n' "$out" | tail -20
        echo "  (no summary line; counted as a failure)"; failed=$((failed + 1)); continue
    fi
    echo "  $line"
    p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
    passed=$((passed + p)); failed=$((failed + f))
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && { echo "  (exit $rc; counted as a failure)"; failed=$((failed + 1)); }
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
