/* mote restore (run.h): the snapshot read and checked (snap/), then one
 * VM, or with -n COUNT one monitor per clone, each built from it (snap/)
 * and run as any run is (run_proc).
 *
 * A snapshot of a process tree (snap/tree.c) comes back as a tree: every
 * part is read and checked first; the pipes of all of them are made anew,
 * with their bytes; then each process's monitor is forked from its
 * parent's (so that the parent's wait4 finds it), with its snapshot's
 * pid, group and session, builds its VM and waits. Only once every one
 * stands does any guest instruction run: a part that fails ends the whole
 * restore with status 125. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "lx/lx.h"
#include "run/run.h"
#include "sandbox.h"
#include "snap/postcopy.h"
#include "snap/snap.h"
#include "snap/state.h"
#include "util.h"
#include "vm/layout.h"

/* ---- pipes ---- */

struct pipes {
	struct lx_pipe_end *end;
	uint32_t n;
};

static void pipes_close(struct pipes *pp)
{
	lx_fd_pipes_use(NULL, 0);
	for (uint32_t i = 0; i < pp->n; i++) {
		close(pp->end[i].fd[0]);
		close(pp->end[i].fd[1]);
	}
	free(pp->end);
	pp->end = NULL;
	pp->n = 0;
}

/* The queued bytes of entry sp into its new pipe or socket pair e. */
static int put_back(const struct lx_pipe_end *e, const struct snap_pipe *sp)
{
	const uint8_t *d = sp->data;
	/* A pipe's bytes wait at its read end: written at the other. A
	 * socket pair's at end `end`: sent from the other end. */
	int to = e->fd[sp->sock ? 1 - sp->end : 1];
	int fl = fcntl(to, F_GETFL);
	fcntl(to, F_SETFL, fl | O_NONBLOCK);
	int err = 0;
	for (uint32_t m = 0; m < sp->nmsg && !err; m++) {
		ssize_t w = sp->sock ? send(to, d, sp->lens[m], MSG_NOSIGNAL)
				     : write(to, d, sp->lens[m]);
		if (w != (ssize_t)sp->lens[m]) {
			msg("restore: cannot put %u bytes back into a %s: %s",
			    sp->lens[m], sp->sock ? "socket pair" : "pipe",
			    w < 0 ? strerror(errno) : "no room");
			err = -1;
		}
		d += sp->lens[m];
	}
	fcntl(to, F_SETFL, fl);
	return err;
}

/* One new pipe or socket pair per one any of the processes held, with
 * the bytes queued in it. */
static int pipes_make(struct snap_state **sts, uint32_t nst, struct pipes *pp)
{
	for (uint32_t s = 0; s < nst; s++) {
		for (uint32_t i = 0; i < sts[s]->npipes; i++) {
			const struct snap_pipe *sp = &sts[s]->pipes[i];
			struct lx_pipe_end *e = NULL;
			for (uint32_t j = 0; j < pp->n && !e; j++)
				if (pp->end[j].ino == sp->ino &&
				    pp->end[j].sock == sp->sock)
					e = &pp->end[j];
			int fds[2];
			if (!e) {
				struct lx_pipe_end *ne = realloc(
					pp->end, (pp->n + 1) * sizeof(*ne));
				if (ne)
					pp->end = ne;
				if (!ne ||
				    (sp->sock ? socketpair(AF_UNIX,
							   (int)sp->type |
								   SOCK_CLOEXEC,
							   0, fds)
					      : pipe2(fds, O_CLOEXEC)) < 0) {
					msg("restore: cannot make a %s: %s",
					    sp->sock ? "socket pair" : "pipe",
					    strerror(errno));
					return -1;
				}
				e = &pp->end[pp->n++];
				*e = (struct lx_pipe_end){
					sp->ino,
					sp->sock,
					{fd_high(fds[0]), fd_high(fds[1])}};
				if (!sp->sock && sp->cap > 65536)
					fcntl(e->fd[1], F_SETPIPE_SZ, sp->cap);
			}
			/* The bytes come once, from a process that could
			 * read them (every such process saw the same). */
			if (!sp->has_data)
				continue;
			for (uint32_t k = s; k < nst; k++)
				for (uint32_t m = 0; m < sts[k]->npipes; m++) {
					struct snap_pipe *o = &sts[k]->pipes[m];
					if (o->ino == sp->ino &&
					    o->sock == sp->sock &&
					    o->end == sp->end && o != sp)
						o->has_data = 0;
				}
			if (put_back(e, sp) < 0)
				return -1;
		}
	}
	lx_fd_pipes_use(pp->end, pp->n);
	return 0;
}

