# The libFuzzer harnesses (tests/fuzz/*.c but fake.c). Included by the
# top-level Makefile. They are built with clang and SAN=fuzz into their own
# build directory, $(O)-fuzz, by `make fuzz` and `make check`:
#
#   make fuzz                    each harness FUZZ_TIME seconds (default 300)
#   make fuzz FUZZ_TIME=60
#
# The corpus grows in $(O)-fuzz/corpus/NAME, seeded from tests/fuzz/corpus/NAME;
# a crash leaves its input in $(O)-fuzz/crashes/.

FUZZ_NAMES := syscall elf snapstate virtq virtio_pci bzimage
FUZZ_BINS  := $(FUZZ_NAMES:%=$(O)/tests/fuzz/%)
FUZZ_TIME  ?= 300
# The fake process stands in for KVM: msg() is silenced and kvm_ioctl
# serves the XSAVE state of signal frames (tests/lib/fake.c, which the
# lx unit tests share: tests/tests.mk).
FUZZ_LINK  := -fsanitize=fuzzer -Wl,--wrap=msg -Wl,--wrap=kvm_ioctl

.PHONY: fuzzers
fuzzers: $(FUZZ_BINS)

$(O)/tests/fuzz/%: tests/fuzz/%.c $(FAKE_OBJ) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)$(CC) $(CFLAGS) $(FUZZ_LINK) -Itests/lib -o $@ $< \
		$(FAKE_OBJ) $(LIB_OBJS) $(LIBS)

fuzz:
	@tests/fuzz/available.sh
	@$(MAKE) --no-print-directory O=$(O)-fuzz CC=clang SAN=fuzz fuzzers
	@tests/fuzz/run.sh $(O)-fuzz $(FUZZ_TIME) $(FUZZ_NAMES)

