/* --console-socket: a pty whose master goes to the engine over a unix
 * socket (SCM_RIGHTS, as runc sends it), the slave the guest's stdio. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "oci/oci.h"
#include "util.h"

int oci_console(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path)) {
		oci_err("--console-socket %s: path too long", path);
		return -1;
	}
	strcpy(a.sun_path, path);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		oci_err("--console-socket %s: %s (the engine's socket to "
			"receive the pty)",
			path, strerror(errno));
		if (s >= 0)
			close(s);
		return -1;
	}
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	char *name =
		master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0
			? ptsname(master)
			: NULL;
	int slave = name ? open(name, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
	if (slave < 0 || send_with_fd(s, name, strlen(name), master, 0) < 0) {
		oci_err("--console-socket %s: cannot pass a pty: %s", path,
			strerror(errno));
		slave = slave >= 0 ? (close(slave), -1) : -1;
	}
	if (master >= 0)
		close(master);
	close(s);
	return slave;
}
