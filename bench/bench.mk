# make bench's programs. Included by the top-level Makefile.
#
# bench/bench.c, bench/floor.c  host programs, built like mote: $(O)/bench/NAME
# bench/getppid.c, bench/forkwait.c, bench/threads.c, bench/dirty.c
#                               guest programs, gcc -static
# bench/idle.c                  guest program without libc (touches ~nothing)

BENCH_HOST  := $(O)/bench/bench $(O)/bench/floor
BENCH_LIBC  := $(O)/bench/getppid $(O)/bench/forkwait $(O)/bench/threads \
	       $(O)/bench/dirty
BENCH_GUEST := $(BENCH_LIBC) $(O)/bench/idle
BENCH_BINS  := $(BENCH_HOST) $(BENCH_GUEST)
BENCH_GUEST_CFLAGS := -O2 -g -Wall -Wextra -Werror

# The top-level bench target runs bench/run.sh; this is what it runs. (Here,
# not there: the Makefile reads its bench rule before this file's variables.)
bench: $(BENCH_BINS) $(O)/demo/hello $(O)/tests/snap/touch.gcc

# Single-file programs: no dependency files to track.
$(BENCH_HOST): $(O)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -MMD -MP,$(CFLAGS)) $(LDFLAGS) -o $@ $<

$(BENCH_LIBC): $(O)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	gcc -static -pthread $(BENCH_GUEST_CFLAGS) -o $@ $<

$(O)/bench/idle: bench/idle.c
	@mkdir -p $(dir $@)
	gcc -static -nostdlib -ffreestanding -fno-stack-protector \
		$(BENCH_GUEST_CFLAGS) -o $@ $<

# The OCI runtime against runc under podman (needs podman, conmon, runc).
.PHONY: bench-oci
bench-oci: all
	@bench/oci.sh $(O)
