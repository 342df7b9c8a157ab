/* The split virtqueue, device side (virtq.h): rings checked once at enable,
 * descriptor chains walked with every index and length bounded, each guest
 * field read once into a local, since the guest may rewrite its rings
 * while the device reads them. */
#include <endian.h>
#include <string.h>

#include "dev/virtq.h"
#include "stream.h"
#include "vm/gmem.h"

/* Ring layouts (virtio 1.x, 2.7): little-endian, reached only through
 * these offsets, each field read once through a volatile access. */
#define DESC_SIZE      16
#define AVAIL_FLAGS    0
#define AVAIL_IDX      2
#define AVAIL_RING(i)  (4 + 2 * (i))
#define USED_FLAGS     0
#define USED_IDX       2
#define USED_RING(i)   (4 + 8 * (i))
#define AVAIL_BYTES(n) (6 + 2 * (uint64_t)(n)) /* with used_event */
#define USED_BYTES(n)  (6 + 8 * (uint64_t)(n)) /* with avail_event */

/* A descriptor as it lies in guest RAM. Packed: an indirect table need
 * not be aligned. */
struct desc_raw {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
} __attribute__((packed));
_Static_assert(sizeof(struct desc_raw) == DESC_SIZE, "virtq_desc is 16 bytes");

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static const char *const fault_names[VQ_NFAULTS] = {
	[VQ_OK] = "no fault",
	[VQ_BAD_SIZE] = "queue size 0, not a power of two, or too large",
	[VQ_BAD_RING] = "a ring misaligned or outside guest RAM",
	[VQ_BAD_AVAIL] = "avail idx moved by more than the queue size",
	[VQ_BAD_INDEX] = "descriptor index out of the table",
	[VQ_LOOP] = "descriptor chain loops",
	[VQ_BAD_INDIRECT] = "bad indirect descriptor",
	[VQ_BAD_LEN] = "zero or oversized buffer length",
	[VQ_BAD_ADDR] = "buffer outside guest RAM",
	[VQ_TOO_MANY] = "too many descriptors in a chain",
	[VQ_ORDER] = "readable descriptor after a writable one",
	[VQ_BAD_USED] = "used element for a head out of the table",
	[VQ_BAD_REQUEST] = "request with no room for its header or status",
};
_Static_assert(sizeof(fault_names) / sizeof(fault_names[0]) == VQ_NFAULTS,
	       "a name for every virtq fault");

const char *virtq_fault_name(enum virtq_fault why)
{
	return why < VQ_NFAULTS ? fault_names[why] : "unknown fault";
}

static uint16_t ld16(const uint8_t *p)
{
	return le16toh(*(const volatile uint16_t *)p);
}

static void st16(uint8_t *p, uint16_t v)
{
	*(volatile uint16_t *)p = htole16(v);
}

static void st32(uint8_t *p, uint32_t v)
{
	*(volatile uint32_t *)p = htole32(v);
}

static void desc_read(const uint8_t *table, uint16_t i, struct desc *d)
{
	const volatile struct desc_raw *r =
		(const volatile struct desc_raw *)(table + DESC_SIZE * i);
	d->addr = le64toh(r->addr);
	d->len = le32toh(r->len);
	d->flags = le16toh(r->flags);
	d->next = le16toh(r->next);
}

int virtq_fail(struct virtq *q, enum virtq_fault why)
{
	if (q->fault == VQ_OK)
		q->fault = why;
	return -1;
}

void virtq_reset(struct virtq *q)
{
	const struct vm *vm = q->vm;
	memset(q, 0, sizeof(*q));
	q->vm = vm;
}

/* The host address of a ring of len bytes at gpa aligned to align, or
 * NULL. */
static uint8_t *ring(const struct vm *vm, uint64_t gpa, uint64_t len,
		     uint64_t align)
{
	if (gpa & (align - 1))
		return NULL;
	return gm_phys(vm, gpa, len);
}

int virtq_enable(struct virtq *q, const struct vm *vm)
{
	uint16_t n = q->size;
	q->vm = vm;
	q->ready = false;
	q->last_avail = q->used_idx = q->signalled = 0;
	if (n == 0 || (n & (n - 1)) || n > VIRTQ_MAX_SIZE)
		return virtq_fail(q, VQ_BAD_SIZE);
	q->desc = ring(vm, q->desc_gpa, (uint64_t)DESC_SIZE * n, 16);
	q->avail = ring(vm, q->avail_gpa, AVAIL_BYTES(n), 2);
	q->used = ring(vm, q->used_gpa, USED_BYTES(n), 4);
	if (!q->desc || !q->avail || !q->used)
		return virtq_fail(q, VQ_BAD_RING);
	q->ready = true;
	return 0;
}

/* Walking one chain: the table being read (the ring's or an indirect
 * one), its size, and the links taken in it. */
struct walk {
	const uint8_t *table;
	uint32_t size;
	uint32_t links;
	bool nested;
};

/* Switches w to the indirect table d names. 0 or a fault. */
static enum virtq_fault enter_indirect(struct virtq *q, struct walk *w,
				       const struct desc *d)
{
	if (!q->indirect || w->nested || (d->flags & VIRTQ_DESC_F_NEXT))
		return VQ_BAD_INDIRECT;
	if (d->len == 0 || d->len % DESC_SIZE ||
	    d->len / DESC_SIZE > VIRTQ_MAX_SEGS)
		return VQ_BAD_INDIRECT;
	w->table = gm_phys(q->vm, d->addr, d->len);
	if (!w->table)
		return VQ_BAD_ADDR;
	w->size = d->len / DESC_SIZE;
	w->links = 0;
	w->nested = true;
	return VQ_OK;
}

