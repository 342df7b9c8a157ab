/* virtio-blk (blk.h): each request is a header the device reads, data, and
 * a status byte the device writes last. The guest's sector numbers and
 * lengths are checked against the capacity before any host I/O. The I/O
 * is synchronous, on the thread that took the notification. */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dev/blk.h"
#include "dev/iov.h"
#include "util.h"

#define HDR_BYTES 16 /* type, reserved, sector */

/* Config space (5.2.4): capacity, size_max, seg_max. */
#define CFG_BYTES 16

/* preadv or pwritev of all of iov[0, n) at off, through short transfers
 * and EINTR. 0, or -1 (an error, or the end of the file). */
static int io_full(int fd, struct iovec *iov, unsigned n, uint64_t off,
		   bool write)
{
	while (n) {
		ssize_t r = write ? pwritev(fd, iov, n, off)
				  : preadv(fd, iov, n, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		off += r;
		while (n && (size_t)r >= iov->iov_len) {
			r -= iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (char *)iov->iov_base + r;
			iov->iov_len -= r;
		}
	}
	return 0;
}

/* Whether len bytes from sector lie within the disk. */
static bool in_range(const struct blk *b, uint64_t sector, uint64_t len)
{
	uint64_t n = len / VIRTIO_BLK_SECTOR;
	return sector <= b->capacity && n <= b->capacity - sector;
}

/* A read (IN) or write (OUT) of the data segments of c at sector: the
 * writable bytes but the status byte, or the readable ones after the
 * header. The status. */
static uint8_t blk_rw(struct blk *b, const struct virtq_chain *c,
		      uint64_t sector, bool write, uint32_t *done)
{
	struct iovec io[VIRTQ_MAX_SEGS];
	uint64_t len = write ? c->rlen - HDR_BYTES : c->wlen - 1;
	if (write && b->ro)
		return VIRTIO_BLK_S_IOERR;
	if (len % VIRTIO_BLK_SECTOR || !in_range(b, sector, len))
		return VIRTIO_BLK_S_IOERR;
	unsigned n = write ? iov_slice(c->iov, c->nr, HDR_BYTES, len, io)
			   : iov_slice(c->iov + c->nr, c->nw, 0, len, io);
	if (io_full(b->fd, io, n, sector * VIRTIO_BLK_SECTOR, write) < 0)
		return VIRTIO_BLK_S_IOERR;
	if (!write)
		*done = len;
	return VIRTIO_BLK_S_OK;
}

static uint8_t blk_get_id(struct blk *b, const struct virtq_chain *c,
			  uint32_t *done)
{
	size_t room = c->wlen - 1;
	if (room > VIRTIO_BLK_ID_BYTES)
		room = VIRTIO_BLK_ID_BYTES;
	*done = iov_copy(c->iov + c->nr, c->nw, b->id, room, true);
	return VIRTIO_BLK_S_OK;
}

static uint8_t blk_flush(struct blk *b)
{
	if (b->ro)
		return VIRTIO_BLK_S_OK;
	return fdatasync(b->fd) == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
}

/* Serves the request c and writes its status byte, last. The bytes
 * written into the guest's buffers, or -1 if c has no writable byte to
 * hold a status. */
static int64_t blk_request(struct blk *b, const struct virtq_chain *c)
{
	if (c->nw == 0)
		return -1;
	const struct iovec *last = &c->iov[c->nr + c->nw - 1];
	uint8_t *status = (uint8_t *)last->iov_base + last->iov_len - 1;
	uint8_t hdr[HDR_BYTES];
	uint32_t done = 0;
	uint8_t st;
	if (iov_copy(c->iov, c->nr, hdr, HDR_BYTES, false) < HDR_BYTES) {
		st = VIRTIO_BLK_S_IOERR;
	} else {
		uint32_t type;
		uint64_t sector;
		memcpy(&type, hdr, sizeof(type));
		memcpy(&sector, hdr + 8, sizeof(sector));
		type = le32toh(type);
		sector = le64toh(sector);
		if (type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_OUT)
			st = blk_rw(b, c, sector, type == VIRTIO_BLK_T_OUT,
				    &done);
		else if (type == VIRTIO_BLK_T_FLUSH)
			st = blk_flush(b);
		else if (type == VIRTIO_BLK_T_GET_ID)
			st = blk_get_id(b, c, &done);
		else
			st = VIRTIO_BLK_S_UNSUPP;
	}
	__atomic_store_n(status, st, __ATOMIC_RELEASE);
	return (int64_t)done + 1;
}

static void blk_notify(struct virtio_dev *d, unsigned qi)
{
	struct blk *b = (struct blk *)d;
	struct virtq *q = &d->vq[qi];
	struct virtq_chain c;
	while (virtq_pop(q, &c) == 1) {
		int64_t len = blk_request(b, &c);
		if (len < 0) {
			virtq_fail(q, VQ_BAD_REQUEST);
			break;
		}
		if (virtq_push(q, c.head, len) < 0)
			break;
	}
	virtio_used(d, qi);
}

static void blk_config_read(struct virtio_dev *d, uint32_t off, void *buf,
			    uint32_t len)
{
	struct blk *b = (struct blk *)d;
	uint8_t cfg[CFG_BYTES] = {0};
	uint64_t cap = htole64(b->capacity);
	uint32_t seg_max = htole32(VIRTQ_MAX_SEGS - 2); /* header, status */
	memcpy(cfg, &cap, sizeof(cap));
	memcpy(cfg + 12, &seg_max, sizeof(seg_max));
	memcpy(buf, cfg + off, len);
}

static uint64_t blk_features(const struct virtio_dev *d)
{
	const struct blk *b = (const struct blk *)d;
	uint64_t f = 1ULL << VIRTIO_BLK_F_SEG_MAX | 1ULL << VIRTIO_BLK_F_FLUSH;
	return b->ro ? f | 1ULL << VIRTIO_BLK_F_RO : f;
}

static const struct virtio_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.features = blk_features,
	.nqueues = 1,
	.queue_max = VIRTQ_MAX_SIZE,
	.config_size = CFG_BYTES,
	.config_read = blk_config_read,
	.notify = blk_notify,
};

