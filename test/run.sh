#!/bin/sh
# Test runner: every layer prints "PASS name" / "FAIL name: why" lines; this
# script runs the layers, keeps the lines and ends with "N passed, N failed".
#
#   test/run.sh unit BIN...            unit test binaries
#   test/run.sh fuzz SECONDS BIN...    each libFuzzer target for SECONDS
#   test/run.sh e2e BINARY             the Python end-to-end suite
#   test/run.sh format FILE...         clang-format check
#   test/run.sh manifests              render k8s/ and check its security
#   test/run.sh arm64 ARM64_BINARY     e2e subset with the arm64 binary under qemu-aarch64
#   test/run.sh all "UNIT" "FUZZ" BINARY [ARM64_BINARY]
#                                      all of the above, then test/valgrind.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
log=${TEST_LOG:-$top/build/test.log}
mkdir -p "$(dirname "$log")"

unit() {
	for b in "$@"; do
		out=$("$b" 2>&1)
		rc=$?
		echo "$out" | grep -E '^(PASS|FAIL) '
		if [ $rc -ne 0 ] && ! echo "$out" | grep -q '^FAIL '; then
			echo "FAIL $b: exited $rc without a FAIL line"
			echo "$out" | tail -n 30 | sed 's/^/    /'
		elif [ $rc -ne 0 ]; then
			echo "$out" | grep -v -E '^(PASS|FAIL) ' | tail -n 30 | sed 's/^/    /'
		fi
	done
}

fuzz() {
	secs=$1
	shift
	for b in "$@"; do
		name=$(basename "$b")
		b="$(cd "$(dirname "$b")" && pwd)/$name"
		corpus="$top/test/fuzz/corpus/${name#fuzz_}"
		work="$top/build/fuzz-corpus/${name#fuzz_}"
		mkdir -p "$work" "$corpus"
		out=$(cd "$top/build" && "$b" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 "$work" "$corpus" 2>&1)
		rc=$?
		execs=$(echo "$out" | sed -n 's/^stat::number_of_executed_units: *//p')
		if [ $rc -eq 0 ]; then
			echo "PASS fuzz:$name ($secs s, ${execs:-?} executions)"
		else
			echo "FAIL fuzz:$name: exit $rc"
			echo "$out" | grep -v '^#' | tail -n 40 | sed 's/^/    /'
		fi
	done
}

e2e() {
	python3 "$top/test/e2e/run.py" "$1"
	rc=$?
	[ $rc -le 1 ] || echo "FAIL e2e: runner exited $rc"
}

# The arm64 binary runs the e2e subset below under qemu-user: the tests reach
# it through a two-line wrapper script (every test, including those that run
# the binary by path, then runs it under qemu-aarch64). Subset: the server
# (HTTP, limits, signals), the front door (signatures, replay, policy), the
# full deploy against the kube stand-in over TLS, and the CLI.
ARM64_E2E="test_server: test_frontdoor: test_kube_e2e: test_cli:"
arm64() {
	bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
	if ! command -v qemu-aarch64 >/dev/null 2>&1; then
		echo "FAIL arm64: qemu-aarch64 missing (sh ci/deps.sh test)"
		return
	fi
	if ! file "$bin" | grep -q 'ARM aarch64.*statically linked'; then
		echo "FAIL arm64: $bin is not a static aarch64 binary: $(file "$bin")"
		return
	fi
	wrap=$bin.qemu
	printf '#!/bin/sh\nexec qemu-aarch64 "%s" "$@"\n' "$bin" >"$wrap"
	chmod 0755 "$wrap"
	t0=$(date +%s)
	for pat in $ARM64_E2E; do
		out=$(python3 "$top/test/e2e/run.py" "$wrap" "$pat" 2>&1)
		rc=$?
		echo "$out" | sed 's/^\(PASS\|FAIL\|SKIP\) e2e:/\1 arm64-e2e:/'
		[ $rc -le 1 ] || echo "FAIL arm64-e2e:$pat: runner exited $rc"
		echo "$out" | grep -q '^PASS ' || echo "FAIL arm64-e2e:$pat: no test passed (none selected?)"
	done
	echo "arm64: e2e subset ($ARM64_E2E) under qemu-aarch64 in $(($(date +%s) - t0)) s"
}

format() {
	bad=0
	for f in "$@"; do
		[ -f "$f" ] || continue
		if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
			echo "FAIL format:$f: not clang-formatted (run make format)"
			bad=1
		fi
	done
	[ $bad -eq 0 ] && echo "PASS format: $# files clang-formatted"
}

manifests() {
	if [ -f "$top/test/k8s/check_manifests.py" ]; then
		python3 "$top/test/k8s/check_manifests.py" "$top/k8s"
	fi
}

summary() {
	p=$(grep -c '^PASS ' "$log")
	f=$(grep -c '^FAIL ' "$log")
	echo
	grep '^FAIL ' "$log" | sed 's/^/  /'
	echo "$p passed, $f failed"
	[ "$f" -eq 0 ] && [ "$p" -gt 0 ]
}

mode=$1
shift
case $mode in
unit) unit "$@" | tee "$log" ;;
fuzz) fuzz "$@" | tee "$log" ;;
e2e) e2e "$@" | tee "$log" ;;
format) format "$@" | tee "$log" ;;
manifests) manifests | tee "$log" ;;
arm64) arm64 "$@" | tee "$log" ;;
all)
	units=$1 fuzzers=$2 binary=$3 arm64_binary=${4:-}
	# The manifest checks load k8s/base/policy.txt with this binary.
	DEPLOY_API_BIN=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
	export DEPLOY_API_BIN
	: >"$log"
	{
		echo "== format"
		format "$top"/src/*.c "$top"/src/*.h "$top"/test/unit/*.c "$top"/test/unit/*.h "$top"/test/fuzz/*.c
		echo "== binary"
		if file "$binary" | grep -q 'statically linked'; then
			echo "PASS binary: statically linked"
		else
			echo "FAIL binary: not statically linked: $(file "$binary")"
		fi
		size=$(wc -c <"$binary")
		if [ "$size" -le 327680 ]; then
			echo "PASS binary: $size bytes (limit 327680)"
		else
			echo "FAIL binary: $size bytes, over the 320 KiB limit"
		fi
		echo "== unit"
		unit $units
		echo "== fuzz (short)"
		fuzz "${FUZZ_SHORT_SECONDS:-5}" $fuzzers
		echo "== manifests"
		manifests
		echo "== e2e"
		e2e "$binary"
		if [ -n "$arm64_binary" ]; then
			echo "== arm64 (e2e subset under qemu-aarch64)"
			arm64 "$arm64_binary"
		fi
		echo "== valgrind (glibc build, e2e subset under memcheck)"
		sh "$top/test/valgrind.sh" 2>&1 | sed 's/^\(PASS\|FAIL\|SKIP\) e2e:/\1 valgrind-e2e:/'
	} 2>&1 | tee "$log"
	;;
*) echo "run.sh: unknown mode $mode" >&2; exit 2 ;;
esac
summary
