# Helpers for the shell tests: $DARKNET, scratch_dir NAME, check NAME CMD...,
# expect_fail NAME MSG CMD... and skip NAME (a check that cannot run here),
# ending with summary, which prints "N passed, N failed[, N skipped]".
passed=0; failed=0; skipped=0
# The program under test (make sanitize runs the suite on ./darknet-asan).
DARKNET=${DARKNET:-./darknet}; export DARKNET
# T: a fresh directory for the test's files, removed when the shell exits.
scratch_dir() {
    T=$(mktemp -d "/tmp/inv-$1-XXXXXX")
    trap 'rm -rf "$T"' EXIT
}
check() {
    name=$1; shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL $name"; fi
}
# The command must exit non-zero and print MSG (a fixed string) on stderr.
expect_fail() {
    name=$1 msg=$2; shift 2
    err=$("$@" 2>&1 >/dev/null); rc=$?
    if [ $rc -ne 0 ] && printf '%s' "$err" | grep -qF -- "$msg"; then passed=$((passed + 1))
    else failed=$((failed + 1)); echo "FAIL $name (exit $rc): expected '$msg', got: $(printf '%s' "$err" | tail -3)"; fi
}
skip() {
    skipped=$((skipped + 1)); echo "skip $1"
}
# kill_when_exists PID FILE POLLS STEP: kills (-9) the background run PID as
# soon as FILE exists (or the run ends, or POLLS polls STEP s apart have
# passed), and reaps it.
kill_when_exists() {
    _kw_pid=$1 _kw_i=0
    while [ ! -e "$2" ] && [ $_kw_i -lt "$3" ] && kill -0 "$_kw_pid" 2>/dev/null; do sleep "$4"; _kw_i=$((_kw_i + 1)); done
    kill -KILL "$_kw_pid" 2>/dev/null
    wait "$_kw_pid" 2>/dev/null
}
summary() {
    if [ $skipped -gt 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"
    else echo "$passed passed, $failed failed"; fi
    [ $failed -eq 0 ]
}
