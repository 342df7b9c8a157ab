/* mote restore (run.h): the snapshot read and checked (snap/), then one
 * VM, or with -n COUNT one monitor per clone, each built from it (snap/)
 * and run as any run is (run_proc). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "lx/lx.h"
#include "run/run.h"
#include "snap/postcopy.h"
#include "snap/snap.h"
#include "snap/state.h"
#include "util.h"
#include "vm/layout.h"

/* Builds and runs one VM; never returns to a caller that has more to do
 * with it. */
static int restore_one(const char *path, struct snap_state *st, int snap,
		       int shared_sys, struct lx_opts *o, struct postcopy *pc)
{
	if (lx_limit_cpus(o) < 0)
		return MOTE_EXIT_FAIL;
	struct lx_proc *p = lx_proc_new(o);
	int status = snap_build(p, path, st, snap, shared_sys);
	char err[256];
	if (!status && pc && postcopy_start(pc, &p->vm, err, sizeof(err))) {
		msg("receive: %s; the VM cannot run", err);
		status = MOTE_EXIT_FAIL;
	}
	if (status) {
		run_abort(p);
		return status;
	}
	for (int i = 0; i < SYS_MAX_VCPUS; i++)
		if (p->threads[i] && p->threads[i]->owner)
			return run_proc(p, p->threads[i], o->name);
	run_abort(p);
	return MOTE_EXIT_FAIL;
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
