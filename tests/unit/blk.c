/* virtio-blk (src/dev/blk.c) and the shared device layer (virtio.c) over a
 * fake guest driver and a memfd disk: reads, writes, flush, GET_ID, a
 * read-only disk, ranges past the capacity, bad requests, a hostile
 * chain that breaks the device and tells the guest, and the disks
 * --disk refuses. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dev/blk.h"
#include "unit.h"
#include "vring.h"

#define DISK_BYTES (64 * 1024)
#define SECTORS	   (DISK_BYTES / 512)
#define HDR	   BUF_GPA
#define STATUS	   (BUF_GPA + 0x100)
#define DATA	   (BUF_GPA + 0x1000)

static struct blk b;
static int irqs[3];
static uint32_t last_len;

static void on_irq(struct virtio_dev *d, enum virtio_irq why, void *arg)
{
	irqs[why]++;
}

/* A disk whose sector i holds the byte i. */
static int make_disk(void)
{
	int fd = memfd_create("disk", MFD_CLOEXEC);
	uint8_t s[512];
	for (int i = 0; i < SECTORS; i++) {
		memset(s, i, sizeof(s));
		if (write(fd, s, sizeof(s)) != sizeof(s))
			abort();
	}
	return fd;
}

/* A device over fd as a driver leaves it after set-up: features
 * negotiated, queue 0 enabled, DRIVER_OK. */
static void start(int fd, bool ro)
{
	vring_ram();
	memset(irqs, 0, sizeof(irqs));
	if (blk_init(&b, &vm, fd, ro, "disk-id") < 0)
		abort();
	b.vdev.irq = on_irq;
	CHECK(virtio_set_features(&b.vdev, virtio_features(&b.vdev)) == 0);
	b.vdev.status = VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER |
			VIRTIO_S_FEATURES_OK | VIRTIO_S_DRIVER_OK;
	vring_queue(&b.vdev.vq[0], QSIZE);
	CHECK(virtio_queue_enable(&b.vdev, 0) == 0);
}

static void stop(void)
{
	blk_close(&b);
}

/* Sends one request: the 16-byte header, len bytes of data (device-
 * writable unless OUT) if len, the status byte. Its status (0xee if the
 * device left it). */
