#!/bin/sh
# Build the FROM scratch image for each architecture given, and an OCI image
# index holding them; print each image's size; run each image's binary.
#
#   ci/image.sh AMD64_BINARY [--arm64 ARM64_BINARY] [--rootfs-out FILE]
#       build, check sizes, smoke-test. --rootfs-out leaves the amd64
#       image's working container mounted and writes the path of its root
#       filesystem to FILE.
#   ci/image.sh --cleanup    unmount and remove that container
#   ci/image.sh --remove     --cleanup, then remove IMAGE and its per-arch images
#
# Names: IMAGE (default localhost/deploy-api:latest) is the index; each
# architecture's image is tagged IMAGE-ARCH (localhost/deploy-api:latest-arm64);
# the working containers are IMAGE_CTR-ARCH (default deploy-api-image-PID).
# Tests set IMAGE and IMAGE_CTR unique per run, so two runs on one host never
# touch each other's images or containers.
#
# With a docker engine (`docker info` answers) it builds the Dockerfile as
# users do, build stage included (one image per architecture; `make push`
# builds and pushes the index with buildx). Otherwise it uses buildah (vfs
# storage, chroot isolation) and, since no base image can be pulled here,
# replaces the Dockerfile's "build" stage with `--build-context build=DIR`:
# DIR is laid out like that stage's filesystem
# (DIR/src/build/out/ARCH/deploy-api from the binary, the CA bundle from this
# machine). The final stage is the Dockerfile's, unchanged; buildah skips the
# unused build stage. The index is `buildah manifest create` + `add`.
#
# The smoke test runs /deploy-api from the image's own root filesystem:
# amd64 by chroot into the mounted image as 65532:65532 (the image's USER),
# so the binary sees only the image's files; arm64 under qemu-aarch64.
#
# Prints "PASS image: ..." / "FAIL image: ..." lines; exits non-zero on any
# failure. The buildah path needs root (vfs mounts); CI runs as root.
#
# Environment: IMAGE, IMAGE_CTR, VERSION (default git describe),
# IMAGE_MAX_BYTES (default 1048576, per image), IMAGE_BUILDER
# (docker|buildah, default: docker if its engine answers).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
IMAGE=${IMAGE:-localhost/deploy-api:latest}
IMAGE_CTR=${IMAGE_CTR:-deploy-api-image-$$}
VERSION=${VERSION:-$(git -C "$top" describe --always --dirty 2>/dev/null || echo dev)}
IMAGE_MAX_BYTES=${IMAGE_MAX_BYTES:-1048576}
CA=/etc/ssl/certs/ca-certificates.crt
ARCHES="amd64 arm64"
usage="usage: ci/image.sh AMD64_BINARY [--arm64 ARM64_BINARY] [--rootfs-out FILE] | --cleanup | --remove"

bah() { buildah --storage-driver vfs "$@"; }
have_buildah() { command -v buildah >/dev/null 2>&1; }

# IMAGE-ARCH: the tag of one architecture's image.
arch_ref() {
	case ${IMAGE##*/} in
	*:*) echo "$IMAGE-$1" ;;
	*) echo "$IMAGE:latest-$1" ;;
	esac
}

cleanup_ctr() {
	have_buildah || return 0
	for a in $ARCHES; do
		if bah inspect --type container "$IMAGE_CTR-$a" >/dev/null 2>&1; then
			bah umount "$IMAGE_CTR-$a" >/dev/null 2>&1 || true
			bah rm "$IMAGE_CTR-$a" >/dev/null
		fi
	done
}

remove_images() {
	have_buildah || return 0
	bah manifest rm "$IMAGE" >/dev/null 2>&1 || bah rmi "$IMAGE" >/dev/null 2>&1 || true
	for a in $ARCHES; do
		bah rmi "$(arch_ref "$a")" >/dev/null 2>&1 || true
	done
}

case ${1:-} in
--cleanup) cleanup_ctr; exit 0 ;;
--remove) cleanup_ctr; remove_images; exit 0 ;;
esac

amd64_bin= arm64_bin= rootfs_out=
while [ $# -gt 0 ]; do
	case $1 in
	--arm64) arm64_bin=${2:?$usage}; shift 2 ;;
	--rootfs-out) rootfs_out=${2:?$usage}; shift 2 ;;
	-*) echo "$usage" >&2; exit 2 ;;
	*) [ -z "$amd64_bin" ] || { echo "$usage" >&2; exit 2; }; amd64_bin=$1; shift ;;
	esac