/* Adds the buffer d describes to c. 0 or a fault. */
static enum virtq_fault add_buffer(struct virtq *q, struct virtq_chain *c,
				   const struct desc *d)
{
	bool wr = d->flags & VIRTQ_DESC_F_WRITE;
	if (d->len == 0 || d->len > VIRTQ_MAX_BYTES ||
	    c->rlen + c->wlen + d->len > VIRTQ_MAX_BYTES)
		return VQ_BAD_LEN;
	if (!wr && c->nw)
		return VQ_ORDER;
	if (c->nr + c->nw == VIRTQ_MAX_SEGS)
		return VQ_TOO_MANY;
	void *host = gm_phys(q->vm, d->addr, d->len);
	if (!host)
		return VQ_BAD_ADDR;
	struct iovec *v = &c->iov[c->nr + c->nw];
	v->iov_base = host;
	v->iov_len = d->len;
	if (wr) {
		c->nw++;
		c->wlen += d->len;
	} else {
		c->nr++;
		c->rlen += d->len;
	}
	return VQ_OK;
}

/* Walks the chain from head into c. 0 or a fault. */
static enum virtq_fault walk_chain(struct virtq *q, uint16_t head,
				   struct virtq_chain *c)
{
	struct walk w = {.table = q->desc, .size = q->size};
	uint32_t i = head;
	for (;;) {
		struct desc d;
		if (i >= w.size)
			return VQ_BAD_INDEX;
		if (++w.links > w.size)
			return VQ_LOOP;
		desc_read(w.table, i, &d);
		enum virtq_fault f;
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			f = enter_indirect(q, &w, &d);
			i = 0;
			if (f != VQ_OK)
				return f;
			continue;
		}
		f = add_buffer(q, c, &d);
		if (f != VQ_OK)
			return f;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return VQ_OK;
		i = d.next;
	}
}

int virtq_pop(struct virtq *q, struct virtq_chain *c)
{
	if (!q->ready || virtq_broken(q))
		return -1;
	uint16_t idx = le16toh(__atomic_load_n(
		(uint16_t *)(q->avail + AVAIL_IDX), __ATOMIC_ACQUIRE));
	uint16_t pending = idx - q->last_avail;
	if (pending == 0)
		return 0;
	if (pending > q->size)
		return virtq_fail(q, VQ_BAD_AVAIL);
	uint16_t slot = q->last_avail & (q->size - 1);
	uint16_t head = ld16(q->avail + AVAIL_RING(slot));
	c->head = head;
	c->nr = c->nw = 0;
	c->rlen = c->wlen = 0;
	enum virtq_fault f = walk_chain(q, head, c);
	if (f != VQ_OK)
		return virtq_fail(q, f);
	q->last_avail++;
	/* avail_event: the driver may notify again once it makes entry
	 * last_avail available. */
	if (q->event_idx)
		st16(q->used + USED_RING(q->size), q->last_avail);
	return 1;
}

int virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	if (!q->ready || virtq_broken(q))
		return -1;
	if (head >= q->size)
		return virtq_fail(q, VQ_BAD_USED);
	uint8_t *e = q->used + USED_RING(q->used_idx & (q->size - 1));
	st32(e, head);
	st32(e + 4, len);
	q->used_idx++;
	/* The element before the index that publishes it. */
	__atomic_store_n((uint16_t *)(q->used + USED_IDX), htole16(q->used_idx),
			 __ATOMIC_RELEASE);
	return 0;
}

bool virtq_want_interrupt(struct virtq *q)
{
	if (!q->ready || virtq_broken(q))
		return false;
	/* The used idx store before the driver's suppression fields are
	 * read (the driver orders them the other way round). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint16_t old = q->signalled, now = q->used_idx;
	if (old == now)
		return false;
	bool want;
	if (q->event_idx) {
		uint16_t event = ld16(q->avail + AVAIL_RING(q->size));
		want = (uint16_t)(now - event - 1) < (uint16_t)(now - old);
	} else {
		want = !(ld16(q->avail + AVAIL_FLAGS) &
			 VIRTQ_AVAIL_F_NO_INTERRUPT);
	}
	if (want)
		q->signalled = now;
	return want;
}

void virtq_save(const struct virtq *q, struct wbuf *w)
{
	uint8_t flags =
		(uint8_t)(q->indirect | q->event_idx << 1 | q->ready << 2);
	uint8_t fault = (uint8_t)q->fault;
	W(w, q->size);
	W(w, q->desc_gpa);
	W(w, q->avail_gpa);
	W(w, q->used_gpa);
	W(w, flags);
	W(w, fault);
	W(w, q->last_avail);
	W(w, q->used_idx);
	W(w, q->signalled);
}

bool virtq_load(struct virtq *q, const struct vm *vm, struct rbuf *r)
{
	uint8_t flags, fault;
	uint16_t last_avail, used_idx, signalled;
	R(r, q->size);
	R(r, q->desc_gpa);
	R(r, q->avail_gpa);
	R(r, q->used_gpa);
	R(r, flags);
	R(r, fault);
	R(r, last_avail);
	R(r, used_idx);
	R(r, signalled);
	if (r->bad || flags > 7 || fault >= VQ_NFAULTS)
		return false;
	q->indirect = flags & 1;
	q->event_idx = flags & 2;
	q->vm = vm;
	q->ready = false;
	q->fault = VQ_OK;
	if ((flags & 4) && virtq_enable(q, vm) < 0)
		return false;
	q->fault = (enum virtq_fault)fault;
	q->last_avail = last_avail;
	q->used_idx = used_idx;
	q->signalled = signalled;
	return true;
}
