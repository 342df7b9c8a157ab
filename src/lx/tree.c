/* The VM tree: the guest processes of one `mote run`, across monitors.
 *
 * Every guest process is a monitor process of its own. The table of their
 * pids lives in one shared anonymous mapping made by the first monitor
 * before anything forks, so every monitor of the tree sees it: it caps the
 * tree at --pids, tells kill() which pids are the guest's to signal, and
 * lets the first monitor end every guest process that outlives it. Each
 * entry carries the process's start time, so a stale entry (a monitor
 * killed before it could remove itself) never matches a recycled pid.
 *
 * Each entry also holds the process's guest pid. It is the monitor's host
 * pid, except for a process restored from a snapshot (which keeps its
 * snapshot's pid) and for one forked after a restore whose host pid is a
 * restored process's guest pid (it gets a free number instead): the guest
 * never sees two processes with one pid. Every pid a guest gives or gets
 * goes through lx_tree_host_pid and lx_tree_guest_pid.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lx/lx.h"
#include "util.h"

#define PID_GUEST_MAX 4194304 /* Linux's PID_MAX_LIMIT */

struct tree_entry {
	_Atomic int32_t pid;   /* 0 free, -1 reserved, else a monitor's pid */
	_Atomic int32_t execd; /* the process has called execve */
	/* Its pid as the host's /proc knows it (0: not known yet), which
	 * differs from pid in a pid namespace without its own /proc. */
	_Atomic int32_t proc_pid;
	_Atomic int32_t gpid;	  /* its guest pid (0 until it is known) */
	uint64_t start;		  /* its start time (clock ticks since boot) */
	struct lx_tree_part part; /* its part of a tree snapshot */
};

struct lx_tree {
	uint32_t max;
	pid_t root; /* the first monitor */
	/* Holding the run (hold.c): a futex word every monitor of the tree
	 * waits on while it is 1, and the value that tells the kick asking
	 * them to look apart from a guest's SIGRTMAX. */
	_Atomic uint32_t hold;
	uint64_t cookie;
	struct lx_tree_req req; /* a tree snapshot's request (snap/tree.c) */
	int sock[2];		/* passes the snapshot's fd to a monitor */
	struct tree_entry e[];
};

/* This process's pid in the host's /proc: where /proc/self points. */
static pid_t proc_self_pid(void)
{
	char buf[32];
	ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);
	if (n <= 0)
		return getpid();
	buf[n] = 0;
	long v = strtol(buf, NULL, 10);
	return v > 0 ? (pid_t)v : getpid();
}

void lx_tree_set_proc_pid(struct lx_tree *t, int slot)
{
	atomic_store(&t->e[slot].proc_pid, proc_self_pid());
}

/* Field 22 of /proc/PID/stat: when the process started. 0 if gone. */
static uint64_t start_time(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* The command name may hold spaces and parens: count from the
	 * last ')'. */
	char *s = strrchr(buf, ')');
	if (!s)
		return 0;
	unsigned long long v = 0;
	int field = 2;
	for (char *tok = strtok(s + 1, " "); tok; tok = strtok(NULL, " "))
		if (++field == 22) {
			v = strtoull(tok, NULL, 10);
			break;
		}
	return v;
}

struct lx_tree *lx_tree_create(uint32_t max)
{
	size_t size = sizeof(struct lx_tree) + max * sizeof(struct tree_entry);
	struct lx_tree *t = mmap(NULL, size, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		return NULL;
	t->max = max;
	t->root = getpid();
	if (getrandom(&t->cookie, sizeof(t->cookie), 0) != sizeof(t->cookie))
		t->cookie = (uint64_t)mono_ns() ^ ((uint64_t)t->root << 32);
	/* Made before anything forks, so every monitor has both ends. */
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, t->sock) < 0) {
		munmap(t, size);
		return NULL;
	}
	t->sock[0] = fd_high(t->sock[0]);
	t->sock[1] = fd_high(t->sock[1]);
	atomic_store(&t->e[0].pid, t->root);
	atomic_store(&t->e[0].gpid, t->root);
	atomic_store(&t->e[0].proc_pid, proc_self_pid());
	t->e[0].start = start_time(t->root);
	return t;
}

