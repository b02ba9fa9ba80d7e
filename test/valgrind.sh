#!/bin/sh
# The e2e suite with the server under valgrind memcheck (glibc build), then a
# check of every parent process's log: no memcheck errors, nothing
# "definitely lost". Children exit with _exit and allocate freely (STYLE.md),
# so they are silenced (--child-silent-after-fork=yes); the requirement is
# "no leaks reported in the parent".
#
#   sh test/valgrind.sh [PATTERN...]
#
# PATTERNs select e2e tests as test/e2e/run.py does (substring of
# "module:test"); default: test_server: test_frontdoor: test_faults:.
# Logs: build/valgrind/<pid>.log. Prints one PASS/FAIL line per e2e test and
# per parent log; exits 1 when any failed.
set -u
cd "$(dirname "$0")/.." || exit 2

command -v valgrind >/dev/null 2>&1 || { echo "FAIL valgrind: not installed (apt-get install valgrind)"; exit 1; }
make -s build/glibc/deploy-api || { echo "FAIL valgrind: glibc build"; exit 1; }

LOGDIR=$PWD/build/valgrind
mkdir -p "$LOGDIR"
rm -f "$LOGDIR"/*.log
# valgrind 3.19 (Debian 12) gives up on the DWARF 5 that clang writes for the
# host BearSSL ("unhandled dwarf2 abbrev form code 0x25 ... Giving up"): link
# the glibc objects (gcc's DWARF, read fine) against a copy of BearSSL without
# debug info (the host BearSSL keeps it for the sanitizer builds).
BIN=$LOGDIR/deploy-api
objcopy --strip-debug build/bearssl-host/libbearssl.a "$LOGDIR/libbearssl-nodebug.a" &&
    gcc -o "$BIN" build/glibc/*.o "$LOGDIR/libbearssl-nodebug.a" ||
    { echo "FAIL valgrind: relink without BearSSL debug info"; exit 1; }

DEPLOY_API_WRAPPER="valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite \
--error-exitcode=99 --child-silent-after-fork=yes --log-file=$LOGDIR/%p.log"
export DEPLOY_API_WRAPPER

[ $# -gt 0 ] || set -- test_server: test_frontdoor: test_faults:
fail=0 e2e_fail=0 mem_fail=0
for pat in "$@"; do
    python3 test/e2e/run.py "$BIN" "$pat" || e2e_fail=1
done

# One log per process valgrind ran. A parent that ended (exit or a caught
# signal) has an ERROR SUMMARY; one a test killed with SIGKILL has none
# (nothing can run after SIGKILL), and neither has a silenced child.
parents=0 killed=0
for f in "$LOGDIR"/*.log; do
    [ -e "$f" ] || continue
    pid=$(basename "$f" .log)
    if ! grep -q "ERROR SUMMARY:" "$f"; then
        if grep -q "Process terminating with default action of signal" "$f"; then
            echo "FAIL valgrind:$pid: terminated by a signal: $(grep -m1 'default action of signal' "$f" | sed 's/^==[0-9]*== //')"
            mem_fail=1
        elif [ -s "$f" ]; then
            killed=$((killed + 1))
            echo "SKIP valgrind:$pid: no summary (SIGKILLed by a test)"
        fi
        continue
    fi
    parents=$((parents + 1))
    errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$f" | tr -d , | tail -n 1)
    lost=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$f" | tr -d , | tail -n 1)
    lost=${lost:-0}
    if [ "$errs" = 0 ]; then
        echo "PASS valgrind:$pid:errors: ERROR SUMMARY: 0 errors"
    else
        echo "FAIL valgrind:$pid:errors: ERROR SUMMARY: $errs errors (see $f)"
        mem_fail=1
    fi
    if [ "$lost" = 0 ]; then
        echo "PASS valgrind:$pid:leaks: definitely lost: 0 bytes"
    else
        echo "FAIL valgrind:$pid:leaks: definitely lost: $lost bytes (see $f)"
        mem_fail=1
    fi
done
if [ "$parents" = 0 ]; then
    echo "FAIL valgrind: no parent log with an ERROR SUMMARY in $LOGDIR"
    mem_fail=1
fi
echo "valgrind: $parents parent logs checked, $killed killed without a summary"
[ "$mem_fail" = 0 ] && echo "PASS valgrind:memcheck: no errors, nothing definitely lost in any parent" ||
    echo "FAIL valgrind:memcheck"
[ "$e2e_fail" = 0 ] && echo "PASS valgrind:e2e: every selected test passed under valgrind" ||
    echo "FAIL valgrind:e2e: some tests failed under valgrind (FAIL lines above)"
[ "$mem_fail" = 0 ] && [ "$e2e_fail" = 0 ] || fail=1
exit "$fail"
