/* The one checked door from the monitor into guest memory: guest
 * pointers, copies in and out, and the monitor's own view of user memory. */
#include <errno.h>
#include <string.h>

#include "vm/dirty.h"
#include "vm/layout.h"
#include "vm/vm.h"

void *gm_user(const struct vm *vm, uint64_t gva, uint64_t len,
	      enum gm_access acc)
{
	uint64_t end = gva + len;
	if (end < gva || gva < USER_MIN || gva >= vm->user_size ||
	    end > vm->user_size)
		return NULL;
	uint64_t need = PTE_P | PTE_U | (acc == GM_WRITE ? PTE_W : 0);
	/* Identity-mapped user memory: the page tables decide what the guest
	 * may touch, so the monitor checks the same entries the CPU would. */
	for (uint64_t p = gva & PAGE_MASK; p < end || p == (gva & PAGE_MASK);
	     p += PAGE_SIZE) {
		uint64_t e = pt_lookup(&vm->pt, p);
		if ((e & need) != need || (e & PTE_ADDR) != p)
			return NULL;
		if (len == 0)
			break;
	}
	if (acc == GM_WRITE)
		vm_dirty_mark(vm, gva, len, true);
	return vm->mem + gva;
}

int gm_copy_in(const struct vm *vm, void *dst, uint64_t gva, size_t len)
{
	const void *h = gm_user(vm, gva, len, GM_READ);
	if (!h)
		return -EFAULT;
	memcpy(dst, h, len);
	return 0;
}

int gm_copy_out(const struct vm *vm, uint64_t gva, const void *src, size_t len)
{
	void *h = gm_user(vm, gva, len, GM_WRITE);
	if (!h)
		return -EFAULT;
	memcpy(h, src, len);
	return 0;
}

void *gm_phys(const struct vm *vm, uint64_t gpa, uint64_t len)
{
	/* A Linux guest's RAM is user memory, from guest-physical 0. */
	uint64_t end = gpa + len;
	if (!vm->mem || end < gpa || end > vm->user_size)
		return NULL;
	return vm->mem + gpa;
}

void *gm_span(const struct vm *vm, uint64_t gpa, uint64_t len)
{
	uint64_t end = gpa + len;
	if (!vm->mem || end < gpa || end > vm->user_size)
		return NULL;
	return vm->mem + gpa;
}

void *gm_range(const struct vm *vm, uint64_t gpa, uint64_t len)
{
	void *h = gm_span(vm, gpa, len);
	if (h)
		vm_dirty_mark(vm, gpa, len, true);
	return h;
}

const void *gm_image(const struct vm *vm, uint64_t gpa, uint64_t len)
{
	uint64_t end = gpa + len;
	if (!vm->mem || end < gpa || end > vm->user_size + vm->sys_size)
		return NULL;
	return vm->mem + gpa;
}

bool gm_holds(const struct vm *vm, const void *host)
{
	const uint8_t *a = host;
	return vm->mem && a >= vm->mem && a < vm->mem + vm->user_size;
}

void *gm_sys(const struct vm *vm, uint64_t gva, uint64_t len)
{
	uint64_t end = gva + len;
	if (end < gva || gva < SYS_GVA + SYS_VCPU ||
	    end > SYS_GVA + SYS_VCPU + SYS_MAX_VCPUS * PAGE_SIZE)
		return NULL;
	return vm->mem + vm->user_size + (gva - SYS_GVA);
}

long gm_strncpy(const struct vm *vm, char *buf, uint64_t gva, size_t max)
{
	size_t n = 0;
	while (n < max) {
		/* Check page by page: a string may end just before an
		 * unmapped page. */
		uint64_t chunk = PAGE_SIZE - ((gva + n) & (PAGE_SIZE - 1));
		if (chunk > max - n)
			chunk = max - n;
		const char *src = gm_user(vm, gva + n, chunk, GM_READ);
		if (!src)
			return -EFAULT;
		const char *nul = memchr(src, 0, chunk);
		if (nul) {
			memcpy(buf + n, src, nul - src + 1);
			return (long)(n + (nul - src));
		}
		memcpy(buf + n, src, chunk);
		n += chunk;
	}
	return -ENAMETOOLONG;
}
