#!/bin/sh
# Runs every test program given and the shell tests; prints the total as
# "N passed, N failed, N skipped" and fails if any test failed. A test's
# summary line is "N passed, N failed" with an optional ", N skipped".
cd "$(dirname "$0")/.." || exit 2
passed=0; failed=0; skipped=0
for t in "$@" tests/test_*.sh; do
    [ "$t" = tests/run.sh ] && continue
    [ -e "$t" ] || continue
    echo "== $t"
    case "$t" in *.sh) out=$(sh "$t" 2>&1) ;; *) out=$("./$t" 2>&1) ;; esac
    rc=$?
    printf '%s\n' "$out" | grep -E '^(FAIL|ok|not ok|skip)' | head -50
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' | tail -1)
    if [ -z "$line" ]; then
        printf '%s\n' "$out" | tail -20
        echo "  (no summary line; counted as a failure)"; failed=$((failed + 1)); continue
    fi
    echo "  $line"
    p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
    case "$line" in *skipped) s=${line#*failed, }; s=${s%% skipped} ;; *) s=0 ;; esac
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && { echo "  (exit $rc; counted as a failure)"; failed=$((failed + 1)); }
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