static int claim(struct lx_tree *t)
{
	for (uint32_t i = 0; i < t->max; i++) {
		int32_t free_slot = 0;
		if (atomic_compare_exchange_strong(&t->e[i].pid, &free_slot,
						   -1)) {
			atomic_store(&t->e[i].proc_pid, 0);
			atomic_store(&t->e[i].gpid, 0);
			return (int)i;
		}
	}
	return -EAGAIN;
}

/* Frees the entries of processes that are gone without their parent
 * having reaped them here (orphans reaped by the host's init). */
static void sweep(struct lx_tree *t)
{
	for (uint32_t i = 0; i < t->max; i++) {
		int32_t pid = atomic_load(&t->e[i].pid);
		if (pid > 0 && start_time(pid) != t->e[i].start)
			atomic_compare_exchange_strong(&t->e[i].pid, &pid, 0);
	}
}

int lx_tree_reserve(struct lx_tree *t)
{
	int slot = claim(t);
	if (slot >= 0)
		return slot;
	sweep(t);
	return claim(t);
}

void lx_tree_forget(struct lx_tree *t, pid_t pid)
{
	for (uint32_t i = 0; i < t->max; i++) {
		int32_t want = pid;
		if (atomic_compare_exchange_strong(&t->e[i].pid, &want, 0))
			return;
	}
}

void lx_tree_set_execd(struct lx_tree *t, int slot)
{
	if (slot >= 0 && (uint32_t)slot < t->max)
		atomic_store(&t->e[slot].execd, 1);
}

bool lx_tree_execd(struct lx_tree *t, pid_t pid)
{
	for (uint32_t i = 0; i < t->max; i++)
		if (atomic_load(&t->e[i].pid) == pid)
			return atomic_load(&t->e[i].execd);
	return false;
}

/* Whether n is a guest or host pid of a live entry other than `slot`. */
static bool pid_taken(struct lx_tree *t, int slot, pid_t n)
{
	for (uint32_t i = 0; i < t->max; i++)
		if ((int)i != slot && atomic_load(&t->e[i].pid) > 0 &&
		    (atomic_load(&t->e[i].gpid) == n ||
		     atomic_load(&t->e[i].pid) == n))
			return true;
	return false;
}

pid_t lx_tree_fill(struct lx_tree *t, int slot, pid_t pid)
{
	atomic_store(&t->e[slot].execd, 0);
	t->e[slot].start = start_time(pid);
	/* The parent and the child both fill the entry: the first to come
	 * picks the guest pid, the other takes it. */
	pid_t g = pid;
	while (pid_taken(t, slot, g))
		g = g >= PID_GUEST_MAX ? 300 : g + 1;
	int32_t none = 0;
	atomic_compare_exchange_strong(&t->e[slot].gpid, &none, g);
	atomic_store(&t->e[slot].pid, pid);
	return atomic_load(&t->e[slot].gpid);
}

void lx_tree_set_gpid(struct lx_tree *t, int slot, pid_t gpid)
{
	atomic_store(&t->e[slot].gpid, gpid);
}

/* Async-signal-safe: atomic loads only. */
pid_t lx_tree_guest_pid(struct lx_tree *t, pid_t host)
{
	for (uint32_t i = 0; host > 0 && i < t->max; i++)
		if (atomic_load(&t->e[i].pid) == host) {
			pid_t g = atomic_load(&t->e[i].gpid);
			return g > 0 ? g : host;
		}
	return host;
}

pid_t lx_tree_host_pid(struct lx_tree *t, pid_t guest)
{
	bool hidden = false;
	for (uint32_t i = 0; guest > 0 && i < t->max; i++) {
		pid_t h = atomic_load(&t->e[i].pid);
		pid_t g = atomic_load(&t->e[i].gpid);
		if (h > 0 && g == guest)
			return h;
		hidden |= h == guest && g > 0;
	}
	/* A member's host pid that is not its guest pid names nothing. */
	return hidden ? -1 : guest;
}

void lx_tree_release(struct lx_tree *t, int slot)
{
	if (slot >= 0 && (uint32_t)slot < t->max)
		atomic_store(&t->e[slot].pid, 0);
}

/* True if pid is a live member: in the table with its start time. */
bool lx_tree_has(struct lx_tree *t, pid_t pid)
{
	if (pid <= 0)
		return false;
	for (uint32_t i = 0; i < t->max; i++)
		if (atomic_load(&t->e[i].pid) == pid)
			return t->e[i].start == start_time(pid);
	return false;
}

