/* /dev/mote-snapshot's negative paths: without --snapshot a write is
 * EPERM (whatever the buffer or count: the bytes are not read), writev
 * is EINVAL, O_CREAT|O_EXCL is EEXIST, O_DIRECTORY
 * ENOTDIR, O_PATH ENXIO, a closed fd EBADF; a read gives the generation
 * (32 hex digits and a newline) and reads on to end-of-file. */
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>
#include <sys/uio.h>

int main(void)
{
	int fd = open("/dev/mote-snapshot", O_RDWR);
	CHECK(fd >= 0);
	CHECK_ERR(write(fd, "x", 1), EPERM);
	CHECK_ERR(write(fd, BAD_PTR, 1), EPERM);
	CHECK_ERR(write(fd, SHIM_PTR, ~0UL >> 1), EPERM);
	struct iovec iov = {"x", 1};
	CHECK_ERR(writev(fd, &iov, 1), EINVAL);
	char buf[64];
	CHECK(read(fd, buf, sizeof(buf)) == 33 && buf[32] == '\n');
	for (int i = 0; i < 32; i++)
		CHECK((buf[i] >= '0' && buf[i] <= '9') ||
		      (buf[i] >= 'a' && buf[i] <= 'f'));
	CHECK(read(fd, buf, sizeof(buf)) == 0);
	CHECK_ERR(read(fd, BAD_PTR, 1), EFAULT);
	CHECK_ERR(open("/dev/mote-snapshot", O_CREAT | O_EXCL | O_WRONLY, 0600),
		  EEXIST);
	CHECK_ERR(open("/dev/mote-snapshot", O_RDONLY | O_DIRECTORY), ENOTDIR);
	CHECK_ERR(open("/dev/mote-snapshot", O_PATH), ENXIO);
	int w = open("/dev/mote-snapshot", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(w >= 0);
	CHECK(close(w) == 0 && close(fd) == 0);
	CHECK_ERR(write(fd, "x", 1), EBADF);
	success();
}
