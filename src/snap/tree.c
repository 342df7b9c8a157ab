/* Snapshots of a VM of several processes (docs/snapshot.md).
 *
 * Every guest process is a monitor of its own, and only a monitor can
 * read its VM's state, so each saves its own part of the file. The saver
 * (the monitor whose guest wrote /dev/mote-snapshot, or the first one,
 * asked by `mote snapshot`) holds the whole run (hold.c: every monitor's
 * threads park), then asks the others one at a time: it posts a request
 * in the tree's shared table (slot, where the part starts), sends the
 * snapshot's fd over the tree's socket pair, and wakes the parked threads;
 * one of the asked monitor's threads takes the request, waits until all
 * of its threads are parked, saves its part, leaves its ids (parent,
 * group, session, as the guest knew them) in its table entry and says
 * done. The first process's part goes last, at offset 0, with the tree's
 * record naming every part: a file whose first header is missing is no
 * snapshot, as for one process.
 *
 * Layout: the first part at 0, as a one-process snapshot is; the others
 * after the room its state could take (SNAP_STATE_MAX, a hole in a sparse
 * file), each at the page after the one before it ended.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "snap/snap.h"
#include "snap/state.h"
#include "util.h"

#define CLAIM_MS 3000  /* for an asked monitor to take the request */
#define SAVE_MS	 60000 /* for it to write its part */
#define PARK_MS	 2000  /* for its threads to park */
#define FORK_MS	 2000  /* for a fork under way to end */