/* ---- shared anonymous memory ---- */

/* One memfd per shared memory object of the snapshot, filled from the
 * image of the first process that maps it, and mapped shared over their
 * ranges by every process that does: memory the processes shared comes
 * back shared (and stays so for the children a restored process forks). */
struct shms {
	struct shm_obj {
		uint64_t ino;
		uint32_t from; /* the process whose image fills it */
		int fd;
	} * obj;
	uint32_t n;
};

static void shms_close(struct shms *sh)
{
	for (uint32_t i = 0; i < sh->n; i++)
		close(sh->obj[i].fd);
	free(sh->obj);
	sh->obj = NULL;
	sh->n = 0;
}

static struct shm_obj *shm_find(struct shms *sh, uint64_t ino)
{
	for (uint32_t i = 0; i < sh->n; i++)
		if (sh->obj[i].ino == ino)
			return &sh->obj[i];
	return NULL;
}

/* Bytes [at, at + len) of the snapshot into the memfd at off, but for the
 * zero pages (holes, which the memfd reads as zeros anyway). */
static int shm_fill(int snap, uint64_t at, int fd, uint64_t off, uint64_t len)
{
	static uint8_t buf[1 << 20];
	static const uint8_t zero[PAGE_SIZE];
	for (uint64_t done = 0; done < len;) {
		size_t n = (size_t)MIN(len - done, sizeof(buf));
		if (pread(snap, buf, n, (off_t)(at + done)) != (ssize_t)n)
			return -1;
		for (size_t pg = 0; pg < n; pg += PAGE_SIZE)
			if (memcmp(buf + pg, zero, PAGE_SIZE) &&
			    pwrite(fd, buf + pg, PAGE_SIZE,
				   (off_t)(off + done + pg)) != PAGE_SIZE)
				return -1;
		done += n;
	}
	return 0;
}

static int shms_make(struct snap_state **sts, uint32_t nst, int snap,
		     struct shms *sh)
{
	for (uint32_t s = 0; s < nst; s++) {
		for (uint32_t i = 0; i < sts[s]->nshm; i++) {
			const struct snap_shm *e = &sts[s]->shm[i];
			struct shm_obj *o = shm_find(sh, e->ino);
			if (!o) {
				struct shm_obj *no = realloc(
					sh->obj, (sh->n + 1) * sizeof(*no));
				int fd = no ? memfd_create("mote-shm",
							   MFD_CLOEXEC)
					    : -1;
				if (no)
					sh->obj = no;
				if (fd < 0) {
					msg("restore: cannot make shared "
					    "memory: %s",
					    strerror(errno));
					return -1;
				}
				o = &sh->obj[sh->n++];
				*o = (struct shm_obj){e->ino, s, fd_high(fd)};
			}
			if (o->from != s)
				continue;
			uint64_t len = e->end - e->start;
			struct stat sb;
			if (fstat(o->fd, &sb) < 0 ||
			    ((uint64_t)sb.st_size < e->off + len &&
			     ftruncate(o->fd, (off_t)(e->off + len)) < 0) ||
			    shm_fill(snap, sts[s]->h.mem_off + e->start, o->fd,
				     e->off, len) < 0) {
				msg("restore: cannot fill shared memory: %s",
				    strerror(errno));
				return -1;
			}
		}
	}
	return 0;
}

/* p's shared ranges, mapped from their objects over its image. */
static int shms_map(struct lx_proc *p, const struct snap_state *st,
		    struct shms *sh)
{
	for (uint32_t i = 0; i < st->nshm; i++) {
		const struct snap_shm *e = &st->shm[i];
		struct shm_obj *o = shm_find(sh, e->ino);
		uint64_t len = e->end - e->start;
		uint8_t *h = gm_range(&p->vm, e->start, len);
		if (!o || !h ||
		    mmap(h, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			 o->fd, (off_t)e->off) == MAP_FAILED) {
			msg("restore: cannot map shared memory at %#llx: %s",
			    (unsigned long long)e->start,
			    o && h ? strerror(errno) : "not in the snapshot");
			return -1;
		}
	}
	return 0;
}

