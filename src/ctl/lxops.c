/* mote run's side of the control socket (docs/control.md): the requests
 * on a run of the Linux personality (struct lx_proc), served by holding,
 * releasing or ending the run through the same calls the monitor uses
 * itself. It reads the run's bookkeeping (stats, threads, the tree's
 * pids) and never touches guest memory but through a snapshot. */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "ctl/internal.h"
#include "lx/lx.h"
#include "snap/snap.h"
#include "util.h"
#include "vm/exit.h"

#define HOLD_MS 2000

/* ---- what is reported ---- */

static void add_pids(cJSON *j, struct lx_proc *p)
{
	pid_t pids[1024], procs[1024];
	int n = lx_tree_pids(p->task.tree, pids, procs, (int)ARRAY_SIZE(pids));
	cJSON *a = cJSON_AddArrayToObject(j, "pids");
	cJSON *b = cJSON_AddArrayToObject(j, "proc_pids");
	for (int i = 0; i < n; i++) {
		cJSON_AddItemToArray(a, cJSON_CreateNumber(pids[i]));
		cJSON_AddItemToArray(b, cJSON_CreateNumber(procs[i]));
	}
}

static int running_threads(struct lx_proc *p)
{
	pthread_mutex_lock(&p->lock);
	int n = p->nrunning;
	pthread_mutex_unlock(&p->lock);
	return n;
}

static void sample_rate(struct ctl_run *c, void *vm)
{
	struct lx_proc *p = vm;
	ctl_rate_sample(&c->rate,
			__atomic_load_n(&p->stats.exits, __ATOMIC_RELAXED));
}

static void do_info(struct ctl_conn *cn, void *vm, const struct ctl_req *req)
{
	struct lx_proc *p = vm;
	cJSON *j = ctl_ok();
	cJSON_AddStringToObject(j, "id", ctl_conn_id(cn));
	cJSON_AddNumberToObject(j, "pid", ctl_conn_pid(cn));
	cJSON_AddStringToObject(j, "program", p->task.exe);
	cJSON_AddStringToObject(j, "state", lx_held(p) ? "paused" : "running");
	cJSON_AddNumberToObject(j, "uptime_s", ctl_conn_uptime(cn));
	cJSON_AddNumberToObject(j, "vcpus", running_threads(p));
	cJSON_AddNumberToObject(j, "exits", (double)p->stats.exits);
	cJSON_AddNumberToObject(j, "exits_per_s", p->ctl->rate.per_s);
	add_pids(j, p);
	ctl_reply(cn, j);
}

static void add_vcpus(cJSON *j, struct lx_proc *p)
{
	cJSON *a = cJSON_AddArrayToObject(j, "vcpus");
	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < SYS_MAX_VCPUS; i++) {
		struct lx_thread *t = p->threads[i];
		if (!t || !t->running)
			continue;
		cJSON *v = cJSON_CreateObject();
		cJSON_AddNumberToObject(v, "id", i);
		cJSON_AddNumberToObject(v, "tid", t->tid);
		cJSON_AddNumberToObject(v, "cpu_ns",
					(double)thread_cpu_ns(t->host_tid));
		cJSON_AddItemToArray(a, v);
	}
	pthread_mutex_unlock(&p->lock);
}

static void add_syscalls(cJSON *j, const struct lx_stats *s)
{
	cJSON *a = cJSON_AddArrayToObject(j, "syscalls");
	for (int nr = 0; nr < LX_NSYSCALLS; nr++) {
		if (!s->calls[nr])
			continue;
		const char *name = lx_sys_name((uint64_t)nr);
		cJSON *v = cJSON_CreateObject();
		cJSON_AddNumberToObject(v, "nr", nr);
		cJSON_AddStringToObject(v, "name", name ? name : "?");
		cJSON_AddNumberToObject(v, "count", (double)s->calls[nr]);
		cJSON_AddNumberToObject(v, "ns", (double)s->ns[nr]);
		cJSON_AddNumberToObject(v, "enosys", (double)s->enosys[nr]);
		cJSON_AddItemToArray(a, v);
	}
}

static void do_stats(struct ctl_conn *cn, void *vm, const struct ctl_req *req)
{
	struct lx_proc *p = vm;
	const struct lx_stats *s = &p->stats;
	cJSON *j = ctl_ok();
	cJSON_AddStringToObject(j, "id", ctl_conn_id(cn));
	cJSON_AddNumberToObject(j, "pid", ctl_conn_pid(cn));
	cJSON_AddStringToObject(j, "state", lx_held(p) ? "paused" : "running");
	cJSON_AddNumberToObject(j, "uptime_s", ctl_conn_uptime(cn));
	cJSON_AddNumberToObject(j, "exits", (double)s->exits);
	cJSON *r = cJSON_AddObjectToObject(j, "exit_reasons");
	for (int e = 0; e < VMX_NR; e++)
		cJSON_AddNumberToObject(r, vm_exit_name((enum vm_exit)e),
					(double)s->exit_class[e]);
	add_syscalls(j, s);
	cJSON_AddNumberToObject(j, "page_faults", (double)s->faults);
	add_vcpus(j, p);
	add_pids(j, p);
	ctl_reply(cn, j);
}

