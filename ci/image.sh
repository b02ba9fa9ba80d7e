#!/bin/sh
# Build the FROM scratch image, print its size, run its binary.
#
#   ci/image.sh BINARY                      build, check size, smoke-test
#   ci/image.sh BINARY --rootfs-out FILE    same, then leave a working
#                                           container mounted and write the
#                                           path of its root filesystem to FILE
#   ci/image.sh --cleanup                   unmount and remove that container
#
# With a docker engine (`docker info` answers) it builds the Dockerfile as
# users do, build stage included. Otherwise it uses buildah (vfs storage,
# chroot isolation) and, since no base image can be pulled here, replaces
# the Dockerfile's "build" stage with `--build-context build=DIR`: DIR is laid
# out like that stage's filesystem (DIR/src/build/deploy-api from BINARY,
# DIR/etc/ssl/certs/ca-certificates.crt from this machine). The final stage
# is the Dockerfile's, unchanged; buildah skips the unused build stage.
#
# The smoke test runs /deploy-api from the image's own root filesystem:
# chroot into the mounted image as 65532:65532 (the image's USER), so the
# binary sees only the image's files (no /dev, no /proc, no libc).
#
# Prints "PASS image: ..." / "FAIL image: ..." lines; exits non-zero on any
# failure. The buildah path needs root (vfs mounts); CI runs as root.
#
# Environment: IMAGE (default localhost/deploy-api:latest), VERSION (default
# git describe), IMAGE_MAX_BYTES (default 1048576), IMAGE_BUILDER
# (docker|buildah, default: docker if its engine answers).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
IMAGE=${IMAGE:-localhost/deploy-api:latest}
VERSION=${VERSION:-$(git -C "$top" describe --always --dirty 2>/dev/null || echo dev)}
IMAGE_MAX_BYTES=${IMAGE_MAX_BYTES:-1048576}
CTR=deploy-api-image-test # the working container --rootfs-out leaves behind
CA=/etc/ssl/certs/ca-certificates.crt

bah() { buildah --storage-driver vfs "$@"; }

cleanup_ctr() {
	if command -v buildah >/dev/null 2>&1 && bah inspect --type container "$CTR" >/dev/null 2>&1; then
		bah umount "$CTR" >/dev/null 2>&1 || true
		bah rm "$CTR" >/dev/null
	fi
}

if [ "${1:-}" = --cleanup ]; then
	cleanup_ctr
	exit 0
fi

