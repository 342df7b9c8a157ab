/* Shared by the socket syscalls: net.c (sockets, addresses, options) and
 * netmsg.c (send and receive). */
#ifndef MOTE_LX_NET_H
#define MOTE_LX_NET_H

#include <sys/socket.h>

#include "lx/lx.h"

/* A socket address on its way from the guest to the host. An AF_UNIX path
 * has been resolved inside the root and volumes; the host then reaches it
 * through /proc/self/fd/HOLD, never through a host path. */
struct lx_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	int hold;    /* the O_PATH fd the name goes through, or -1 */
	char *guest; /* bind: the absolute guest path it names, or NULL */
};

/* What an address is for: the path of bind is created, the others must
 * exist. */
enum lx_addr_use { ADDR_BIND, ADDR_DEST };

/* Whether --net=PORTS lets the guest listen on or bind port (every port
 * when no list was given). */
bool lx_net_port_allowed(const struct lx_opts *o, unsigned port);

/* The socket behind guest fd gfd: 0, -EBADF or -ENOTSOCK. */
int lx_sock_get(struct lx_thread *t, uint64_t gfd, struct lx_fd **f);

/* Copies the guest address at gva (len bytes, Linux's checks: EINVAL,
 * EFAULT) and applies the policy: AF_UNIX paths resolve inside the root
 * and volumes (bind needs a rw volume), abstract names need --net.
 * Release with lx_addr_put in every case. */
int lx_addr_in(struct lx_thread *t, uint64_t gva, uint64_t len,
	       enum lx_addr_use use, struct lx_addr *a);
void lx_addr_put(struct lx_addr *a);

/* Rewrites a host address in place into what the guest sees: an AF_UNIX
 * name the monitor made (/proc/self/fd/N/NAME) becomes the guest path of
 * f when own (the socket's own name), else NAME. Returns its length. */
socklen_t lx_addr_guest(const struct lx_fd *f, struct sockaddr_storage *ss,
			socklen_t len, bool own);

/* Writes an address to the guest's buffer `buf` of room `room` the way
 * Linux does: truncated to room, the full length returned. */
void lx_addr_copy_out(void *buf, socklen_t room, const void *addr,
		      socklen_t len);

#endif
