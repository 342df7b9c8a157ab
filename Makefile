# mote: build, test, demo, bench. `make help` lists the targets.

CC      ?= gcc
O       ?= build
VERSION := 0.1.0

CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
	   -fno-strict-aliasing -D_FILE_OFFSET_BITS=64 \
	   -DMOTE_VERSION='"$(VERSION)"' -Iinclude -Isrc -MMD -MP
LDFLAGS ?=
# libseccomp compiles the monitor's seccomp filter at build time
# (src/seccomp/policy.c); mote itself does not link it.
SECCOMP_LIBS := $(shell pkg-config --libs libseccomp 2>/dev/null || echo -lseccomp)
# cJSON reads and writes the control socket's lines (src/ctl).
LIBS := -lcjson

# SAN=asan: ASan + UBSan (make check builds $(O)-asan so); SAN=fuzz: the
# same plus libFuzzer's coverage, for the harnesses in tests/fuzz (clang).
# `override`, so that CFLAGS given on the command line keep them. Not the
# alignment check: a guest may pass a misaligned pointer wherever Linux
# takes one (pipe2's int[2] at an odd address), the handlers use it typed,
# and x86-64 allows the unaligned access.
SAN_FLAGS_asan := -fsanitize=address,undefined -fno-sanitize=alignment \
		  -fno-sanitize-recover=undefined -fno-omit-frame-pointer
SAN_FLAGS_fuzz := $(SAN_FLAGS_asan) -fsanitize=fuzzer-no-link
ifneq ($(SAN),)
override CFLAGS += $(SAN_FLAGS_$(SAN))
endif

SRCS := $(wildcard src/*.c src/vm/*.c src/lx/*.c src/snap/*.c src/ctl/*.c \
	  src/run/*.c src/oci/*.c src/linux/*.c src/dev/*.c)
OBJS := $(SRCS:%.c=$(O)/%.o) $(O)/src/shim/blob.o

.PHONY: install all check check-vm check-full check-build demo bench deps clean help \
	format unit guest fuzz
all: $(O)/mote $(O)/mote-oci

# The OCI runtime is mote called by this name (docs/oci.md).
$(O)/mote-oci: $(O)/mote
	$(Q)ln -sf mote $@

PREFIX ?= /usr/local
install: $(O)/mote
	install -D -m 0755 $(O)/mote $(DESTDIR)$(PREFIX)/bin/mote
	ln -sf mote $(DESTDIR)$(PREFIX)/bin/mote-oci

# `make V=1` shows the commands.
ifeq ($(V),1)
Q :=
else
Q := @
endif

$(O)/mote: $(OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LIBS)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# The seccomp allowlist, compiled to BPF by a build-time tool (plain flags:
# it is not part of mote) into a header src/sandbox.c includes.
$(O)/gen/seccomp-gen: src/seccomp/policy.c
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)$(CC) -O2 -std=gnu11 -Wall -Wextra -Werror -o $@ $< $(SECCOMP_LIBS)
$(O)/gen/seccomp_bpf.h: $(O)/gen/seccomp-gen
	$(Q)$< > $@.tmp && mv $@.tmp $@
$(O)/src/sandbox.o: $(O)/gen/seccomp_bpf.h
$(O)/src/sandbox.o: CFLAGS += -I$(O)/gen

# The shim is assembled for the guest, flattened to raw bytes, and embedded.
$(O)/shim.o: src/shim/shim.S include/mote/abi.h
	@mkdir -p $(O)
	$(CC) -Iinclude -c -o $@ $<
$(O)/shim.bin: $(O)/shim.o
	objcopy -O binary -j .text $< $@
	@test $$(stat -c %s $@) -le 4096 || { echo "shim larger than a page"; exit 1; }
$(O)/src/shim/blob.o: src/shim/blob.S $(O)/shim.bin
	@mkdir -p $(dir $@)
	$(CC) -DSHIM_BIN='"$(O)/shim.bin"' -c -o $@ $<

# Installs (as root) or names (otherwise) the Debian packages needed.
deps:
	@scripts/deps.sh vm

# Packages first, then the build, so a fresh machine needs only `make check`.
# Also the sanitizer build ($(O)-asan: mote and the unit tests with ASan
# and UBSan) and, where clang's libFuzzer is installed, the fuzzers
# ($(O)-fuzz); the suites asan.sh and fuzz.sh run them. The suites that
# need KVM run on this host's KVM, or in the test VM where there is none
# (tests/vm, tests/run.sh).
check: check-build
	@tests/run.sh $(O)

# The KVM suites in the test VM even where the host has a KVM, so that a
# machine with kvm_intel or kvm_pvm tests kvm-amd too.
check-vm: check-build
	@MOTE_KVM=vm tests/run.sh $(O)

# Everything: make check leaves out, in the test VM, part of the ASan runs
# and the second pass with shadow paging (npt=0), to fit CI's time.
check-full: check-build
	@MOTE_CHECK_FULL=1 tests/run.sh $(O)

check-build:
	@scripts/deps.sh vm
	@$(MAKE) --no-print-directory all tests
	@$(MAKE) --no-print-directory O=$(O)-asan SAN=asan all units
	@if tests/fuzz/available.sh >/dev/null; then \
		$(MAKE) --no-print-directory O=$(O)-fuzz CC=clang SAN=fuzz fuzzers; fi

# One suite's worth: the unit tests (here), the guest programs (on KVM or
# in the test VM).
unit: check-build
	@tests/run.sh $(O) tests/suites/unit.sh tests/suites/asan-unit.sh
guest: check-build
	@tests/run.sh $(O) tests/suites/guest.sh

demo:
	@scripts/deps.sh vm
	@$(MAKE) --no-print-directory all $(O)/demo/hello
	@tests/demo.sh $(O)

bench: deps all
	@bench/run.sh $(O)

format:
	clang-format -i $(SRCS) $(wildcard src/seccomp/*.c src/*/*.h src/*.h include/mote/*.h tests/*/*.c tests/*/*.h bench/*.c)

clean:
	rm -rf $(O) $(O)-asan $(O)-fuzz

help:
	@echo "make            build $(O)/mote"
	@echo "make demo       build and run the bundled demo guest"
	@echo "make check      run every test (unit, guest, real binaries, ASan/UBSan, fuzzers);"
	@echo "                without a usable /dev/kvm, the KVM tests run in the test VM"
	@echo "make check-vm   the same, the KVM tests in the test VM whatever the host has"
	@echo "make check-full everything make check leaves out in the test VM (all ASan runs,"
	@echo "                the shadow-paging pass)"
	@echo "make unit       the unit tests alone; make guest  the guest programs alone"
	@echo "make fuzz       run the libFuzzer harnesses, FUZZ_TIME seconds each (default 300)"
	@echo "make bench      print start-up, syscall and size figures (in the test VM without KVM)"
	@echo "make CC=clang   build with clang instead of gcc"

-include $(OBJS:.o=.d)
include tests/tests.mk
include tests/fuzz/fuzz.mk
include bench/bench.mk
