/* Terminal process-group ioctls reach the host only for a real terminal
 * and only name the guest's own groups; elsewhere they are ENOTTY. (The
 * shell suite's ctrl-c case drives a real terminal through script(1).) */
#include <sys/ioctl.h>

#include "guest.h"

int main(void)
{
	int p[2];
	pid_t pg = getpgrp();
	CHECK(pipe(p) == 0);
	CHECK_ERR(ioctl(p[0], TIOCGPGRP, &pg), ENOTTY);
	CHECK_ERR(ioctl(p[0], TIOCSPGRP, &pg), ENOTTY);
	CHECK_ERR(ioctl(p[0], TIOCGSID, &pg), ENOTTY);
	CHECK_ERR(syscall(SYS_ioctl, p[0], TIOCSPGRP, BAD_PTR), ENOTTY);
	CHECK_ERR(ioctl(100, TIOCSPGRP, &pg), EBADF);
	success();
}