int lx_tree_count(struct lx_tree *t)
{
	int n = 0;
	for (uint32_t i = 0; i < t->max; i++)
		n += atomic_load(&t->e[i].pid) != 0;
	return n;
}

int lx_tree_signal_group(struct lx_tree *t, pid_t pgrp, int sig)
{
	int sent = 0, err = -ESRCH;
	for (uint32_t i = 0; i < t->max; i++) {
		pid_t pid = atomic_load(&t->e[i].pid);
		if (pid <= 0 || (pgrp && getpgid(pid) != pgrp) ||
		    t->e[i].start != start_time(pid))
			continue;
		if (kill(pid, sig) == 0)
			sent++;
		else
			err = -errno;
	}
	return sent ? 0 : err;
}

static int kill_all(struct lx_tree *t)
{
	pid_t self = getpid();
	int n = 0;
	for (uint32_t i = 0; i < t->max; i++) {
		pid_t pid = atomic_load(&t->e[i].pid);
		if (pid > 0 && pid != self && t->e[i].start == start_time(pid))
			n += kill(pid, SIGKILL) == 0;
	}
	return n;
}

/* True while a fork is under way: a slot reserved, its pid not in yet. */
static bool forking(struct lx_tree *t)
{
	for (uint32_t i = 0; i < t->max; i++)
		if (atomic_load(&t->e[i].pid) == -1)
			return true;
	return false;
}

/* A process forked just before its parent was killed enters the table
 * only after the first sweep (a SIGKILL aborts a fork in progress, so no
 * new one starts): sweep once more after any kill, and again while a
 * fork is under way, for a while (a parent killed between reserving a
 * slot and forking leaves it reserved). */
void lx_tree_kill_all(struct lx_tree *t)
{
	bool again = kill_all(t) > 0;
	for (int i = 0; i < 50 && (again || forking(t)); i++) {
		nanosleep(&(struct timespec){0, 2000000}, NULL);
		kill_all(t);
		again = false;
	}
}

_Atomic uint32_t *lx_tree_hold_word(struct lx_tree *t)
{
	return &t->hold;
}

struct lx_tree_req *lx_tree_req(struct lx_tree *t)
{
	return &t->req;
}

int lx_tree_sock(const struct lx_tree *t, int end)
{
	return t->sock[end & 1];
}

uint32_t lx_tree_max(const struct lx_tree *t)
{
	return t->max;
}

pid_t lx_tree_slot_pid(struct lx_tree *t, int slot, pid_t *gpid)
{
	if (slot < 0 || (uint32_t)slot >= t->max)
		return 0;
	pid_t pid = atomic_load(&t->e[slot].pid);
	if (gpid)
		*gpid = atomic_load(&t->e[slot].gpid);
	if (pid > 0 && t->e[slot].start != start_time(pid))
		return 0;
	return pid < 0 ? -1 : pid;
}

struct lx_tree_part *lx_tree_part(struct lx_tree *t, int slot)
{
	return slot >= 0 && (uint32_t)slot < t->max ? &t->e[slot].part : NULL;
}

uint64_t lx_tree_cookie(const struct lx_tree *t)
{
	return t->cookie;
}

pid_t lx_tree_root(const struct lx_tree *t)
{
	return t->root;
}

int lx_tree_pids(struct lx_tree *t, pid_t *out, pid_t *proc_out, int max)
{
	int n = 0;
	for (uint32_t i = 0; i < t->max && n < max; i++) {
		pid_t pid = atomic_load(&t->e[i].pid);
		if (pid <= 0 || t->e[i].start != start_time(pid))
			continue;
		pid_t pp = atomic_load(&t->e[i].proc_pid);
		if (proc_out)
			proc_out[n] = pp > 0 ? pp : pid;
		out[n++] = pid;
	}
	return n;
}

void lx_tree_kick_others(struct lx_tree *t)
{
	pid_t self = getpid();
	for (uint32_t i = 0; i < t->max; i++) {
		pid_t pid = atomic_load(&t->e[i].pid);
		if (pid > 0 && pid != self && t->e[i].start == start_time(pid))
			sigqueue(pid, LX_SIG_KICK,
				 (union sigval){
					 .sival_ptr =
						 (void *)(uintptr_t)t->cookie});
	}
}
