/* The one way the monitor talks to KVM (except KVM_RUN): an ioctl that is
 * repeated while a host signal interrupts it. In a file of its own so that
 * the fuzzers' fake KVM (tests/lib/fake.c, ld --wrap) replaces every
 * call, including those from vm.c. */
#include <errno.h>
#include <sys/ioctl.h>

#include "vm/vm.h"

int kvm_ioctl(int fd, unsigned long req, void *arg)
{
	int r;
	do
		r = ioctl(fd, req, arg);
	while (r < 0 && errno == EINTR);
	return r;
}