done
[ -n "$amd64_bin" ] || { echo "$usage" >&2; exit 2; }
fail() {
	echo "FAIL image: $*"
	exit 1
}
[ -f "$amd64_bin" ] || fail "no binary at $amd64_bin (run make)"
[ -z "$arm64_bin" ] || [ -f "$arm64_bin" ] || fail "no binary at $arm64_bin (run make arm64)"
arches=amd64
[ -z "$arm64_bin" ] || arches="amd64 arm64"

builder=${IMAGE_BUILDER:-}
if [ -z "$builder" ]; then
	if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
		builder=docker
	else
		builder=buildah
	fi
fi

# The repository's URL for the image's source label, when git knows one.
source_url=$(git -C "$top" remote get-url origin 2>/dev/null || true)
case $source_url in
git@*:*) source_url=$(echo "$source_url" | sed 's|^git@\([^:]*\):|https://\1/|') ;;
https://*) ;;
*) source_url= ;;
esac
source_url=${source_url%.git}

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

# ---- build one image per architecture
build_one() { # ARCH BINARY
	a=$1 bin=$2 ref=$(arch_ref "$1")
	if [ "$builder" = docker ]; then
		echo "image: docker build --platform linux/$a $ref (build stage included, as users build it)"
		timeout 1800 docker build --platform "linux/$a" --build-arg VERSION="$VERSION" \
			--build-arg SOURCE="$source_url" -t "$ref" "$top" >"$tmp/build.log" 2>&1 ||
			{ tail -n 30 "$tmp/build.log"; fail "docker build linux/$a failed"; }
		return
	fi
	ctx=$tmp/build-stage-$a
	mkdir -p "$ctx/src/build/out/$a" "$ctx/etc/ssl/certs"
	cp "$bin" "$ctx/src/build/out/$a/deploy-api"
	chmod 0755 "$ctx/src/build/out/$a/deploy-api"
	cp "$CA" "$ctx/etc/ssl/certs/ca-certificates.crt"
	chmod 0644 "$ctx/etc/ssl/certs/ca-certificates.crt"
	old=$(bah images -q --no-trunc "$ref" 2>/dev/null || true)
	echo "image: buildah bud --platform linux/$a $ref (build stage replaced by $bin)"
	timeout 600 buildah --storage-driver vfs bud --isolation chroot --platform "linux/$a" \
		--build-context build="$ctx" --build-arg VERSION="$VERSION" --build-arg SOURCE="$source_url" \
		-t "$ref" -f "$top/Dockerfile" "$top" >"$tmp/build.log" 2>&1 ||
		{ tail -n 30 "$tmp/build.log"; fail "buildah bud linux/$a failed"; }
	# Drop the image this build untagged (only that one, never a prune).
	new=$(bah images -q --no-trunc "$ref")
	if [ -n "$old" ] && [ "$old" != "$new" ]; then
		bah rmi "$old" >/dev/null 2>&1 || true
	fi
}

