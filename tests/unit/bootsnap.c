/* mote boot's snapshot records (src/snap/boot.c, src/vm/plainstate.c and
 * the devices' save/load): a state section round-trips, and every
 * malformed one is refused by snap_boot_read or a device's loader: bad
 * counts, bad lengths, records missing, out of order or trailing, and
 * values out of range. */
#include <stdlib.h>
#include <string.h>

#include "dev/uart.h"
#include "dev/virtq.h"
#include "snap/boot.h"
#include "unit.h"

#define NCPUS 2

static struct snap_header header(void)
{
	return (struct snap_header){.user_size = 256ULL << 20,
				    .nthreads = NCPUS};
}

/* A whole state section: BOOT (two disks, a tap), BVM, the vCPUs'
 * records (ids from ids[], nmsrs MSRs each), BDEV, then extra bytes. */
struct shape {
	uint32_t ncpus, ndisks, nmsrs;
	uint32_t ids[NCPUS + 1];
	const char *net, *disk;
	bool no_dev, trailing, bad_chip;
};

static struct wbuf state(const struct shape *s)
{
	struct wbuf w = {0};
	struct snap_boot b = {.memory = 256ULL << 20,
			      .ncpus = s->ncpus,
			      .kernel = "/boot/vmlinuz",
			      .ndisks = s->ndisks > SNAP_BOOT_DISKS
						? SNAP_BOOT_DISKS
						: s->ndisks,
			      .net = (char *)s->net};
	for (uint32_t i = 0; i < SNAP_BOOT_DISKS; i++)
		b.disk[i] = (struct snap_boot_disk){
			(char *)(s->disk ? s->disk : "/d.img"), 1, 1 << 20};
	snap_boot_opts_write(&w, &b);
	/* More disks than a record may have: the count alone says so. */
	if (s->ndisks > SNAP_BOOT_DISKS)
		memcpy(w.d + 8 + 8 + 4 + 4 + strlen(b.kernel), &s->ndisks, 4);
	struct plain_vmstate vm = {0};
	for (uint32_t i = 0; i < 3; i++)
		vm.chip[i].chip_id = s->bad_chip ? 0 : i;
	plain_vm_write(&w, &vm);
	struct plain_cpu *c = calloc(1, sizeof(*c));
	for (uint32_t i = 0; i < NCPUS + 1 && s->ids[i] != ~0u; i++) {
		c->id = s->ids[i];
		c->nmsrs = s->nmsrs;
		c->msrs[0].index = 0x10; /* IA32_TSC */
		c->msrs[0].data = 12345;
		c->regs.rip = 0xffffffff81000000ULL + i;
		plain_cpu_write(&w, c);
	}
	free(c);
	if (!s->no_dev) {
		size_t m = w_rec_begin(&w, SNAP_TAG_BDEV);
		uint32_t x = 7;
		W(&w, x);
		w_rec_end(&w, m);
	}
	if (s->trailing) {
		size_t m = w_rec_begin(&w, SNAP_TAG_BDEV);
		w_rec_end(&w, m);
	}
	return w;
}

static const struct shape good = {.ncpus = NCPUS,
				  .ndisks = 2,
				  .nmsrs = 3,
				  .ids = {0, 1, ~0u},
				  .net = "tap0"};

static bool reads(const struct shape *s)
{
	struct wbuf w = state(s);
	struct snap_boot b = {.h = header()};
	char err[160];
	bool ok = !w.oom && snap_boot_read(&b, w.d, w.n, err, sizeof(err));
	if (!ok)
		printf("  (refused: %s)\n", err);
	b.state = w.d; /* freed with b */
	if (ok) {
		CHECK(b.cpu[1].regs.rip == 0xffffffff81000001ULL);
		CHECK(b.cpu[0].nmsrs == s->nmsrs &&
		      b.cpu[0].msrs[0].data == 12345);
		CHECK(b.ndisks == s->ndisks);
		CHECK(!b.ndisks || !strcmp(b.disk[1].path, "/d.img"));
		CHECK(!strcmp(b.kernel, "/boot/vmlinuz"));
		CHECK(b.dev.n == 4);
	}
	snap_boot_free(&b);
	return ok;
}

static void round_trip(void)
{
	CHECK(reads(&good));
	struct shape s = good;
	s.net = NULL;
	s.ndisks = 0;
	s.nmsrs = PLAIN_MSRS_MAX;
	CHECK(reads(&s));
}

