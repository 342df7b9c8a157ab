/* KVM's supported CPUID, cached per boot.
 *
 * KVM_GET_SUPPORTED_CPUID costs ~0.27 ms on the build machines' KVM, a
 * quarter of a VM's whole start-up. Its answer changes only with the kernel
 * and the CPU, so the first mote of a boot stores it in the user's private
 * runtime directory and later ones read it back. The cache is trusted no
 * more than the user's own files: it must be a regular file owned by us,
 * writable by nobody else, with the current boot id; otherwise it is
 * ignored and rewritten.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm/vm.h"

#define CACHE_MAGIC "mote-cpuid-1"
#define MAX_ENTRIES 1024

struct cache_header {
	char magic[16];
	char boot_id[40];
	uint32_t nent;
	uint32_t pad;
};

static int boot_id(char out[40])
{
	memset(out, 0, 40);
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, out, 39);
	close(fd);
	return n >= 36 ? 0 : -1;
}

/* The cache's path, in a directory only this user can write. */
static int cache_path(char *buf, size_t len)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	if (rt && rt[0] == '/')
		return snprintf(buf, len, "%s/mote-cpuid", rt) < (int)len ? 0
									  : -1;
	if (geteuid() == 0)
		return snprintf(buf, len, "/run/mote-cpuid") < (int)len ? 0
									: -1;
	return -1;
}

static struct kvm_cpuid2 *cache_read(const char *path, const char *boot)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	struct stat st;
	struct cache_header h;
	struct kvm_cpuid2 *c = NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 022) ||
	    read(fd, &h, sizeof(h)) != sizeof(h) ||
	    memcmp(h.magic, CACHE_MAGIC, sizeof(CACHE_MAGIC)) ||
	    memcmp(h.boot_id, boot, 40) || h.nent == 0 || h.nent > MAX_ENTRIES)
		goto out;
	size_t bytes = h.nent * sizeof(c->entries[0]);
	c = calloc(1, sizeof(*c) + bytes);
	if (!c || read(fd, c->entries, bytes) != (ssize_t)bytes) {
		free(c);
		c = NULL;
		goto out;
	}
	c->nent = h.nent;
out:
	close(fd);
	return c;
}

static void cache_write(const char *path, const char *boot,
			const struct kvm_cpuid2 *c)
{
	char tmp[4096 + 16];
	snprintf(tmp, sizeof(tmp), "%s.%d", path, getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	struct cache_header h = {.nent = c->nent};
	memcpy(h.magic, CACHE_MAGIC, sizeof(CACHE_MAGIC));
	memcpy(h.boot_id, boot, 40);
	size_t bytes = c->nent * sizeof(c->entries[0]);
	bool ok = write(fd, &h, sizeof(h)) == sizeof(h) &&
		  write(fd, c->entries, bytes) == (ssize_t)bytes;
	close(fd);
	if (!ok || rename(tmp, path) < 0)
		unlink(tmp);
}

static struct kvm_cpuid2 *ask_kvm(int kvm_fd)
{
	for (uint32_t n = 128; n <= MAX_ENTRIES; n *= 2) {
		struct kvm_cpuid2 *c =
			calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return NULL;
		c->nent = n;
		if (kvm_ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, (void *)c) == 0)
			return c;
		free(c);
		if (errno != E2BIG)
			return NULL;
	}
	return NULL;
}

struct kvm_cpuid2 *cpuid_supported(int kvm_fd)
{
	char path[4096], boot[40];
	bool cacheable =
		boot_id(boot) == 0 && cache_path(path, sizeof(path)) == 0;
	struct kvm_cpuid2 *c = cacheable ? cache_read(path, boot) : NULL;
	if (c)
		return c;
	c = ask_kvm(kvm_fd);
	if (c && cacheable)
		cache_write(path, boot, c);
	return c;
}
