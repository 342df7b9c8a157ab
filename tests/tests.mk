# Test programs. Included by the top-level Makefile.
#
# tests/unit/NAME.c   host-only unit tests, linked with the monitor's objects
#                     (everything but main.o); built as $(O)/tests/unit/NAME
# tests/unit/lx_NAME.c the same, on a fake process (tests/lib/fake.c: guest
#                     memory, page tables and registers without KVM), to
#                     call lx's syscall handlers directly
# tests/guest/NAME.c  guest programs, each built twice: $(O)/tests/guest/NAME.gcc
#                     (gcc -static) and NAME.musl (musl-gcc -static); the
#                     PIE_GUESTS also as NAME.pie (gcc -static-pie)
# tests/hostile/NAME.c hostile guests, each attempting one escape: built the
#                     same two ways (and may include tests/guest/guest.h)
# tests/host/NAME.c   host programs the suites drive guests with:
#                     $(O)/tests/host/NAME

GUEST_CFLAGS := -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -Itests/guest
MUSL_CC      ?= musl-gcc

UNIT_SRCS  := $(wildcard tests/unit/*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/unit/%)
GUEST_SRCS := $(wildcard tests/guest/*.c)
HOSTILE_SRCS := $(wildcard tests/hostile/*.c)
GUEST_BINS := $(GUEST_SRCS:tests/%.c=$(O)/tests/%.gcc) \
	      $(GUEST_SRCS:tests/%.c=$(O)/tests/%.musl) \
	      $(HOSTILE_SRCS:tests/%.c=$(O)/tests/%.gcc) \
	      $(HOSTILE_SRCS:tests/%.c=$(O)/tests/%.musl)
# A few guests also as static-PIE (ET_DYN without PT_INTERP): NAME.pie.
PIE_GUESTS := hello start_auxv io_rw mm_mmap neg_ptr fault_null
PIE_BINS   := $(PIE_GUESTS:%=$(O)/tests/guest/%.pie)
LIB_OBJS   := $(filter-out $(O)/src/main.o,$(OBJS))
SNAP_SRCS  := $(wildcard tests/snap/*.c)
SNAP_BINS  := $(SNAP_SRCS:tests/%.c=$(O)/tests/%.gcc) \
	      $(SNAP_SRCS:tests/%.c=$(O)/tests/%.dyn)
HOST_SRCS  := $(wildcard tests/host/*.c)
HOST_BINS  := $(HOST_SRCS:tests/host/%.c=$(O)/tests/host/%)

.PHONY: tests units
# bench/dirty is the migrate suite's guest that keeps writing memory.
tests: $(UNIT_BINS) $(GUEST_BINS) $(PIE_BINS) $(HOST_BINS) $(SNAP_BINS) \
	$(O)/demo/hello $(O)/bench/dirty
units: $(UNIT_BINS)

$(O)/tests/unit/%: tests/unit/%.c $(LIB_OBJS) tests/unit/unit.h
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(LIB_OBJS) $(LIBS)

# The fake process, shared by the lx unit tests and the fuzzers: msg() is
# silenced and kvm_ioctl serves the XSAVE state (ld --wrap).
FAKE_OBJ  := $(O)/tests/lib/fake.o
FAKE_LINK := -Wl,--wrap=msg -Wl,--wrap=kvm_ioctl
$(FAKE_OBJ): tests/lib/fake.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -Itests/lib -c -o $@ $<
# It is built on lx.h's structures: rebuilt when they change.
-include $(O)/tests/lib/fake.d

$(O)/tests/unit/lx_%: tests/unit/lx_%.c $(FAKE_OBJ) $(LIB_OBJS) tests/unit/unit.h
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) $(FAKE_LINK) -Itests/unit -Itests/lib -o $@ $< \
		$(FAKE_OBJ) $(LIB_OBJS) $(LIBS)

$(O)/tests/host/%: tests/host/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $<

# Guest programs of any directory: tests/guest/NAME.c, tests/hostile/NAME.c.
$(O)/tests/%.gcc: tests/%.c $(wildcard tests/guest/*.h tests/hostile/*.h)
	@mkdir -p $(dir $@)
	@echo "  GUEST   $@"
	$(Q)gcc -static $(GUEST_CFLAGS) -o $@ $< -lpthread

$(O)/tests/%.musl: tests/%.c $(wildcard tests/guest/*.h tests/hostile/*.h)
	@mkdir -p $(dir $@)
	@echo "  GUEST   $@"
	$(Q)$(MUSL_CC) -static $(GUEST_CFLAGS) -o $@ $<

# Dynamic (glibc's ld.so and libc.so mapped from their files): what a
# snapshot diffs against the files it maps.
$(O)/tests/%.dyn: tests/%.c
	@mkdir -p $(dir $@)
	@echo "  GUEST   $@"
	$(Q)gcc $(GUEST_CFLAGS) -o $@ $< -lpthread

$(O)/tests/guest/%.pie: tests/guest/%.c $(wildcard tests/guest/*.h)
	@mkdir -p $(dir $@)
	@echo "  GUEST   $@"
	$(Q)gcc -static-pie -fPIE $(GUEST_CFLAGS) -o $@ $<

$(O)/demo/hello: demo/hello.c
	@mkdir -p $(dir $@)
	gcc -static -O2 -Wall -Wextra -Werror -o $@ $<
