# deploy-api image: a static binary and a CA bundle on an empty filesystem.
#
#   docker build -t deploy-api --build-arg VERSION=$(git describe --always) .
#
# Stage "build" compiles BearSSL and the binary exactly as `make` does
# (BearSSL comes from Debian's source package, checksum-verified by
# third_party/bearssl/fetch.sh). Where no base image can be pulled,
# ci/image.sh replaces this stage with `--build-context build=DIR` holding
# the output of `make`; the final stage is the same either way.
ARG VERSION=dev

FROM debian:12-slim AS build
ARG VERSION
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        make gcc musl-tools xz-utils ca-certificates apt \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make VERSION="$VERSION"

# No shell, no libc, no package manager: only what the program reads.
FROM scratch
ARG VERSION
LABEL org.opencontainers.image.title="deploy-api" \
      org.opencontainers.image.description="Slack slash command that deploys to Kubernetes: one static C binary" \
      org.opencontainers.image.source="https://github.com/OWNER/deploy-api" \
      org.opencontainers.image.licenses="NOASSERTION" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /src/build/deploy-api /deploy-api
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
USER 65532:65532
EXPOSE 5000
ENTRYPOINT ["/deploy-api"]
CMD ["serve"]
