#!/bin/sh
# Install the Debian packages this project needs, if any are missing.
#
#   ci/deps.sh [build|test|bench|image|all]   (default: test)
#
# As root it runs apt-get; otherwise it prints exactly what to install and
# fails. Called by the make targets that need the tools.
set -eu

want=${1:-test}
build="make gcc musl-tools xz-utils ca-certificates apt"
test="$build clang libclang-rt-14-dev python3 openssl clang-format file buildah valgrind binutils"
bench="$test wrk nginx-light time"
image="$test buildah"

case $want in
build) pkgs=$build ;;
test) pkgs=$test ;;
bench) pkgs=$bench ;;
image) pkgs=$image ;;
all) pkgs="$bench buildah valgrind" ;;
*) echo "deps.sh: unknown set '$want' (build|test|bench|image|all)" >&2; exit 2 ;;
esac

missing=
for p in $pkgs; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case $st in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing Debian packages:$missing" >&2
	echo "deps.sh: install them with: sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "deps.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || apt-get update
apt-get install -y -q --no-install-recommends $missing >/dev/null