binary=${1:?usage: ci/image.sh BINARY [--rootfs-out FILE] | --cleanup}
rootfs_out=
if [ $# -ge 2 ]; then
	if [ "$2" != --rootfs-out ] || [ $# -ne 3 ]; then
		echo "usage: ci/image.sh BINARY [--rootfs-out FILE] | --cleanup" >&2
		exit 2
	fi
	rootfs_out=$3
fi
[ -f "$binary" ] || { echo "FAIL image: no binary at $binary (run make)"; exit 1; }

builder=${IMAGE_BUILDER:-}
if [ -z "$builder" ]; then
	if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
		builder=docker
	else
		builder=buildah
	fi
fi

tmp=$(mktemp -d)
keep=
on_exit() {
	rc=$?
	rm -rf "$tmp"
	[ -n "$keep" ] || cleanup_ctr
	exit $rc
}
trap on_exit EXIT
trap 'exit 130' INT TERM

fail() {
	echo "FAIL image: $*"
	exit 1
}

# ---- build (a container left by --rootfs-out would pin the old image)
cleanup_ctr
if [ "$builder" = docker ]; then
	echo "image: docker build $IMAGE (build stage included, as users build it)"
	timeout 1800 docker build --build-arg VERSION="$VERSION" -t "$IMAGE" "$top" >"$tmp/build.log" 2>&1 ||
		{ tail -n 30 "$tmp/build.log"; fail "docker build failed"; }
else
	command -v buildah >/dev/null 2>&1 || sh "$top/ci/deps.sh" image
	[ "$(id -u)" = 0 ] || fail "buildah with vfs mounts needs root here (or run under: buildah unshare)"
	ctx=$tmp/build-stage
	mkdir -p "$ctx/src/build" "$ctx/etc/ssl/certs"
	cp "$binary" "$ctx/src/build/deploy-api"
	chmod 0755 "$ctx/src/build/deploy-api"
	[ -f "$CA" ] || fail "no CA bundle at $CA (install ca-certificates)"
	cp "$CA" "$ctx/etc/ssl/certs/ca-certificates.crt"
	chmod 0644 "$ctx/etc/ssl/certs/ca-certificates.crt"
	old=$(bah images -q --no-trunc "$IMAGE" 2>/dev/null || true)
	echo "image: buildah bud $IMAGE (build stage replaced by $binary)"
	timeout 600 buildah --storage-driver vfs bud --isolation chroot \
		--build-context build="$ctx" --build-arg VERSION="$VERSION" \
		-t "$IMAGE" -f "$top/Dockerfile" "$top" >"$tmp/build.log" 2>&1 ||
		{ tail -n 30 "$tmp/build.log"; fail "buildah bud failed"; }
	# Drop the image this build untagged (only that one, never a prune).
	new=$(bah images -q --no-trunc "$IMAGE")
	if [ -n "$old" ] && [ "$old" != "$new" ]; then
		bah rmi "$old" >/dev/null 2>&1 || true
	fi
fi
echo "PASS image: built $IMAGE ($builder, version $VERSION)"

# ---- root filesystem of the image, as a directory
if [ "$builder" = docker ]; then
	# docker: export a created (never started) container into a directory.
	cid=$(docker create "$IMAGE")
	mnt=${rootfs_out:+$(mktemp -d)}
	mnt=${mnt:-$tmp/rootfs}
	mkdir -p "$mnt"
	docker export "$cid" | tar -C "$mnt" -xf -
	docker rm "$cid" >/dev/null
	size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
else
	bah from --name "$CTR" "$IMAGE" >/dev/null
	mnt=$(bah mount "$CTR")
	# Layers are stored uncompressed: their tar sizes add up to the image.
	size=$(bah inspect --type image "$IMAGE" | python3 -c '
import json, sys
m = json.loads(json.load(sys.stdin)["Manifest"])
print(sum(l["size"] for l in m["layers"]))')
fi
files=$(find "$mnt" -type f -printf "%s\n" | awk "{ n += \$1 } END { print n + 0 }")
echo "image: $size bytes uncompressed ($files bytes of files):"
(cd "$mnt" && find . -type f -exec ls -ln {} + | awk '{printf "  %8d %s:%s %s %s\n", $5, $3, $4, $1, $9}')
if [ "$size" -le "$IMAGE_MAX_BYTES" ]; then
	echo "PASS image: size $size bytes (limit $IMAGE_MAX_BYTES)"
else
	fail "size $size bytes, over the $IMAGE_MAX_BYTES byte budget"
fi

# ---- what is in it: exactly the binary and the CA bundle
extra=$(cd "$mnt" && find . ! -type d) || fail "cannot list $mnt"
extra=$(echo "$extra" | grep -v -x -e ./deploy-api -e ./etc/ssl/certs/ca-certificates.crt || true)
[ -z "$extra" ] || fail "unexpected files in the image: $(echo "$extra" | tr '\n' ' ')"
[ -x "$mnt/deploy-api" ] || fail "/deploy-api missing or not executable"
[ -s "$mnt/etc/ssl/certs/ca-certificates.crt" ] || fail "CA bundle missing"
echo "PASS image: contains only /deploy-api and the CA bundle"

# ---- smoke test from the image's root filesystem, as the image's user
out=$(timeout 10 chroot --userspec=65532:65532 "$mnt" /deploy-api version 2>&1) ||
	fail "/deploy-api version in the image exited $?: $out"
[ -n "$out" ] || fail "/deploy-api version printed nothing"
echo "PASS image: /deploy-api version (chroot as 65532): $(echo "$out" | head -n 1)"

if [ -n "$rootfs_out" ]; then
	echo "$mnt" >"$rootfs_out"
	keep=1
	if [ "$builder" = docker ]; then
		echo "image: root filesystem at $mnt (a plain directory; rm -rf it when done)"
	else
		echo "image: root filesystem at $mnt (container $CTR; ci/image.sh --cleanup removes it)"
	fi
fi
