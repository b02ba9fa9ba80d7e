# deploy-api image: a static binary and a CA bundle on an empty filesystem,
# for linux/amd64 and linux/arm64.
#
#   docker buildx build --platform linux/amd64,linux/arm64 \
#       --build-arg VERSION=$(git describe --always) -t REGISTRY/deploy-api:TAG --push .
#
# Stage "build" runs on amd64 and cross-compiles: `make` builds the amd64
# binary, `make arm64` the arm64 one (Debian's aarch64 gcc with musl's arm64
# files); BearSSL comes from Debian's source package, checksum-verified by
# third_party/bearssl/fetch.sh. Where no base image can be pulled,
# ci/image.sh replaces this stage with `--build-context build=DIR` holding
# the output of `make` (DIR/src/build/out/ARCH/deploy-api); the final stage
# is the same either way.
ARG VERSION=dev

FROM --platform=linux/amd64 debian:12-slim AS build
ARG VERSION
RUN dpkg --add-architecture arm64 \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        make gcc musl-tools xz-utils ca-certificates apt gcc-aarch64-linux-gnu musl-dev:arm64 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make VERSION="$VERSION" all arm64 \
 && mkdir -p build/out/amd64 build/out/arm64 \
 && cp build/deploy-api build/out/amd64/ \
 && cp build/arm64/deploy-api build/out/arm64/

# No shell, no libc, no package manager: only what the program reads.
# SOURCE: the repository's URL (ci/image.sh passes git's origin when it has
# one); LICENSES: an SPDX expression, NOASSERTION until the project has one.
FROM scratch
ARG VERSION
ARG TARGETARCH
ARG SOURCE=""
ARG LICENSES=NOASSERTION
LABEL org.opencontainers.image.title="deploy-api" \
      org.opencontainers.image.description="Slack slash command that deploys to Kubernetes: one static C binary" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="${LICENSES}" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /src/build/out/${TARGETARCH}/deploy-api /deploy-api
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
USER 65532:65532
EXPOSE 5000
ENTRYPOINT ["/deploy-api"]
CMD ["serve"]