/* ---- trees ---- */

struct tree_restore {
	const char *path;
	int snap;
	struct lx_opts *o;
	struct snap_state *st; /* [0] the first process's, as given */
	struct snap_state *parts;
	uint32_t n;
	struct lx_tree *tree;
	struct pipes pipes;
	struct shms shms;
	int ready[2], go[2];
};

/* In a process's monitor, before its VM exists: its group and session
 * as the snapshot has them, where they are the process's own. */
static void own_ids(const struct snap_proc *q)
{
	if (q->sid == q->pid)
		setsid();
	else if (q->pgid == q->pid)
		setpgid(0, 0);
}

static noreturn void child_main(struct tree_restore *tr, uint32_t k);

static bool in_snapshot(const struct tree_restore *tr, pid_t pid)
{
	for (uint32_t i = 0; i < tr->n; i++)
		if (tr->st->procs[i].pid == pid)
			return true;
	return false;
}

/* Forks the monitors of process k's children (and theirs, in them), the
 * leaders of their own groups first. The first process also forks those
 * whose parent is not in the snapshot. */
static int spawn_children(struct tree_restore *tr, uint32_t k)
{
	const struct snap_proc *me = &tr->st->procs[k];
	for (uint32_t jj = 0; jj < 2 * (tr->n - 1); jj++) {
		uint32_t j = 1 + jj % (tr->n - 1);
		const struct snap_proc *q = &tr->st->procs[j];
		if ((q->pgid == q->pid) != (jj < tr->n - 1))
			continue;
		if (q->ppid != me->pid && (k != 0 || in_snapshot(tr, q->ppid)))
			continue;
		int slot = lx_tree_reserve(tr->tree);
		if (slot < 0) {
			msg("restore: more processes than --pids allows");
			return -1;
		}
		lx_tree_set_gpid(tr->tree, slot, q->pid);
		fflush(stdout);
		fflush(stderr);
		pid_t pid = fork();
		if (pid < 0) {
			lx_tree_release(tr->tree, slot);
			msg("restore: cannot fork process %d: %s", q->pid,
			    strerror(errno));
			return -1;
		}
		if (pid == 0) {
			lx_tree_fill(tr->tree, slot, getpid());
			lx_tree_set_proc_pid(tr->tree, slot);
			tr->o->name = NULL;
			child_main(tr, j);
		}
		lx_tree_fill(tr->tree, slot, pid);
		/* A group the child joins, led by another process of the
		 * snapshot; or the one the first process is in now, for the
		 * group the tree was started in (never another of the
		 * host's). */
		if (q->pgid != q->pid) {
			pid_t lead =
				in_snapshot(tr, q->pgid)
					? lx_tree_host_pid(tr->tree, q->pgid)
					: getpgid(lx_tree_root(tr->tree));
			if (lead > 0)
				setpgid(pid, lead);
		}
	}
	return 0;
}

static noreturn void child_main(struct tree_restore *tr, uint32_t k)
{
	const struct snap_proc *q = &tr->st->procs[k];
	close(tr->ready[0]);
	close(tr->go[1]);
	own_ids(q);
	struct lx_proc *p = lx_proc_new_in(tr->o, tr->tree);
	int slot = -1;
	for (uint32_t i = 0; i < lx_tree_max(tr->tree) && slot < 0; i++)
		if (lx_tree_slot_pid(tr->tree, (int)i, NULL) == getpid())
			slot = (int)i;
	p->task.tree_slot = slot;
	p->task.forked = true;
	p->task.guest_ppid = q->ppid;
	p->task.host_ppid = getppid();
	if (spawn_children(tr, k) < 0)
		_exit(MOTE_EXIT_FAIL);
	struct snap_state *st = &tr->parts[k];
	int status = snap_build(p, tr->path, st, tr->snap, -1);
	if (!status && shms_map(p, st, &tr->shms) < 0)
		status = MOTE_EXIT_FAIL;
	shms_close(&tr->shms);
	if (!status && p->task.pid != q->pid) {
		msg("%s: the part of process %d holds process %d (a damaged "
		    "or crafted snapshot)",
		    tr->path, q->pid, p->task.pid);
		status = MOTE_EXIT_FAIL;
	}
	pipes_close(&tr->pipes);
	if (status)
		_exit(status);
	/* Built: say so, and wait until every process is. */
	char c = 1, g;
	if (write(tr->ready[1], &c, 1) != 1)
		_exit(MOTE_EXIT_FAIL);
	close(tr->ready[1]);
	while (read(tr->go[0], &g, 1) < 0 && errno == EINTR)
		;
	close(tr->go[0]);
	for (int i = 0; i < SYS_MAX_VCPUS; i++)
		if (p->threads[i] && p->threads[i]->owner)
			run_proc_forked(p, p->threads[i]);
	_exit(MOTE_EXIT_FAIL);
}

