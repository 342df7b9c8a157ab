/* The personality's subsystems in the order their hooks run (subsys.h):
 *
 *   task     who the process is; in a fork's child, its new identity
 *            first, since the layers above key on it
 *   vfs      the cwd and umask
 *   sig      dispositions and pending signals
 *   fd       the fd table: files reopened by path, stdio
 *   mm       the VMAs and the heap; the pages are the caller's
 *   thread   the threads and their vCPUs, last: a restored vCPU is made
 *            once everything it may touch is in place, and in a fork's
 *            child the other threads' state goes only after every other
 *            hook has run
 */
#include "lx/subsys.h"

#include "lx/lx.h"
#include "util.h"

static const struct lx_subsys *const subsystems[] = {
	&lx_task_subsys, &lx_vfs_subsys, &lx_sig_subsys,
	&lx_fd_subsys,	 &lx_mm_subsys,	 &lx_thread_subsys,
};
#define NSUBSYS (sizeof(subsystems) / sizeof(subsystems[0]))

int lx_state_save(struct lx_proc *p, const struct lx_save *s, struct wbuf *w)
{
	for (size_t i = 0; i < NSUBSYS; i++) {
		size_t mark = w_rec_begin(w, subsystems[i]->tag);
		if (subsystems[i]->save(p, s, w) < 0)
			return -1;
		w_rec_end(w, mark);
	}
	return 0;
}

int lx_state_bad(const char *what)
{
	msg("restore: the snapshot's %s is corrupt (a damaged or crafted "
	    "snapshot; take it again)",
	    what);
	return -1;
}

int lx_state_restore(struct lx_proc *p, struct rbuf *r)
{
	for (size_t i = 0; i < NSUBSYS; i++) {
		const struct lx_subsys *s = subsystems[i];
		struct rbuf body;
		if (!r_rec(r, s->tag, &body)) {
			msg("restore: the snapshot has no %s record where "
			    "it should (a damaged or crafted snapshot)",
			    s->name);
			return -1;
		}
		if (s->restore(p, &body) < 0)
			return -1;
		if (!r_done(&body))
			return lx_state_bad(s->name);
	}
	return 0;
}

int lx_state_fork(struct lx_proc *p, const struct lx_fork *f)
{
	for (size_t i = 0; i < NSUBSYS; i++)
		if (subsystems[i]->fork && subsystems[i]->fork(p, f) < 0)
			return -1;
	return 0;
}
