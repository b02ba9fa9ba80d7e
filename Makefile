# deploy-api: one static binary (musl + BearSSL), its tests, fuzzers, benches.
#
#   make            build/deploy-api (static, stripped)
#   make test       everything CI checks; ends with "N passed, N failed"
#   make demo       a deploy end to end on this machine, no Slack, no cluster
#   make bench      figures for docs/benchmarks.md
#   make fuzz       each libFuzzer target for FUZZ_SECONDS (default 60)
#   make arm64      build/arm64/deploy-api (static, stripped, linux/arm64)
#   make image      the FROM scratch images (amd64, arm64) and their index
#   make push IMAGE=reg/x/deploy-api:TAG   push the index, print its digest
#   make format     clang-format the C sources
#   make valgrind   e2e subset with the server under memcheck (also in make test)

BUILD      ?= build
# make image builds this local index; make push IMAGE=... pushes it.
LOCAL_IMAGE ?= localhost/deploy-api:latest
VERSION    ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
BEARSSL_SRC ?= $(BUILD)/third_party/bearssl-0.6

# CI builds with -Werror (CI=true in its environment).
ifneq ($(CI),)
WERROR ?= -Werror
endif

WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
       -Wformat=2 -Wpointer-arith -Wvla -Wwrite-strings -Wcast-align \
       -Wundef -Wno-unused-parameter $(WERROR)
DEFS = -std=c11 -D_GNU_SOURCE -DDEPLOY_API_VERSION='"$(VERSION)"'

# Shipped binary: musl, size-optimized, dead sections dropped, stripped. No
# unwind tables: nothing unwinds C (aarch64 GCC emits them by default: 33 KiB).
MUSL_CC      = musl-gcc
MUSL_CFLAGS  = -Os $(DEFS) $(WARN) -ffunction-sections -fdata-sections \
               -fno-asynchronous-unwind-tables -fno-unwind-tables -fno-stack-protector \
               -isystem $(BEARSSL_SRC)/inc
# -z noseparate-code: no page of padding around each segment (binutils pads
# them apart by default); -z norelro: a static musl binary never applies
# RELRO, so its page alignment is padding too. Together about 5 KiB.
MUSL_LDFLAGS = -static -Wl,--gc-sections -s -Wl,-z,noseparate-code -Wl,-z,norelro

# The same binary for linux/arm64: Debian's aarch64 cross compiler with
# musl's arm64 files (musl-dev:arm64 ships this gcc wrapper and its specs).
ARM64_CC   = aarch64-linux-musl-gcc
ARM64_OBJS = $(SRCS:src/%.c=$(BUILD)/arm64/obj/%.o)
BEARSSL_ARM64 = $(BUILD)/bearssl-arm64/libbearssl.a
# aarch64 segments align to 64 KiB (so it runs on 4K, 16K and 64K page
# kernels); with RELRO, ld pads the file to that alignment (+62 KiB). A
# static non-PIE musl binary never mprotects RELRO anyway: drop it.
ARM64_LDFLAGS = $(MUSL_LDFLAGS)

# Tests and fuzzers: host clang with AddressSanitizer and UBSan.
HOST_CC     = clang
SAN         = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
HOST_CFLAGS = -O1 -g $(DEFS) -DCONFIG_DOCS $(WARN) $(SAN) -isystem $(BEARSSL_SRC)/inc -iquote src
FUZZ_CFLAGS = -O1 -g $(DEFS) -DCONFIG_DOCS $(WARN) $(SAN) -fsanitize=fuzzer-no-link -isystem $(BEARSSL_SRC)/inc -iquote src

# glibc build for valgrind (memcheck does not like ASan).
GLIBC_CFLAGS = -O1 -g $(DEFS) -DCONFIG_DOCS $(WARN) -isystem $(BEARSSL_SRC)/inc