/* ---- what is done ---- */

static void do_pause(struct ctl_conn *cn, void *vm, const struct ctl_req *req)
{
	struct lx_proc *p = vm;
	cJSON *j = ctl_ok();
	if (lx_held(p)) {
		cJSON_AddTrueToObject(j, "already");
	} else {
		int r = lx_hold(p, NULL, HOLD_MS);
		/* A thread still in a host call parks as soon as it is out. */
		cJSON_AddBoolToObject(j, "complete", r == 0);
	}
	ctl_reply(cn, j);
}

static void do_resume(struct ctl_conn *cn, void *vm, const struct ctl_req *req)
{
	struct lx_proc *p = vm;
	cJSON *j = ctl_ok();
	if (!lx_held(p))
		cJSON_AddTrueToObject(j, "already");
	else
		lx_release(p);
	ctl_reply(cn, j);
}

/* sig for the guest's first process, as if sent from outside the VM
 * (si_pid 0); its threads are kicked to take it. */
static void guest_signal(struct lx_proc *p, int sig)
{
	siginfo_t si = {.si_signo = sig, .si_code = SI_USER};
	lx_signal_raise(p, sig, &si);
	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < SYS_MAX_VCPUS; i++) {
		struct lx_thread *t = p->threads[i];
		if (t && t->running)
			lx_kick(t);
	}
	pthread_mutex_unlock(&p->lock);
}

/* Ends the whole tree now; the first monitor then removes the dir. */
static void kill_run(struct lx_proc *p, const char *why)
{
	lx_kill(p, SIGKILL, why);
	lx_tree_kill_all(p->task.tree);
	lx_release(p);
}

static void do_stop(struct ctl_conn *cn, void *vm, const struct ctl_req *req)
{
	struct lx_proc *p = vm;
	if (req->force) {
		kill_run(p, " (mote stop)");
	} else {
		/* A paused guest could not act on it. */
		lx_release(p);
		guest_signal(p, SIGTERM);
	}
	ctl_reply(cn, ctl_ok());
}

/* Any signal for the guest's first process; SIGKILL ends the whole tree
 * as a forced stop does (the guest could not catch it either). A paused
 * guest keeps its hold: the signal waits, as it would for a stopped
 * process. */
static void do_signal(struct ctl_conn *cn, void *vm, const struct ctl_req *req)
{
	struct lx_proc *p = vm;
	int sig = req->sig;
	if (sig == SIGKILL)
		kill_run(p, " (signal 9)");
	else
		guest_signal(p, sig);
	ctl_reply(cn, ctl_ok());
}

static void do_snapshot(struct ctl_conn *cn, void *vm,
			const struct ctl_req *req)
{
	struct lx_proc *p = vm;
	bool stop = req->stop, stream = req->stream, lazy = req->lazy;
	char err[256] = "";
	if (ctl_conn_fd(cn) < 0) {
		ctl_reply_error(cn,
				"no file came with the request (pass its fd "
				"with SCM_RIGHTS)");
		return;
	}
	bool was_held = lx_held(p);
	uint64_t t0 = mono_ns();
	if (!was_held && lx_hold(p, NULL, HOLD_MS) < 0) {
		lx_release(p);
		ctl_reply_error(cn,
				"a vCPU did not stop within %d ms (it is in a "
				"long host call); try again",
				HOLD_MS);
		return;
	}
	struct snap_sent sent = {0};
	if (lazy && (!stream || stop)) {
		if (!was_held)
			lx_release(p);
		ctl_reply_error(cn, "\"lazy\" is for a stream snapshot of a VM "
				    "that goes on (post-copy)");
		return;
	}
	int r = stream ? snap_save_stream(p, ctl_conn_fd(cn), lazy, &sent, err,
					  sizeof(err))
		       : snap_save(p, ctl_conn_fd(cn), NULL, 0, err,
				   sizeof(err));
	struct stat st;
	/* What it takes on disk: the file is sparse. */
	double bytes = stream ? (double)sent.pages * PAGE_SIZE
		       : fstat(ctl_conn_fd(cn), &st) == 0
			       ? (double)st.st_blocks * 512
			       : 0;
	double ms = (mono_ns() - t0) / 1e6;
	if (r == 0 && stop)
		kill_run(p, " (mote snapshot --stop)");
	else if (!was_held)
		lx_release(p);
	cJSON *j = ctl_snapshot_reply(cn, r, err, bytes, ms);
	if (!j)
		return;
	if (stream)
		cJSON_AddNumberToObject(j, "zero_pages", (double)sent.zeros);
	if (lazy)
		cJSON_AddNumberToObject(j, "lazy_pages", (double)sent.lazy);
	ctl_reply(cn, j);
}