static void futex_wait(_Atomic uint32_t *w, uint32_t val, int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	syscall(SYS_futex, w, FUTEX_WAIT, val, &ts, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *w)
{
	syscall(SYS_futex, w, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* The next fd on the socket within ms, or -1. */
static int recv_fd(int sock, int ms)
{
	struct pollfd pfd = {sock, POLLIN, 0};
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	if (ppoll(&pfd, 1, &ts, NULL) != 1)
		return -1;
	char byte;
	struct iovec iov = {&byte, 1};
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = u.b,
			   .msg_controllen = sizeof(u.b)};
	if (recvmsg(sock, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) != 1)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	if (!c || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* Takes back an fd no monitor took. */
static void drain(struct lx_tree *t)
{
	int fd;
	while ((fd = recv_fd(lx_tree_sock(t, 1), 0)) >= 0)
		close(fd);
}

static struct snap_proc *tree_of(struct lx_tree *t, uint32_t gen, uint32_t *n);

/* One part to save: where it starts, how, and for the first process the
 * whole file's size (a stream's SIZE). */
struct job {
	uint64_t base, size;
	uint32_t gen;
	bool first, stream;
};

/* This process's part, its ids left in its entry; the first process's
 * lists every part. */
static int save_own(struct lx_proc *p, int fd, const struct job *j,
		    struct lx_thread *self, long self_ret, uint64_t *end,
		    char *err, size_t errlen)
{
	struct lx_tree_part *e = lx_tree_part(p->task.tree, p->task.tree_slot);
	e->base = j->base;
	e->ppid = lx_getppid(p);
	e->pgid = lx_getpgrp(p);
	e->sid = lx_getsid(p);
	e->gen = j->gen;
	struct snap_part part = {
		.base = j->base, .stream = j->stream, .size = j->size};
	struct snap_proc *procs = NULL;
	if (j->first) {
		procs = tree_of(p->task.tree, j->gen, &part.nprocs);
		if (!procs)
			return err_set(err, errlen, "out of memory");
		part.procs = procs;
	}
	int r = snap_save_part(p, fd, &part, self, self_ret, end, err, errlen);
	free(procs);
	return r;
}

/* The first process's part lists every part saved in this snapshot. */
static struct snap_proc *tree_of(struct lx_tree *t, uint32_t gen, uint32_t *n)
{
	uint32_t max = lx_tree_max(t);
	struct snap_proc *v = calloc(max, sizeof(*v));
	*n = 0;
	for (uint32_t i = 0; v && i < max; i++) {
		pid_t gpid;
		const struct lx_tree_part *e = lx_tree_part(t, (int)i);
		if (lx_tree_slot_pid(t, (int)i, &gpid) <= 0 || e->gen != gen)
			continue;
		struct snap_proc q = {e->base, gpid, e->ppid, e->pgid, e->sid};
		/* The first process first. */
		if (i == 0 && *n) {
			v[*n] = v[0];
			v[0] = q;
		} else {
			v[*n] = q;
		}
		(*n)++;
	}
	return v;
}

/* Asks slot for its part: 0 with its end, or -1. */
static int ask(struct lx_proc *p, int slot, pid_t gpid, int fd,
	       const struct job *j, uint64_t *end, char *err, size_t errlen)
{
	struct lx_tree *t = p->task.tree;
	struct lx_tree_req *q = lx_tree_req(t);
	q->slot = slot;
	q->gen = j->gen;
	q->first = j->first;
	q->stream = j->stream;
	q->base = j->base;
	q->size = j->size;
	q->end = 0;
	q->err[0] = 0;
	if (send_with_fd(lx_tree_sock(t, 0), "", 1, fd, MSG_DONTWAIT) != 1)
		return err_set(err, errlen,
			       "cannot pass the file to process %d: %s", gpid,
			       strerror(errno));
	atomic_store(&q->state, LX_REQ_POSTED);
	futex_wake(lx_tree_hold_word(t));
	uint64_t t0 = mono_ns();
	uint32_t s;
	while ((s = atomic_load(&q->state)) == LX_REQ_POSTED &&
	       mono_ns() - t0 < CLAIM_MS * 1000000ULL)
		futex_wait(&q->state, s, 50);
	/* A request nobody took is withdrawn; a taken one is waited for. */
	uint32_t posted = LX_REQ_POSTED;
	if (atomic_compare_exchange_strong(&q->state, &posted, LX_REQ_IDLE)) {
		drain(t);
		return err_set(err, errlen,
			       "process %d did not answer within %d ms (has it "
			       "exited, unreaped?)",
			       gpid, CLAIM_MS);
	}
	while ((s = atomic_load(&q->state)) == LX_REQ_CLAIMED &&
	       mono_ns() - t0 < SAVE_MS * 1000000ULL)
		futex_wait(&q->state, s, 100);
	s = atomic_load(&q->state);
	atomic_store(&q->state, LX_REQ_IDLE);
	drain(t);
	if (s != LX_REQ_DONE)
		return err_set(err, errlen, "process %d: %s", gpid,
			       s == LX_REQ_FAILED ? q->err
						  : "it did not finish");
	*end = q->end;
	return 0;
}

/* The part of slot i (p's own, or asked for). */
static int save_slot(struct lx_proc *p, int i, pid_t gpid, int fd,
		     const struct job *j, struct lx_thread *self, long self_ret,
		     uint64_t *end, char *err, size_t errlen)
{
	if (i == p->task.tree_slot)
		return save_own(p, fd, j, self, self_ret, end, err, errlen);
	return ask(p, i, gpid, fd, j, end, err, errlen);
}

static int save_tree(struct lx_proc *p, int fd, bool stream,
		     struct lx_thread *self, long self_ret, char *err,
		     size_t errlen);

int snap_tree_save(struct lx_proc *p, int fd, bool stream,
		   struct lx_thread *self, long self_ret, char *err,
		   size_t errlen)
{
	/* One saver at a time: two would each wait for the other to park. */
	struct lx_tree_req *q = lx_tree_req(p->task.tree);
	int32_t cur = 0;
	while (!atomic_compare_exchange_strong(&q->saver, &cur, getpid()))
		/* A saver that died mid-way holds nothing. */
		if (cur == 0 || kill(cur, 0) == 0 || errno != ESRCH)
			return err_set(err, errlen,
				       "another process of the VM is taking a "
				       "snapshot");
	int r = save_tree(p, fd, stream, self, self_ret, err, errlen);
	atomic_store(&q->saver, 0);
	return r;
}

static int save_tree(struct lx_proc *p, int fd, bool stream,
		     struct lx_thread *self, long self_ret, char *err,
		     size_t errlen)
{
	struct lx_tree *t = p->task.tree;
	static _Atomic uint32_t gens;
	/* Unique enough across monitors: this one's pid and a count. */
	struct job j = {.gen = ((uint32_t)getpid() << 12) ^ ++gens,
			.stream = stream};
	/* A fork under way ends soon (the forking thread parks right
	 * after it, and so does the child): wait for it. */
	uint32_t max = lx_tree_max(t), n = 0;
	uint64_t t0 = mono_ns();
	for (uint32_t i = 0; i < max; i++) {
		pid_t pid = lx_tree_slot_pid(t, (int)i, NULL);
		if (pid < 0 && mono_ns() - t0 < FORK_MS * 1000000ULL) {
			nanosleep(&(struct timespec){0, 1000000}, NULL);
			i = (uint32_t)-1;
			n = 0;
			continue;
		}
		if (pid < 0)
			return err_set(err, errlen,
				       "a fork did not end within %d ms",
				       FORK_MS);
		n += pid > 0;
	}
	/* The first part's room, then the others in turn, each at most a
	 * part's room. */
	uint64_t room = ALIGN_UP(SNAP_HDR_SIZE + p->vm.user_size +
					 p->vm.sys_size + SNAP_STATE_MAX,
				 PAGE_SIZE);
	int r = stream ? snap_stream_bound(fd, room * n, err, errlen)
		: ftruncate(fd, 0) < 0
			? err_set(err, errlen,
				  "cannot cut the snapshot file: %s",
				  strerror(errno))
			: 0;
	uint64_t end = 0;
	j.base = room;
	for (uint32_t i = 1; i < max && !r; i++) {
		pid_t gpid;
		if (lx_tree_slot_pid(t, (int)i, &gpid) <= 0)
			continue;
		r = save_slot(p, (int)i, gpid, fd, &j, self, self_ret, &end,
			      err, errlen);
		j.base = ALIGN_UP(end, PAGE_SIZE);
	}
	if (r)
		return -1;
	/* The first process last: its part lists the others. */
	pid_t gpid0;
	if (lx_tree_slot_pid(t, 0, &gpid0) <= 0)
		return err_set(err, errlen, "the first process is gone");
	j.size = end;
	j.base = 0;
	j.first = true;
	return save_slot(p, 0, gpid0, fd, &j, self, self_ret, &end, err,
			 errlen);
}

void snap_tree_serve(struct lx_proc *p)
{
	struct lx_tree *t = p->task.tree;
	struct lx_tree_req *q = lx_tree_req(t);
	uint32_t posted = LX_REQ_POSTED;
	if (q->slot != p->task.tree_slot ||
	    !atomic_compare_exchange_strong(&q->state, &posted, LX_REQ_CLAIMED))
		return;
	int fd = recv_fd(lx_tree_sock(t, 1), PARK_MS);
	uint64_t end = 0;
	int r = -1;
	struct job j = {.base = q->base,
			.size = q->size,
			.gen = q->gen,
			.first = q->first,
			.stream = q->stream};
	if (fd < 0) {
		snprintf(q->err, sizeof(q->err), "the file did not come");
	} else if (lx_hold_local(p, NULL, PARK_MS) < 0) {
		snprintf(q->err, sizeof(q->err),
			 "a thread did not stop within %d ms", PARK_MS);
	} else {
		r = save_own(p, fd, &j, NULL, 0, &end, q->err, sizeof(q->err));
	}
	if (fd >= 0)
		close(fd);
	q->end = end;
	atomic_store(&q->state, r ? LX_REQ_FAILED : LX_REQ_DONE);
	futex_wake(&q->state);
}
