#!/bin/sh
# Compile BearSSL's library sources into a static archive.
#
#   third_party/bearssl/build.sh SRCDIR OUTDIR CC "CFLAGS"
#
# Builds OUTDIR/libbearssl.a from SRCDIR/src/**/*.c with the given compiler
# (musl-gcc for the shipped binary, clang for tests and fuzzers). BearSSL's
# own tools and tests are not built: only the library is linked.
set -eu
src=${1:?SRCDIR}
out=${2:?OUTDIR}
cc=${3:?CC}
cflags=${4:-}
jobs=$(nproc 2>/dev/null || echo 2)

test -f "$src/inc/bearssl.h" || { echo "build.sh: $src is not a BearSSL tree" >&2; exit 1; }
mkdir -p "$out/obj"
find "$src/src" -name '*.c' | sort >"$out/sources"
# One object per source, named after its path, compiled in parallel.
xargs -P "$jobs" -n 1 sh -c '
	f=$1; o="$0/obj/$(basename "$(dirname "$f")")_$(basename "$f" .c).o"
	[ "$o" -nt "$f" ] || exec '"$cc $cflags"' -I"'"$src"'/src" -I"'"$src"'/inc" -c "$f" -o "$o"
' "$out" <"$out/sources"
rm -f "$out/libbearssl.a.tmp"
ar rcs "$out/libbearssl.a.tmp" "$out"/obj/*.o
mv "$out/libbearssl.a.tmp" "$out/libbearssl.a"