SRCS      = $(sort $(wildcard src/*.c))
LIB_SRCS  = $(filter-out src/main.c,$(SRCS))
HDRS      = $(wildcard src/*.h)
UNIT_SRCS = $(sort $(wildcard test/unit/test_*.c))
FUZZ_SRCS = $(sort $(wildcard test/fuzz/fuzz_*.c))

MUSL_OBJS  = $(SRCS:src/%.c=$(BUILD)/musl/%.o)
HOST_OBJS  = $(LIB_SRCS:src/%.c=$(BUILD)/host/%.o)
FUZZ_OBJS  = $(LIB_SRCS:src/%.c=$(BUILD)/fuzz/%.o)
GLIBC_OBJS = $(SRCS:src/%.c=$(BUILD)/glibc/%.o)
UNIT_BINS  = $(UNIT_SRCS:test/unit/%.c=$(BUILD)/unit/%)
FUZZ_BINS  = $(FUZZ_SRCS:test/fuzz/%.c=$(BUILD)/fuzzers/%)

BEARSSL_MUSL = $(BUILD)/bearssl-musl/libbearssl.a
BEARSSL_HOST = $(BUILD)/bearssl-host/libbearssl.a

.PHONY: FORCE all arm64 e2e-arm64 push deps test unit fuzz-short fuzz e2e demo bench image format format-check \
        manifests clean valgrind-build valgrind
.DELETE_ON_ERROR:

all: $(BUILD)/deploy-api

deps:
	@sh ci/deps.sh test

$(BEARSSL_SRC)/inc/bearssl.h:
	@sh third_party/bearssl/fetch.sh $(dir $(BEARSSL_SRC))

$(BEARSSL_MUSL): | $(BEARSSL_SRC)/inc/bearssl.h
	@echo "  BEARSSL (musl) $@"
	@sh third_party/bearssl/build.sh $(BEARSSL_SRC) $(dir $@) $(MUSL_CC) \
	    "-Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables"

$(BEARSSL_ARM64): | $(BEARSSL_SRC)/inc/bearssl.h
	@echo "  BEARSSL (arm64) $@"
	@sh third_party/bearssl/build.sh $(BEARSSL_SRC) $(dir $@) $(ARM64_CC) \
	    "-Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables"

$(BEARSSL_HOST): | $(BEARSSL_SRC)/inc/bearssl.h
	@echo "  BEARSSL (host) $@"
	@sh third_party/bearssl/build.sh $(BEARSSL_SRC) $(dir $@) $(HOST_CC) "-O2 -g"

# The version is compiled into main.c and metrics.c (build_info): rebuild
# them when it changes (a commit, a dirty tree), not only when they do.
VERSION_STAMP = $(BUILD)/version.stamp
$(VERSION_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' > $@
FORCE:
VERSIONED = main metrics
$(foreach d,musl host fuzz glibc arm64/obj,$(foreach m,$(VERSIONED),$(BUILD)/$(d)/$(m).o)): $(VERSION_STAMP)

$(BUILD)/musl/%.o: src/%.c $(HDRS) | $(BEARSSL_SRC)/inc/bearssl.h
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(MUSL_CC) $(MUSL_CFLAGS) -c $< -o $@

$(BUILD)/arm64/obj/%.o: src/%.c $(HDRS) | $(BEARSSL_SRC)/inc/bearssl.h
	@mkdir -p $(dir $@)
	@echo "  CC arm64 $<"
	@$(ARM64_CC) $(MUSL_CFLAGS) -c $< -o $@

$(BUILD)/host/%.o: src/%.c $(HDRS) | $(BEARSSL_SRC)/inc/bearssl.h
	@mkdir -p $(dir $@)
	@echo "  CC host $<"
	@$(HOST_CC) $(HOST_CFLAGS) -c $< -o $@

$(BUILD)/fuzz/%.o: src/%.c $(HDRS) | $(BEARSSL_SRC)/inc/bearssl.h
	@mkdir -p $(dir $@)
	@echo "  CC fuzz $<"
	@$(HOST_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(BUILD)/glibc/%.o: src/%.c $(HDRS) | $(BEARSSL_SRC)/inc/bearssl.h
	@mkdir -p $(dir $@)
	@echo "  CC glibc $<"
	@gcc $(GLIBC_CFLAGS) -c $< -o $@

$(BUILD)/deploy-api: $(MUSL_OBJS) $(BEARSSL_MUSL)
	@echo "  LD $@"
	@$(MUSL_CC) $(MUSL_LDFLAGS) -o $@ $(MUSL_OBJS) $(BEARSSL_MUSL)
	@ls -l $@ | awk '{print "  SIZE " $$5 " bytes " $$9}'

$(BUILD)/arm64/deploy-api: $(ARM64_OBJS) $(BEARSSL_ARM64)
	@echo "  LD $@"
	@$(ARM64_CC) $(ARM64_LDFLAGS) -o $@ $(ARM64_OBJS) $(BEARSSL_ARM64)
	@ls -l $@ | awk '{print "  SIZE " $$5 " bytes " $$9}'

# Installs the cross toolchain first when missing (ci/deps.sh cross).
arm64:
	@sh ci/deps.sh cross
	@$(MAKE) --no-print-directory $(BUILD)/arm64/deploy-api

$(BUILD)/host/libdeploy.a: $(HOST_OBJS)
	@rm -f $@ && ar rcs $@ $^

$(BUILD)/fuzz/libdeploy.a: $(FUZZ_OBJS)
	@rm -f $@ && ar rcs $@ $^

# Unit tests may #include the module's .c to reach static functions; the
# archive then supplies only the other modules.
$(BUILD)/unit/%: test/unit/%.c test/unit/t.h $(BUILD)/host/libdeploy.a $(BEARSSL_HOST)
	@mkdir -p $(dir $@)
	@echo "  LD $@"
	@$(HOST_CC) $(HOST_CFLAGS) -Itest/unit -o $@ $< $(BUILD)/host/libdeploy.a $(BEARSSL_HOST)

$(BUILD)/fuzzers/%: test/fuzz/%.c $(BUILD)/fuzz/libdeploy.a $(BEARSSL_HOST)
	@mkdir -p $(dir $@)
	@echo "  LD $@"
	@$(HOST_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/fuzz/libdeploy.a $(BEARSSL_HOST)

$(BUILD)/glibc/deploy-api: $(GLIBC_OBJS) $(BEARSSL_HOST)
	gcc -o $@ $(GLIBC_OBJS) $(BEARSSL_HOST)

valgrind-build: $(BUILD)/glibc/deploy-api

# The server-side e2e tests with the glibc build under valgrind memcheck.
valgrind: $(BUILD)/deploy-api
	@sh test/valgrind.sh

unit: $(UNIT_BINS)
	@sh test/run.sh unit $(UNIT_BINS)

FUZZ_SECONDS ?= 60
fuzz-short: $(FUZZ_BINS)
	@sh test/run.sh fuzz 5 $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@sh test/run.sh fuzz $(FUZZ_SECONDS) $(FUZZ_BINS)

e2e: $(BUILD)/deploy-api $(BUILD)/arm64/deploy-api
	@sh test/run.sh e2e $(BUILD)/deploy-api

# The arm64 binary's e2e subset under qemu-aarch64 (also in make test).
e2e-arm64: $(BUILD)/arm64/deploy-api
	@sh test/run.sh arm64 $(BUILD)/arm64/deploy-api

format:
	clang-format -i src/*.c src/*.h test/unit/*.c test/unit/*.h test/fuzz/*.c

format-check:
	@sh test/run.sh format src/*.c src/*.h test/unit/*.c test/unit/*.h test/fuzz/*.c

# The example policy is loaded by the real binary (k8s/base/policy.txt).
manifests: $(BUILD)/deploy-api
	@DEPLOY_API_BIN=$(BUILD)/deploy-api sh test/run.sh manifests

# The whole suite: each layer prints PASS/FAIL lines into one log, and the
# summary line counts them all.
test: deps
	@$(MAKE) --no-print-directory all arm64 $(UNIT_BINS) $(FUZZ_BINS)
	@sh test/run.sh all "$(UNIT_BINS)" "$(FUZZ_BINS)" $(BUILD)/deploy-api $(BUILD)/arm64/deploy-api

# Like `make test`, `make demo` first installs what it needs (ci/deps.sh).
demo:
	@sh ci/deps.sh demo
	@$(MAKE) --no-print-directory $(BUILD)/deploy-api
	@python3 test/e2e/demo.py $(BUILD)/deploy-api

bench: $(BUILD)/deploy-api
	@sh ci/deps.sh bench
	@python3 test/bench/bench.py $(BUILD)/deploy-api

image:
	@sh ci/deps.sh image
	@$(MAKE) --no-print-directory $(BUILD)/deploy-api $(BUILD)/arm64/deploy-api
	@IMAGE=$(LOCAL_IMAGE) sh ci/image.sh $(BUILD)/deploy-api --arm64 $(BUILD)/arm64/deploy-api

# make push IMAGE=registry.example/team/deploy-api:1.0 (builds the images first)
push: image
	@test -n "$(IMAGE)" || { echo "usage: make push IMAGE=REGISTRY/PATH/deploy-api:TAG" >&2; exit 2; }
	@LOCAL_IMAGE=$(LOCAL_IMAGE) sh ci/push.sh "$(IMAGE)"

clean:
	rm -rf $(BUILD)/musl $(BUILD)/arm64 $(BUILD)/host $(BUILD)/fuzz $(BUILD)/glibc $(BUILD)/unit \
	    $(BUILD)/fuzzers $(BUILD)/deploy-api