/* Counts out of range, or not the header's. */
static void bad_counts(void)
{
	struct shape s = good;
	s.ncpus = 3; /* the header says 2 */
	CHECK(!reads(&s));
	s = good;
	s.ndisks = SNAP_BOOT_DISKS + 1;
	CHECK(!reads(&s));
	s = good;
	s.nmsrs = PLAIN_MSRS_MAX + 1;
	CHECK(!reads(&s));
	s = good;
	s.net = "a-tap-name-far-too-long";
	CHECK(!reads(&s));
	s = good;
	s.net = "";
	CHECK(!reads(&s));
	s = good;
	s.disk = "d.img"; /* not absolute */
	CHECK(!reads(&s));
}

/* vCPU records missing, repeated, out of order or out of range. */
static void bad_cpus(void)
{
	struct shape s = good;
	s.ids[1] = ~0u; /* one of two */
	CHECK(!reads(&s));
	s = good;
	s.ids[0] = 1;
	s.ids[1] = 0;
	CHECK(!reads(&s));
	s = good;
	s.ids[1] = 0;
	CHECK(!reads(&s));
	s = good;
	s.ids[1] = 5;
	CHECK(!reads(&s));
	s = good;
	s.ids[2] = 1; /* a third: BDEV is not where it should be */
	CHECK(!reads(&s));
}

static void bad_records(void)
{
	struct shape s = good;
	s.no_dev = true;
	CHECK(!reads(&s));
	s = good;
	s.trailing = true;
	CHECK(!reads(&s));
	s = good;
	s.bad_chip = true;
	CHECK(!reads(&s));
}

/* Every prefix of a good state section is refused, and so is every
 * record whose length is one byte off. */
static void cut_short(void)
{
	struct wbuf w = state(&good);
	int accepted = 0;
	char err[160];
	for (size_t n = 0; n < w.n; n += 7) {
		struct snap_boot b = {.h = header()};
		accepted += snap_boot_read(&b, w.d, n, err, sizeof(err));
		snap_boot_free(&b);
	}
	CHECK(accepted == 0);
	/* The BOOT record's length, one byte longer and shorter. */
	for (int d = -1; d <= 1; d += 2) {
		uint8_t *copy = malloc(w.n);
		memcpy(copy, w.d, w.n);
		uint32_t len;
		memcpy(&len, copy + 4, 4);
		len = (uint32_t)((int64_t)len + d);
		memcpy(copy + 4, &len, 4);
		struct snap_boot b = {.h = header()};
		CHECK(!snap_boot_read(&b, copy, w.n, err, sizeof(err)));
		snap_boot_free(&b);
		free(copy);
	}
	free(w.d);
}

/* The devices' own loaders refuse what is out of range. */
static void device_loads(void)
{
	struct wbuf w = {0};
	uint8_t regs[7] = {0}, flags = 0;
	uint32_t n = UART_RX_SIZE + 1;
	W(&w, regs);
	W(&w, flags);
	W(&w, n);
	struct uart u;
	memset(&u, 0, sizeof(u));
	struct rbuf r = {.d = w.d, .n = w.n};
	CHECK(!uart_load(&u, &r));
	free(w.d);

	struct virtq q = {0};
	w = (struct wbuf){0};
	virtq_save(&q, &w);
	w.d[w.n - 8] = 9; /* flags: no such bit */
	r = (struct rbuf){.d = w.d, .n = w.n};
	CHECK(!virtq_load(&q, NULL, &r));
	w.d[w.n - 8] = 0;
	w.d[w.n - 7] = VQ_NFAULTS; /* no such fault */
	r = (struct rbuf){.d = w.d, .n = w.n};
	CHECK(!virtq_load(&q, NULL, &r));
	w.d[w.n - 7] = 0;
	r = (struct rbuf){.d = w.d, .n = w.n - 1}; /* cut short */
	CHECK(!virtq_load(&q, NULL, &r));
	r = (struct rbuf){.d = w.d, .n = w.n};
	CHECK(virtq_load(&q, NULL, &r) && r.off == r.n && !q.ready);
	free(w.d);
}

static void cases(void)
{
	RUN(round_trip);
	RUN(bad_counts);
	RUN(bad_cpus);
	RUN(bad_records);
	RUN(cut_short);
	RUN(device_loads);
}

int main(void)
{
	return unit_main(cases, NULL);
}
