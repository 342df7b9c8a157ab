/* A write beyond --max-file-size under SIGXFSZ's default action ends the
 * guest: mote reports it and exits with 128 + SIGXFSZ, having written
 * the file up to the limit. Natively: prlimit --fsize=4096 (status 153
 * from a shell). */
// mote-args: --max-file-size 4096 --volume @TMP@:/data:rw
// expect-status: 153
// expect-stdout: writing
// expect-stderr: SIGXFSZ
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>

int main(void)
{
	static char buf[8192];
	int fd = open("/data/f", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	printf("writing\n");
	fflush(stdout);
	CHECK(write(fd, buf, sizeof(buf)) == 4096);
	write(fd, buf, sizeof(buf));
	printf("FAIL: still here after a write beyond the limit\n");
	return 1;
}
