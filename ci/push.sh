#!/bin/sh
# Push the image index that `make image` built to a registry; print its digest.
#
#   ci/push.sh REGISTRY/PATH/deploy-api:TAG
#
# The builder is ci/image.sh's: docker when its engine answers, else buildah
# (IMAGE_BUILDER overrides).
# buildah: pushes the local index `make image` built (LOCAL_IMAGE, default
# localhost/deploy-api:latest) and every image in it, as an OCI index, and
# prints the digest the registry stores it under.
# docker: builds and pushes both architectures with `docker buildx build
# --push`, then reads the digest back with `docker buildx imagetools inspect`.
#
# Last line on success: "digest: sha256:..." (then how to pin it in
# k8s/kustomization.yaml). Environment: LOCAL_IMAGE, PUSH_TLS_VERIFY
# (default true; false only for a plain-HTTP registry on loopback),
# PUSH_AUTHFILE (a containers-auth.json; default: buildah's own login).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-}
case $dest in
"" | *" "*) echo "usage: ci/push.sh REGISTRY/PATH/deploy-api:TAG (make push IMAGE=...)" >&2; exit 2 ;;
esac
LOCAL_IMAGE=${LOCAL_IMAGE:-localhost/deploy-api:latest}
PUSH_TLS_VERIFY=${PUSH_TLS_VERIFY:-true}
VERSION=${VERSION:-$(git -C "$top" describe --always --dirty 2>/dev/null || echo dev)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

builder=${IMAGE_BUILDER:-}
if [ -z "$builder" ]; then
	if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
		builder=docker
	elif command -v buildah >/dev/null 2>&1; then
		builder=buildah
	else
		echo "push: neither buildah nor a docker engine is available (sh ci/deps.sh image)" >&2
		exit 1
	fi
fi

if [ "$builder" = buildah ]; then
	set -- --tls-verify="$PUSH_TLS_VERIFY"
	[ -z "${PUSH_AUTHFILE:-}" ] || set -- "$@" --authfile "$PUSH_AUTHFILE"
	buildah --storage-driver vfs manifest inspect "$LOCAL_IMAGE" >/dev/null 2>&1 ||
		{ echo "push: no image index $LOCAL_IMAGE in buildah's vfs storage (run make image)" >&2; exit 1; }
	echo "push: buildah manifest push --all $LOCAL_IMAGE docker://$dest"
	buildah --storage-driver vfs manifest push --all --format oci --quiet "$@" \
		--digestfile "$tmp/digest" "$LOCAL_IMAGE" "docker://$dest" >"$tmp/push.log" 2>&1 ||
		{ cat "$tmp/push.log" >&2; echo "push: buildah manifest push failed" >&2; exit 1; }
	digest=$(cat "$tmp/digest")
else
	echo "push: docker buildx build --platform linux/amd64,linux/arm64 --push -t $dest"
	docker buildx build --platform linux/amd64,linux/arm64 --build-arg VERSION="$VERSION" \
		-t "$dest" --push "$top"
	digest=$(docker buildx imagetools inspect "$dest" --format '{{json .Manifest}}' |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["digest"])')
fi

case $digest in
sha256:????????????????????????????????????????????????????????????????) ;;
*) echo "push: no digest from the push (got '$digest')" >&2; exit 1 ;;
esac
name=${dest%:*}
case ${dest##*/} in *:*) ;; *) name=$dest ;; esac
cat <<MSG
push: pushed $dest
push: pin it in k8s/kustomization.yaml:
  images:
  - name: deploy-api
    newName: $name
    digest: $digest
digest: $digest
MSG