static uint8_t request(uint32_t type, uint64_t sector, uint32_t len)
{
	uint16_t n = 0, i = drv_idx % 5 * 3; /* 3 descriptors a request */
	memcpy(ram(HDR), &type, 4);
	memset(ram(HDR + 4), 0, 4);
	memcpy(ram(HDR + 8), &sector, 8);
	*(uint8_t *)ram(STATUS) = 0xee;
	vring_desc(i + n++, HDR, 16, VIRTQ_DESC_F_NEXT, i + 1);
	if (len) {
		uint16_t w = type == VIRTIO_BLK_T_OUT ? 0 : VIRTQ_DESC_F_WRITE;
		vring_desc(i + n++, DATA, len, w | VIRTQ_DESC_F_NEXT, i + 2);
	}
	vring_desc(i + n, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	uint16_t before = used_idx();
	vring_avail(QSIZE, i);
	virtio_notify(&b.vdev, 0);
	if (used_idx() != (uint16_t)(before + 1))
		return 0xee;
	last_len = used_len(QSIZE, before);
	return *(uint8_t *)ram(STATUS);
}

static void config_space(void)
{
	start(make_disk(), false);
	uint64_t cap = 0;
	uint32_t seg = 0;
	virtio_config_read(&b.vdev, 0, &cap, 8);
	virtio_config_read(&b.vdev, 12, &seg, 4);
	CHECK(cap == SECTORS && seg == VIRTQ_MAX_SEGS - 2);
	uint8_t past[8];
	memset(past, 0xaa, sizeof(past));
	virtio_config_read(&b.vdev, 12, past, 8); /* half past the end */
	CHECK(past[0] == VIRTQ_MAX_SEGS - 2 && past[4] == 0 && past[7] == 0);
	virtio_config_read(&b.vdev, 0xffffffff, past, 8);
	CHECK(past[0] == 0);
	uint64_t f = virtio_features(&b.vdev);
	CHECK(f & 1ULL << VIRTIO_BLK_F_FLUSH && f & 1ULL << VIRTIO_F_VERSION_1);
	CHECK(!(f & 1ULL << VIRTIO_BLK_F_RO));
	CHECK(b.vdev.ops->device_id == VIRTIO_ID_BLOCK);
	/* The driver asks for too much, or for a legacy device. */
	CHECK(virtio_set_features(&b.vdev, f | 1ULL << 40) == -1);
	CHECK(virtio_set_features(&b.vdev, f & ~(1ULL << VIRTIO_F_VERSION_1)) ==
	      -1);
	stop();
	start(make_disk(), true);
	CHECK(virtio_features(&b.vdev) & 1ULL << VIRTIO_BLK_F_RO);
	stop();
}

static void read_write(void)
{
	int fd = make_disk();
	start(fd, false);
	CHECK(request(VIRTIO_BLK_T_IN, 2, 1024) == VIRTIO_BLK_S_OK);
	uint8_t *d = ram(DATA);
	CHECK(d[0] == 2 && d[511] == 2 && d[512] == 3 && d[1023] == 3);
	CHECK(last_len == 1025 && irqs[VIRTIO_IRQ_VRING] == 1);
	memset(d, 0x5a, 512);
	CHECK(request(VIRTIO_BLK_T_OUT, SECTORS - 1, 512) == VIRTIO_BLK_S_OK);
	CHECK(last_len == 1);
	CHECK(request(VIRTIO_BLK_T_FLUSH, 0, 0) == VIRTIO_BLK_S_OK);
	uint8_t back[512];
	CHECK(pread(fd, back, 512, DISK_BYTES - 512) == 512);
	CHECK(back[0] == 0x5a && back[511] == 0x5a);
	CHECK(!virtio_broken(&b.vdev));
	stop();
}

/* Data and status in one descriptor; a header split in two. */
static void odd_shapes(void)
{
	start(make_disk(), false);
	uint32_t type = VIRTIO_BLK_T_IN;
	uint64_t sector = 5;
	memcpy(ram(HDR), &type, 4);
	memcpy(ram(HDR + 8), &sector, 8);
	vring_desc(0, HDR, 8, VIRTQ_DESC_F_NEXT, 1);
	vring_desc(1, HDR + 8, 8, VIRTQ_DESC_F_NEXT, 2);
	vring_desc(2, DATA, 513, VIRTQ_DESC_F_WRITE, 0);
	*(uint8_t *)ram(DATA + 512) = 0xee;
	vring_avail(QSIZE, 0);
	virtio_notify(&b.vdev, 0);
	uint8_t *d = ram(DATA);
	CHECK(used_idx() == 1 && d[0] == 5 && d[511] == 5);
	CHECK(d[512] == VIRTIO_BLK_S_OK && used_len(QSIZE, 0) == 513);
	stop();
}

static void out_of_range(void)
{
	start(make_disk(), false);
	CHECK(request(VIRTIO_BLK_T_IN, SECTORS - 1, 512) == VIRTIO_BLK_S_OK);
	CHECK(request(VIRTIO_BLK_T_IN, SECTORS - 1, 1024) ==
	      VIRTIO_BLK_S_IOERR);
	CHECK(last_len == 1);
	CHECK(request(VIRTIO_BLK_T_IN, SECTORS, 512) == VIRTIO_BLK_S_IOERR);
	CHECK(request(VIRTIO_BLK_T_OUT, UINT64_MAX, 512) == VIRTIO_BLK_S_IOERR);
	CHECK(request(VIRTIO_BLK_T_OUT, UINT64_MAX / 512 + 1, 512) ==
	      VIRTIO_BLK_S_IOERR);
	/* Not whole sectors. */
	CHECK(request(VIRTIO_BLK_T_IN, 0, 100) == VIRTIO_BLK_S_IOERR);
	CHECK(request(VIRTIO_BLK_T_OUT, 0, 513) == VIRTIO_BLK_S_IOERR);
	/* A disk that shrank under the guest: the end of file is an error. */
	CHECK(ftruncate(b.fd, 4096) == 0);
	CHECK(request(VIRTIO_BLK_T_IN, 16, 512) == VIRTIO_BLK_S_IOERR);
	CHECK(!virtio_broken(&b.vdev));
	stop();
}

static void read_only(void)
{
	int fd = make_disk();
	start(fd, true);
	memset(ram(DATA), 0x77, 512);
	CHECK(request(VIRTIO_BLK_T_OUT, 0, 512) == VIRTIO_BLK_S_IOERR);
	uint8_t back[1];
	CHECK(pread(fd, back, 1, 0) == 1 && back[0] == 0);
	CHECK(request(VIRTIO_BLK_T_FLUSH, 0, 0) == VIRTIO_BLK_S_OK);
	CHECK(request(VIRTIO_BLK_T_IN, 1, 512) == VIRTIO_BLK_S_OK);
	stop();
	/* The host refuses a write (an fd open for reading only). */
	char path[64];
	int rw = make_disk();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", rw);
	start(open(path, O_RDONLY | O_CLOEXEC), false);
	CHECK(request(VIRTIO_BLK_T_OUT, 0, 512) == VIRTIO_BLK_S_IOERR);
	stop();
	close(rw);
}

static void get_id_and_others(void)
{
	start(make_disk(), false);
	memset(ram(DATA), 0xaa, 32);
	CHECK(request(VIRTIO_BLK_T_GET_ID, 0, 32) == VIRTIO_BLK_S_OK);
	CHECK(!memcmp(ram(DATA), "disk-id\0", 8) && last_len == 21);
	CHECK(*(uint8_t *)ram(DATA + 19) == 0 &&
	      *(uint8_t *)ram(DATA + 20) == 0xaa);
	memset(ram(DATA), 0xaa, 32);
	CHECK(request(VIRTIO_BLK_T_GET_ID, 0, 4) == VIRTIO_BLK_S_OK);
	CHECK(!memcmp(ram(DATA), "disk", 4) && last_len == 5);
	CHECK(request(99, 0, 512) == VIRTIO_BLK_S_UNSUPP);
	CHECK(request(11 /* DISCARD */, 0, 0) == VIRTIO_BLK_S_UNSUPP);
	/* A header of 8 bytes. */
	vring_desc(0, HDR, 8, VIRTQ_DESC_F_NEXT, 1);
	vring_desc(1, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	vring_avail(QSIZE, 0);
	virtio_notify(&b.vdev, 0);
	CHECK(*(uint8_t *)ram(STATUS) == VIRTIO_BLK_S_IOERR);
	CHECK(!virtio_broken(&b.vdev));
	stop();
}

/* No room for a status, then a loop: the device needs a reset, the guest
 * gets a config interrupt, and notifications are ignored until reset. */
static void broken_device(void)
{
	start(make_disk(), false);
	vring_desc(0, HDR, 16, 0, 0);
	vring_avail(QSIZE, 0);
	virtio_notify(&b.vdev, 0);
	CHECK(virtio_broken(&b.vdev) && irqs[VIRTIO_IRQ_CONFIG] == 1);
	CHECK(b.vdev.vq[0].fault == VQ_BAD_REQUEST && used_idx() == 0);
	CHECK(b.vdev.isr & VIRTIO_IRQ_CONFIG);
	virtio_notify(&b.vdev, 0);
	CHECK(irqs[VIRTIO_IRQ_CONFIG] == 1);
	virtio_reset(&b.vdev);
	CHECK(!virtio_broken(&b.vdev) && !b.vdev.vq[0].ready);
	virtio_notify(&b.vdev, 0); /* not ready: ignored */
	stop();
	start(make_disk(), false);
	vring_desc(0, HDR, 16, VIRTQ_DESC_F_NEXT, 0);
	vring_avail(QSIZE, 0);
	virtio_notify(&b.vdev, 0);
	CHECK(virtio_broken(&b.vdev) && b.vdev.vq[0].fault == VQ_LOOP);
	stop();
	/* A bad queue at enable, and a queue the device does not have. */
	start(make_disk(), false);
	b.vdev.vq[0].size = VIRTQ_MAX_SIZE * 2;
	CHECK(virtio_queue_enable(&b.vdev, 0) == -1);
	CHECK(virtio_broken(&b.vdev) && b.vdev.vq[0].fault == VQ_BAD_SIZE);
	CHECK(virtio_queue_enable(&b.vdev, 1) == -1);
	virtio_notify(&b.vdev, 7);
	/* Broken and reset in a loop: logged VIRTIO_FAULT_LINES times,
	 * then no more, and still marked broken each time. */
	for (int i = 0; i < 3 * VIRTIO_FAULT_LINES; i++) {
		virtio_reset(&b.vdev);
		b.vdev.vq[0].size = 3;
		CHECK(virtio_queue_enable(&b.vdev, 0) == -1);
		CHECK(virtio_broken(&b.vdev));
	}
	CHECK(b.vdev.faults_logged == VIRTIO_FAULT_LINES);
	stop();
}

static void open_spec(void)
{
	char path[] = "/tmp/mote-blk-XXXXXX", spec[64];
	int fd = mkstemp(path);
	CHECK(fd >= 0 && ftruncate(fd, 4096) == 0);
	close(fd);
	snprintf(spec, sizeof(spec), "%s:ro", path);
	CHECK(blk_open(&b, &vm, spec) == 0 && b.ro && b.capacity == 8);
	CHECK(!strncmp(b.id, "mote-blk-", 9));
	blk_close(&b);
	CHECK(blk_open(&b, &vm, path) == 0 && !b.ro);
	blk_close(&b);
	unlink(path);
	CHECK(blk_open(&b, &vm, path) == -ENOENT && b.fd == -1);
	CHECK(blk_open(&b, &vm, ":ro") == -EINVAL);
}

/* The refusals of --disk: each a -errno and no fd left open. */
static void open_refusals(void)
{
	char dir[] = "/tmp/mote-blk-XXXXXX", path[80], spec[96];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/disk", dir);
	int fd = open(path, O_CREAT | O_WRONLY, 0444);
	CHECK(fd >= 0 && ftruncate(fd, 4096) == 0);
	close(fd);
	/* No write bit: read-only, even for root. */
	CHECK(blk_open(&b, &vm, path) == -EACCES && b.fd == -1);
	snprintf(spec, sizeof(spec), "%s:rw", path);
	CHECK(blk_open(&b, &vm, spec) == -EACCES && b.fd == -1);
	snprintf(spec, sizeof(spec), "%s:ro", path);
	CHECK(blk_open(&b, &vm, spec) == 0 && b.ro);
	blk_close(&b);
	CHECK(chmod(path, 0644) == 0);
	snprintf(spec, sizeof(spec), "%s:rw", path);
	CHECK(blk_open(&b, &vm, spec) == 0 && !b.ro);
	blk_close(&b);
	/* A mode that is not one names no file. */
	snprintf(spec, sizeof(spec), "%s:rx", path);
	CHECK(blk_open(&b, &vm, spec) == -ENOENT && b.fd == -1);
	CHECK(blk_open(&b, &vm, dir) == -EISDIR && b.fd == -1);
	snprintf(spec, sizeof(spec), "%s:ro", dir);
	CHECK(blk_open(&b, &vm, spec) == -EINVAL && b.fd == -1);
	/* A FIFO is refused before an open that would wait for a writer. */
	unlink(path);
	CHECK(mkfifo(path, 0600) == 0);
	snprintf(spec, sizeof(spec), "%s:ro", path);
	CHECK(blk_open(&b, &vm, spec) == -EINVAL && b.fd == -1);
	CHECK(blk_open(&b, &vm, ":rw") == -EINVAL);
	unlink(path);
	rmdir(dir);
}

/* A writable disk is locked alone; read-only ones share. */
static void open_locked(void)
{
	static struct blk other;
	char path[] = "/tmp/mote-blk-XXXXXX", spec[64];
	int fd = mkstemp(path);
	CHECK(fd >= 0 && ftruncate(fd, 4096) == 0);
	close(fd);
	snprintf(spec, sizeof(spec), "%s:ro", path);
	CHECK(blk_open(&b, &vm, path) == 0);
	CHECK(blk_open(&other, &vm, path) == -EBUSY && other.fd == -1);
	CHECK(blk_open(&other, &vm, spec) == -EBUSY && other.fd == -1);
	blk_close(&b);
	CHECK(blk_open(&b, &vm, spec) == 0);
	CHECK(blk_open(&other, &vm, spec) == 0);
	blk_close(&other);
	CHECK(blk_open(&other, &vm, path) == -EBUSY);
	blk_close(&b);
	CHECK(blk_open(&b, &vm, path) == 0); /* the locks went with close */
	blk_close(&b);
	unlink(path);
}

static void cases(void)
{
	RUN(config_space);
	RUN(read_write);
	RUN(odd_shapes);
	RUN(out_of_range);
	RUN(read_only);
	RUN(get_id_and_others);
	RUN(broken_device);
	RUN(open_spec);
	RUN(open_refusals);
	RUN(open_locked);
}

int main(void)
{
	return unit_main(cases, NULL);
}