# ---- check one image: size, contents, its binary runs
check_one() { # ARCH
	a=$1 ref=$(arch_ref "$1")
	if [ "$builder" = docker ]; then
		# docker: export a created (never started) container into a directory.
		cid=$(docker create --platform "linux/$a" "$ref")
		mnt=$(mktemp -d)
		docker export "$cid" | tar -C "$mnt" -xf -
		docker rm "$cid" >/dev/null
		size=$(docker image inspect -f '{{.Size}}' "$ref")
	else
		bah from --arch "$a" --name "$IMAGE_CTR-$a" "$ref" >/dev/null
		mnt=$(bah mount "$IMAGE_CTR-$a")
		# Layers are stored uncompressed: their tar sizes add up to the image.
		size=$(bah inspect --type image "$ref" | python3 -c '
import json, sys
m = json.loads(json.load(sys.stdin)["Manifest"])
print(sum(l["size"] for l in m["layers"]))')
		got=$(bah inspect --type image -f '{{.OCIv1.Architecture}}' "$ref")
		[ "$got" = "$a" ] || fail "$ref says architecture $got, not $a"
	fi
	files=$(find "$mnt" -type f -printf "%s\n" | awk '{ n += $1 } END { print n + 0 }')
	echo "image: linux/$a $ref: $size bytes uncompressed ($files bytes of files):"
	(cd "$mnt" && find . -type f -exec ls -ln {} + | awk '{printf "  %8d %s:%s %s %s\n", $5, $3, $4, $1, $9}')
	if [ "$size" -le "$IMAGE_MAX_BYTES" ]; then
		echo "PASS image: linux/$a size $size bytes (limit $IMAGE_MAX_BYTES)"
	else
		fail "linux/$a size $size bytes, over the $IMAGE_MAX_BYTES byte budget"
	fi

	# What is in it: exactly the binary and the CA bundle.
	extra=$(cd "$mnt" && find . ! -type d) || fail "cannot list $mnt"
	extra=$(echo "$extra" | grep -v -x -e ./deploy-api -e ./etc/ssl/certs/ca-certificates.crt || true)
	[ -z "$extra" ] || fail "unexpected files in the linux/$a image: $(echo "$extra" | tr '\n' ' ')"
	[ -x "$mnt/deploy-api" ] || fail "/deploy-api missing or not executable in linux/$a"
	[ -s "$mnt/etc/ssl/certs/ca-certificates.crt" ] || fail "CA bundle missing in linux/$a"
	echo "PASS image: linux/$a contains only /deploy-api and the CA bundle"

	if [ "$a" = amd64 ]; then
		out=$(timeout 10 chroot --userspec=65532:65532 "$mnt" /deploy-api version 2>&1) ||
			fail "/deploy-api version in the linux/amd64 image exited $?: $out"
		how="chroot as 65532"
	else
		command -v qemu-aarch64 >/dev/null 2>&1 || fail "qemu-aarch64 missing (sh ci/deps.sh test)"
		# (as root: the storage directory above the mount is root-only)
		out=$(timeout 30 qemu-aarch64 "$mnt/deploy-api" version 2>&1) ||
			fail "/deploy-api version in the linux/arm64 image exited $?: $out"
		how="qemu-aarch64"
	fi
	[ -n "$out" ] || fail "/deploy-api version in linux/$a printed nothing"
	echo "PASS image: linux/$a /deploy-api version ($how): $(echo "$out" | head -n 1)"
	if [ "$builder" = docker ] && { [ -z "$rootfs_out" ] || [ "$a" != amd64 ]; }; then
		rm -rf "$mnt"
	fi
	[ "$a" = amd64 ] && amd64_mnt=$mnt
	return 0
}

if [ "$builder" = buildah ]; then
	have_buildah || sh "$top/ci/deps.sh" image
	[ "$(id -u)" = 0 ] || fail "buildah with vfs mounts needs root here (or run under: buildah unshare)"
	[ -f "$CA" ] || fail "no CA bundle at $CA (install ca-certificates)"
fi
cleanup_ctr # a container left by --rootfs-out would pin the old image
build_one amd64 "$amd64_bin"
[ -z "$arm64_bin" ] || build_one arm64 "$arm64_bin"
echo "PASS image: built $(for a in $arches; do printf '%s ' "$(arch_ref "$a")"; done)($builder, version $VERSION)"

amd64_mnt=
for a in $arches; do
	check_one "$a"
done

# ---- the index: one name for every architecture (buildah; docker's comes
# from `docker buildx build --platform ... --push` in ci/push.sh)
if [ "$builder" = buildah ]; then
	bah manifest rm "$IMAGE" >/dev/null 2>&1 || bah rmi "$IMAGE" >/dev/null 2>&1 || true
	bah manifest create "$IMAGE" >/dev/null
	for a in $arches; do
		bah manifest add "$IMAGE" "containers-storage:$(arch_ref "$a")" >/dev/null
	done
	plats=$(bah manifest inspect "$IMAGE" | python3 -c '
import json, sys
m = json.load(sys.stdin)
print(" ".join(sorted(p["platform"]["os"] + "/" + p["platform"]["architecture"] for p in m["manifests"])))')
	want=$(for a in $arches; do printf 'linux/%s\n' "$a"; done | sort | tr '\n' ' ')
	[ "$plats " = "$want" ] || fail "index $IMAGE holds '$plats', want '$want'"
	echo "PASS image: index $IMAGE holds $plats"
fi

if [ -n "$rootfs_out" ]; then
	echo "$amd64_mnt" >"$rootfs_out"
	keep=1
	if [ "$builder" = docker ]; then
		echo "image: root filesystem at $amd64_mnt (a plain directory; rm -rf it when done)"
	else
		echo "image: root filesystem at $amd64_mnt (container $IMAGE_CTR-amd64; ci/image.sh --cleanup removes it)"
	fi
fi