/* Waits for every other process of the tree to stand: 0, or -1. */
static int wait_ready(struct tree_restore *tr)
{
	uint32_t got = 0;
	char buf[64];
	while (got + 1 < tr->n) {
		struct pollfd pfd = {tr->ready[0], POLLIN, 0};
		struct timespec ts = {120, 0};
		int pr = ppoll(&pfd, 1, &ts, NULL);
		if (pr < 0 && errno == EINTR)
			continue;
		ssize_t r = pr == 1 ? read(tr->ready[0], buf, sizeof(buf)) : 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (uint32_t)r;
	}
	if (got + 1 == tr->n)
		return 0;
	msg("restore: %u of the tree's %u other processes could be restored",
	    got, tr->n - 1);
	return -1;
}

static int run_first(struct lx_proc *p, const char *name)
{
	for (int i = 0; i < SYS_MAX_VCPUS; i++)
		if (p->threads[i] && p->threads[i]->owner)
			return run_proc(p, p->threads[i], name);
	run_abort(p);
	return MOTE_EXIT_FAIL;
}

/* A tree: every other part read and checked, the pipes made, every
 * monitor forked and built; then all of them run. */
static int restore_tree(const char *path, struct snap_state *st, int snap,
			int shared_sys, struct lx_opts *o)
{
	struct tree_restore tr = {.path = path,
				  .snap = snap,
				  .o = o,
				  .st = st,
				  .n = st->nprocs,
				  .ready = {-1, -1},
				  .go = {-1, -1}};
	tr.parts = calloc(tr.n, sizeof(*tr.parts));
	struct snap_state **all = calloc(tr.n, sizeof(*all));
	int status = tr.parts && all ? 0 : MOTE_EXIT_FAIL;
	for (uint32_t i = 1; i < tr.n && !status; i++)
		if (snap_open_part(snap, path, st->procs[i].base,
				   &tr.parts[i]) < 0)
			status = MOTE_EXIT_FAIL;
	for (uint32_t i = 0; i < tr.n && !status; i++)
		all[i] = i ? &tr.parts[i] : st;
	if (!status &&
	    (pipes_make(all, tr.n, &tr.pipes) < 0 ||
	     shms_make(all, tr.n, snap, &tr.shms) < 0 ||
	     pipe2(tr.ready, O_CLOEXEC) < 0 || pipe2(tr.go, O_CLOEXEC) < 0))
		status = MOTE_EXIT_FAIL;
	free(all);
	struct lx_proc *p = NULL;
	if (!status) {
		p = lx_proc_new(o);
		tr.tree = p->task.tree;
		lx_tree_set_gpid(tr.tree, 0, st->procs[0].pid);
		own_ids(&st->procs[0]);
		int err = landlock_tree_scope(p);
		if (err)
			msg("sandbox: Landlock: %s (--no-sandbox runs without "
			    "it)",
			    strerror(-err));
		if (err || spawn_children(&tr, 0) < 0)
			status = MOTE_EXIT_FAIL;
		close(tr.ready[1]);
		tr.ready[1] = -1;
	}
	if (!status && wait_ready(&tr) < 0)
		status = MOTE_EXIT_FAIL;
	if (!status)
		status = snap_build(p, path, st, snap, shared_sys);
	if (!status && shms_map(p, st, &tr.shms) < 0)
		status = MOTE_EXIT_FAIL;
	pipes_close(&tr.pipes);
	shms_close(&tr.shms);
	for (uint32_t i = 1; tr.parts && i < tr.n; i++)
		snap_state_free(&tr.parts[i]);
	free(tr.parts);
	/* A failure ends every process before any runs (run_abort kills
	 * the tree); then the others may go. */
	if (status && p)
		run_abort(p);
	for (int i = 0; i < 2; i++) {
		if (tr.go[i] >= 0)
			close(tr.go[i]);
		if (tr.ready[i] >= 0)
			close(tr.ready[i]);
	}
	return status ? status : run_first(p, o->name);
}