/* The size of the file or block device fd in bytes, or -errno. */
static int64_t fd_size(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		uint64_t n;
		if (ioctl(fd, BLKGETSIZE64, &n) < 0)
			return -errno;
		return (int64_t)n;
	}
	return st.st_size;
}

int blk_init(struct blk *b, const struct vm *vm, int fd, bool ro,
	     const char *id)
{
	int64_t size = fd_size(fd);
	if (size < 0)
		return (int)size;
	virtio_init(&b->vdev, &blk_ops, vm);
	b->fd = fd;
	b->ro = ro;
	b->capacity = (uint64_t)size / VIRTIO_BLK_SECTOR;
	/* Not NUL-terminated when it fills all 20 bytes (5.2.6). */
	size_t n = strnlen(id, sizeof(b->id));
	memset(b->id, 0, sizeof(b->id));
	memcpy(b->id, id, n);
	return 0;
}

/* Splits spec into its path and mode: FILE, FILE:ro or FILE:rw. 0, or -1
 * if no path is left or it is too long. */
static int disk_spec(const char *spec, char *path, size_t size, bool *ro)
{
	size_t n = strlen(spec);
	*ro = n >= 3 && strcmp(spec + n - 3, ":ro") == 0;
	if (*ro || (n >= 3 && strcmp(spec + n - 3, ":rw") == 0))
		n -= 3;
	if (n == 0 || n >= size)
		return -1;
	memcpy(path, spec, n);
	path[n] = 0;
	return 0;
}

static int not_a_disk(const char *spec)
{
	msg("--disk %s: not a regular file or block device (give a disk "
	    "image or block device)",
	    spec);
	return -EINVAL;
}

/* The line for a disk that would not open, and its -errno. */
static int open_failed(const char *spec, const char *path, bool ro)
{
	int err = errno;
	const char *base = strrchr(path, '/');
	const char *colon = strchr(base ? base : path, ':');
	if (err == ENOENT && colon)
		msg("--disk %s: no such file ('%s' is not a mode: use FILE, "
		    "FILE:ro or FILE:rw)",
		    spec, colon);
	else if (err == EISDIR)
		msg("--disk %s: a directory (give a disk image or block "
		    "device)",
		    spec);
	else if (!ro && (err == EACCES || err == EPERM || err == EROFS))
		msg("--disk %s: %s (a read-only disk needs %s:ro)", spec,
		    strerror(err), path);
	else
		msg("--disk %s: %s (give a disk image or block device)", spec,
		    strerror(err));
	return -err;
}

/* Locks the disk as QEMU does its images, for as long as fd is open: a
 * writable disk alone, read-only ones shared, so that two VMs (or one
 * disk given twice) never write one file under each other's file system.
 * 0, or -EBUSY with the line printed. */
static int disk_lock(int fd, const char *spec, bool ro)
{
	if (flock(fd, (ro ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK)
		return 0; /* a file system without locks: nothing to keep */
	msg("--disk %s: in use (locked by another VM, or given twice; only "
	    ":ro disks are shared)",
	    spec);
	return -EBUSY;
}

/* Whether fd is a disk mote may use as asked: a regular file or block
 * device, writable unless ro (a file with no write bit in its mode is
 * read-only even for root, whom the kernel would let write it), and not
 * in use. 0, or -errno with the line printed. */
static int disk_check(int fd, const char *spec, const char *path, bool ro)
{
	struct stat st;
	int ro_dev = 0;
	if (fstat(fd, &st) < 0) {
		msg("--disk %s: %s", spec, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return not_a_disk(spec);
	if (S_ISBLK(st.st_mode) && ioctl(fd, BLKROGET, &ro_dev) < 0)
		ro_dev = 0;
	if (!ro && (ro_dev || (S_ISREG(st.st_mode) && !(st.st_mode & 0222)))) {
		msg("--disk %s: the %s is read-only (a read-only disk needs "
		    "%s:ro)",
		    spec, ro_dev ? "block device" : "file", path);
		return -EACCES;
	}
	return disk_lock(fd, spec, ro);
}

int blk_open(struct blk *b, const struct vm *vm, const char *spec)
{
	char path[4096];
	bool ro;
	b->fd = -1;
	if (disk_spec(spec, path, sizeof(path), &ro) < 0) {
		msg("--disk %s: not a disk (use FILE, FILE:ro or FILE:rw)",
		    spec);
		return -EINVAL;
	}
	/* Looked at before the open, which would wait on a FIFO. */
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) &&
	    !S_ISBLK(st.st_mode) && !S_ISDIR(st.st_mode))
		return not_a_disk(spec);
	int fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return open_failed(spec, path, ro);
	int err = disk_check(fd, spec, path, ro);
	if (err < 0) {
		close(fd);
		return err;
	}
	const char *base = strrchr(path, '/');
	err = blk_init(b, vm, fd, ro, base ? base + 1 : path);
	if (err < 0) {
		msg("--disk %s: cannot read its size: %s", spec,
		    strerror(-err));
		close(fd);
		b->fd = -1;
	}
	return err;
}

void blk_close(struct blk *b)
{
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
}
