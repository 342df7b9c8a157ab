/* mote receive --listen ADDR:PORT --key FILE: waits for one VM that a
 * mote migrate sends (docs/migration.md), then runs it as mote restore
 * would, with this command's stdio as the guest's.
 *
 * The snapshot comes into a memfd laid out as the snapshot file. Before
 * the source is told to let go, it is checked as restore checks a file
 * (header, checksums, this host's CPU, the options); only then does this
 * side answer READY and start it. A failure before that answer leaves the
 * VM with its source, which resumes it; one after it is this side's, and
 * fatal, with the reason.
 *
 * Post-copy: the pages the source left out (LAZY) are holes in the memfd
 * until they come; snap/postcopy.c fetches them while the VM runs. */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "run/run.h"
#include "snap/mig.h"
#include "snap/postcopy.h"
#include "snap/snap.h"
#include "snap/state.h"
#include "util.h"

#define RECV_MAX (1ULL << 40) /* a snapshot file's size at most */

/* A socket listening on addr ("HOST:PORT", HOST may be [v6] or empty for
 * any): the fd, or -1 after a message. */
static int listen_on(const char *addr)
{
	const char *colon = strrchr(addr, ':');
	char host[256];
	if (!colon || !colon[1] || (size_t)(colon - addr) >= sizeof(host)) {
		msg("receive: --listen %s: expected ADDR:PORT", addr);
		return -1;
	}
	size_t n = (size_t)(colon - addr);
	const char *h = addr;
	if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
		h++;
		n -= 2;
	}
	memcpy(host, h, n);
	host[n] = 0;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE},
			*ai = NULL;
	int gai = getaddrinfo(n ? host : NULL, colon + 1, &hints, &ai);
	if (gai) {
		msg("receive: --listen %s: %s", addr, gai_strerror(gai));
		return -1;
	}
	int s = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (s >= 0)
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s < 0 || bind(s, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(s, 1) < 0) {
		msg("receive: cannot listen on %s: %s", addr, strerror(errno));
		if (s >= 0)
			close(s);
		s = -1;
	}
	freeaddrinfo(ai);
	return s;
}

/* Tells the source why this side will not run the VM. */
static void refuse(struct mig *m, const char *why)
{
	mig_send(m, MIG_FAIL, why, (uint32_t)strlen(why));
}

/* Takes one VM from the source on connected socket s into memfd fd and
 * checks it: 0, or -1 after a message (and the source told, if the stream
 * stands). A post-copy's lazy pages are still to come: *pc is set, to
 * fetch them once the VM is built. */
static int take(int s, int fd, const uint8_t key[MIG_KEY_BYTES], char *path,
		struct mig_fwd *f, struct postcopy **pc)
{
	struct mig m;
	char err[256];
	if (mig_hello(&m, s, key, false, 10000, err, sizeof(err)) < 0) {
		msg("receive: %s", err);
		return -1;
	}
	if (mig_recv_file(&m, fd, RECV_MAX, f, err, sizeof(err)) < 0) {
		msg("receive: %s", err);
		refuse(&m, err);
		return -1;
	}
	/* The checks of mote restore, before the source lets go. */
	struct snap_state st = {0};
	int sfd = snap_open(path, &st);
	if (sfd < 0) {
		refuse(&m, "the snapshot does not pass restore's checks "
			   "here (see the receiver's message)");
		return -1;
	}
	if (f->nlazy &&
	    !(*pc = postcopy_prepare(fd, f, &st.h, err, sizeof(err)))) {
		msg("receive: %s", err);
		refuse(&m, err);
	}
	snap_state_free(&st);
	close(sfd);
	if (f->nlazy && !*pc)
		return -1;
	if (mig_send(&m, MIG_READY, "", 0) < 0) {
		msg("receive: the source is gone before it let go of the VM: "
		    "it keeps it");
		return -1;
	}
	if (*pc && postcopy_attach(*pc, &m) < 0) {
		msg("receive: post-copy: %s; the VM cannot run",
		    strerror(errno));
		return -1;
	}
	return 0;
}

int run_receive(const char *listen_addr, const char *keyfile, const char *name,
		struct lx_opts *o)
{
	uint8_t key[MIG_KEY_BYTES];
	char err[256];
	if (mig_key_load(keyfile, key, err, sizeof(err)) < 0) {
		msg("receive: %s", err);
		return MOTE_EXIT_FAIL;
	}
	int l = listen_on(listen_addr);
	if (l < 0)
		return MOTE_EXIT_FAIL;
	int s;
	while ((s = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0 && errno == EINTR)
		;
	close(l);
	if (s < 0) {
		msg("receive: accept: %s", strerror(errno));
		return MOTE_EXIT_FAIL;
	}
	int fd = memfd_create("mote-received", MFD_CLOEXEC);
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct mig_fwd f = {0};
	struct postcopy *pc = NULL;
	int r = fd < 0 ? -1 : take(s, fd, key, path, &f, &pc);
	close(s);
	explicit_bzero(key, sizeof(key));
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		free(f.lazy);
		return MOTE_EXIT_FAIL;
	}
	int status = run_restore_lazy(path, name, 1, o, pc);
	close(fd);
	free(f.lazy);
	return status;
}