/* Builds and runs one VM; never returns to a caller that has more to do
 * with it. */
static int restore_one(const char *path, struct snap_state *st, int snap,
		       int shared_sys, struct lx_opts *o, struct postcopy *pc)
{
	if (lx_limit_cpus(o) < 0)
		return MOTE_EXIT_FAIL;
	if (st->nprocs > 1 && pc) {
		msg("receive: the snapshot holds %u processes; a migration "
		    "moves one",
		    st->nprocs);
		return MOTE_EXIT_FAIL;
	}
	if (st->nprocs > 1)
		return restore_tree(path, st, snap, shared_sys, o);
	struct pipes pp = {0};
	struct shms sh = {0};
	struct lx_proc *p = lx_proc_new(o);
	int status =
		pipes_make(&st, 1, &pp) < 0 || shms_make(&st, 1, snap, &sh) < 0
			? MOTE_EXIT_FAIL
			: snap_build(p, path, st, snap, shared_sys);
	if (!status && shms_map(p, st, &sh) < 0)
		status = MOTE_EXIT_FAIL;
	pipes_close(&pp);
	shms_close(&sh);
	char err[256];
	if (!status && pc && postcopy_start(pc, &p->vm, err, sizeof(err))) {
		msg("receive: %s; the VM cannot run", err);
		status = MOTE_EXIT_FAIL;
	}
	if (status) {
		run_abort(p);
		return status;
	}
	return run_first(p, o->name);
}

/* -n COUNT: one monitor per clone, forked once the snapshot is read. */
static int restore_many(const char *path, struct snap_state *st, int snap,
			struct lx_opts *o, unsigned count)
{
	pid_t *pids = calloc(count, sizeof(pid_t));
	if (!pids)
		die(MOTE_EXIT_FAIL, "out of memory");
	/* The system region and its page tables, checked once here and
	 * shared by every clone until it writes a page of them. */
	int sys = vm_sys_share_make(st->h.user_size, snap, st->h.mem_off,
				    st->pt_pool);
	if (sys < 0) {
		if (errno == EINVAL)
			msg("%s: the snapshot's page tables map more than "
			    "guest user memory (a damaged or crafted snapshot)",
			    path);
		else
			msg("%s: cannot share its page tables among the "
			    "clones: %s",
			    path, strerror(errno));
		free(pids);
		return MOTE_EXIT_FAIL;
	}
	fflush(stdout);
	fflush(stderr);
	unsigned started = 0;
	pid_t parent = getpid();
	for (; started < count; started++) {
		pid_t pid = fork();
		if (pid == 0) {
			/* The clones are this command's: they end with it. */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(MOTE_EXIT_FAIL);
			char name[CTL_ID_MAX + 16];
			if (o->name) {
				snprintf(name, sizeof(name), "%s-%u", o->name,
					 started + 1);
				o->name = name;
			}
			_exit(restore_one(path, st, snap, sys, o, NULL));
		}
		if (pid < 0) {
			msg("restore: could start %u of %u clones: %s", started,
			    count, strerror(errno));
			break;
		}
		pids[started] = pid;
	}
	int status = started == count ? 0 : MOTE_EXIT_FAIL;
	for (unsigned i = 0; i < started; i++) {
		int ws;
		while (waitpid(pids[i], &ws, 0) < 0 && errno == EINTR)
			;
		int s = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
		if (s && !status)
			status = s;
	}
	free(pids);
	close(sys);
	return status;
}

int run_restore(const char *file, const char *name, unsigned count,
		struct lx_opts *o)
{
	return run_restore_lazy(file, name, count, o, NULL);
}

int run_restore_lazy(const char *file, const char *name, unsigned count,
		     struct lx_opts *o, struct postcopy *pc)
{
	o->name = name;
	struct snap_state st = {0};
	int fd = snap_open(file, &st);
	if (fd < 0)
		return -fd;
	snap_opts(o, &st);
	int status = count > 1 ? restore_many(file, &st, fd, o, count)
			       : restore_one(file, &st, fd, -1, o, pc);
	snap_state_free(&st);
	close(fd);
	return status;
}