/* Post-copy's source side: once the receiver runs the VM, the pages a
 * lazy snapshot left out go into the socket that came with the request,
 * those the receiver asks for first. Only while the VM is paused here:
 * its memory is the receiver's now, and must not change. */
static void do_postcopy(struct ctl_conn *cn, void *vm,
			const struct ctl_req *req)
{
	struct lx_proc *p = vm;
	if (ctl_conn_fd(cn) < 0) {
		ctl_reply_error(cn,
				"no socket came with the request (pass its fd "
				"with SCM_RIGHTS)");
		return;
	}
	if (!lx_held(p)) {
		ctl_reply_error(cn, "the VM is not paused: post-copy follows a "
				    "lazy snapshot of a paused VM");
		return;
	}
	char err[256] = "";
	struct snap_sent sent = {0};
	uint64_t t0 = mono_ns();
	int r = snap_postcopy(p, ctl_conn_fd(cn), &sent, err, sizeof(err));
	double ms = (mono_ns() - t0) / 1e6;
	if (r < 0) {
		ctl_reply_error(cn, "post-copy failed: %s", err);
		return;
	}
	cJSON *j = ctl_ok();
	cJSON_AddNumberToObject(j, "pages", (double)sent.pages);
	cJSON_AddNumberToObject(j, "asked_pages", (double)sent.asked);
	cJSON_AddNumberToObject(j, "ms", ms);
	ctl_reply(cn, j);
}

/* A round of mote migrate's pre-copy, into the pipe that came with it,
 * while the VM runs; or, with end, the tracking stopped (the migration
 * was given up). The round's pages and time are the client's measure of
 * the link and of the guest's rate of writes. */
static void do_precopy(struct ctl_conn *cn, void *vm, const struct ctl_req *req)
{
	struct lx_proc *p = vm;
	if (req->end) {
		snap_round_end(p);
		snap_lazy_drop();
		ctl_reply(cn, ctl_ok());
		return;
	}
	if (ctl_conn_fd(cn) < 0) {
		ctl_reply_error(cn,
				"no pipe came with the request (pass its fd "
				"with SCM_RIGHTS)");
		return;
	}
	if (lx_tree_count(p->task.tree) > 1) {
		ctl_reply_error(cn,
				"the VM has %d processes; a migration moves a "
				"VM of one process",
				lx_tree_count(p->task.tree));
		return;
	}
	char err[256] = "";
	struct snap_sent sent = {0};
	uint64_t t0 = mono_ns();
	int r = snap_round(p, ctl_conn_fd(cn), &sent, err, sizeof(err));
	double ms = (mono_ns() - t0) / 1e6;
	if (r < 0) {
		snap_round_end(p);
		ctl_reply_error(cn, "pre-copy failed: %s", err);
		return;
	}
	cJSON *j = ctl_ok();
	cJSON_AddNumberToObject(j, "pages", (double)sent.pages);
	cJSON_AddNumberToObject(j, "zero_pages", (double)sent.zeros);
	cJSON_AddNumberToObject(j, "ms", ms);
	ctl_reply(cn, j);
}

/* mote migrate's last word: the paused VM's snapshot runs on another host
 * now, so this one ends, with status 0 and one line saying where it went.
 * Only a paused VM: one that ran on since its snapshot must not end. */
static void do_migrated(struct ctl_conn *cn, void *vm,
			const struct ctl_req *req)
{
	struct lx_proc *p = vm;
	const char *to = req->to;
	bool lost = req->lost;
	if (!lx_held(p)) {
		ctl_reply_error(cn, "the VM is not paused: it may have run on "
				    "since its snapshot, so it stays");
		return;
	}
	/* Lost: the receiver ran it, so it cannot run here again, but it
	 * did not get all of its memory (mote migrate said why). */
	if (lost)
		msg("post-copy to %s failed after the VM ran there: the VM is "
		    "lost",
		    to);
	else
		msg("migrated to %s", to);
	snap_lazy_drop();
	lx_proc_exit(p, lost ? MOTE_EXIT_FAIL : 0);
	lx_tree_kill_all(p->task.tree);
	lx_release(p);
	ctl_reply(cn, ctl_ok());
}

static bool ending(void *vm)
{
	return ((struct lx_proc *)vm)->task.exited;
}

const struct ctl_ops ctl_lx_ops = {
	.cmd =
		{
			[CTL_INFO] = do_info,
			[CTL_PAUSE] = do_pause,
			[CTL_RESUME] = do_resume,
			[CTL_STOP] = do_stop,
			[CTL_STATS] = do_stats,
			[CTL_SNAPSHOT] = do_snapshot,
			[CTL_SIGNAL] = do_signal,
			[CTL_MIGRATED] = do_migrated,
			[CTL_PRECOPY] = do_precopy,
			[CTL_POSTCOPY] = do_postcopy,
		},
	.unsupported = "not supported for this run",
	.ending = ending,
	.tick = sample_rate,
};
