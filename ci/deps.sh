#!/bin/sh
# Install what this project needs, if any of it is missing.
#
#   ci/deps.sh [build|cross|demo|test|bench|image|all]   (default: test)
#
# Sets: build = `make` (amd64 binary); cross = build + the arm64 cross
# toolchain (Debian's aarch64 gcc with musl's arm64 files); demo = `make
# demo`; test = everything `make test` runs against (real tinyproxy,
# docker-registry, qemu-user, node with the npm `ws` package); bench, image.
#
# As root it runs apt-get (adding the arm64 architecture first when a set
# needs an :arm64 package and dpkg lacks it) and `npm ci` for the Socket Mode
# stand-in's `ws`; otherwise it prints the one apt-get line and fails.
# Daemons that packages would start on install (tinyproxy, docker-registry)
# are kept from starting: tests start their own on loopback.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
want=${1:-test}
build="make gcc musl-tools xz-utils ca-certificates apt"
cross="$build gcc-aarch64-linux-gnu musl-dev:arm64"
demo="$build python3 openssl"
test="$cross clang libclang-rt-14-dev python3 openssl clang-format file buildah valgrind binutils
      tinyproxy docker-registry qemu-user npm"
bench="$test wrk nginx-light time"
image="$cross buildah python3"
npm_ws=no

case $want in
build) pkgs=$build ;;
cross) pkgs=$cross ;;
demo) pkgs=$demo ;;
test) pkgs=$test npm_ws=yes ;;
bench) pkgs=$bench npm_ws=yes ;;
image) pkgs=$image ;;
all) pkgs=$bench npm_ws=yes ;;
*) echo "deps.sh: unknown set '$want' (build|cross|demo|test|bench|image|all)" >&2; exit 2 ;;
esac

missing=
for p in $pkgs; do
	case $p in
	# The machine's Node.js may bring its own npm (a package that conflicts
	# with Debian's npm): any working npm will do.
	npm) command -v npm >/dev/null 2>&1 && continue ;;
	esac
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case $st in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done

# The npm `ws` package for the Socket Mode stand-in (pinned by its lock file).
ws_missing=no
[ $npm_ws = yes ] && [ ! -f "$top/test/e2e/standins/node_modules/ws/package.json" ] && ws_missing=yes

[ -z "$missing" ] && [ $ws_missing = no ] && exit 0

if [ "$(id -u)" != 0 ]; then
	[ -n "$missing" ] && {
		echo "deps.sh: missing Debian packages:$missing" >&2
		case $missing in *:arm64*) echo "deps.sh: first: sudo dpkg --add-architecture arm64" >&2 ;; esac
		echo "deps.sh: install them with: sudo apt-get update && sudo apt-get install -y$missing" >&2
	}
	[ $ws_missing = yes ] && echo "deps.sh: then: npm ci --prefix test/e2e/standins" >&2
	exit 1
fi

if [ -n "$missing" ]; then
	echo "deps.sh: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	case $missing in
	*:arm64*)
		dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
		;;
	esac
	# No package starts its daemon here (policy-rc.d exit 101 = "not now").
	policy=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		policy=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' >$policy
		chmod 0755 $policy
	fi
	trap '[ -z "$policy" ] || rm -f "$policy"' EXIT
	apt-get update -q >/dev/null || apt-get update
	apt-get install -y -q --no-install-recommends $missing >/dev/null
fi

if [ $ws_missing = yes ]; then
	echo "deps.sh: npm ci --prefix test/e2e/standins (ws for the Socket Mode stand-in)"
	npm ci --prefix "$top/test/e2e/standins" --no-audit --no-fund >/dev/null
fi
