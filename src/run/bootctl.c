/* mote boot's side of the control socket: pause holds every vCPU out of
 * KVM_RUN (each is kicked with BOOT_KICK_SIGNAL and parks before its
 * next run), resume lets them go, a stop ends the guest through vCPU 0,
 * info and stats read the hold's counters, a snapshot holds the guest
 * and writes it through the hold's save hook (run/bootsnap.c). The rest
 * (signals, migration) is refused in one line. */
#define _GNU_SOURCE
#include "run/bootctl.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "util.h"

#define HOLD_MS 2000 /* pause's wait for every vCPU to park */
#define PARK_MS 100  /* vCPU 0's look at the signals while parked */

static void on_kick(int sig)
{
	/* Nothing: the signal's only work is to end KVM_RUN (EINTR). */
}

void boot_hold_init(struct boot_hold *h, struct vcpu *cpu, unsigned ncpus,
		    const struct boot_opts *o,
		    int (*save)(void *arg, int fd, char *err, size_t errlen),
		    void *save_arg)
{
	h->save = save;
	h->save_arg = save_arg;
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->cond, &ca);
	pthread_condattr_destroy(&ca);
	h->cpu = cpu;
	h->ncpus = ncpus;
	h->memory = o->memory;
	h->kernel = o->kernel;
	/* SA_RESTART: a device's call on a vCPU thread goes on; KVM_RUN
	 * returns EINTR whatever the flag. */
	struct sigaction sa = {.sa_handler = on_kick, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	sigaction(BOOT_KICK_SIGNAL, &sa, NULL);
}

void boot_hold_thread(struct boot_hold *h, const struct vcpu *c)
{
	h->thread[c->id] = pthread_self();
	__atomic_store_n(&h->tid[c->id], gettid(), __ATOMIC_RELEASE);
}

/* Out of KVM_RUN now, or at once if it is about to enter it. */
static void kick(struct boot_hold *h, unsigned i)
{
	vcpu_kick(&h->cpu[i]);
	if (__atomic_load_n(&h->tid[i], __ATOMIC_ACQUIRE))
		pthread_kill(h->thread[i], BOOT_KICK_SIGNAL);
}

static struct timespec after_ms(unsigned ms)
{
	uint64_t t = mono_ns() + ms * 1000000ULL;
	return (struct timespec){(time_t)(t / 1000000000),
				 (long)(t % 1000000000)};
}

bool boot_hold_wait(struct boot_hold *h, struct vcpu *c)
{
	__atomic_fetch_add(&h->exits, 1, __ATOMIC_RELAXED);
	if (!__atomic_load_n(&h->paused, __ATOMIC_ACQUIRE))
		return true;
	pthread_mutex_lock(&h->lock);
	h->parked++;
	pthread_cond_broadcast(&h->cond);
	struct timespec until = after_ms(PARK_MS);
	while (h->paused && !h->stop) {
		if (c->id != 0)
			pthread_cond_wait(&h->cond, &h->lock);
		else if (pthread_cond_timedwait(&h->cond, &h->lock, &until) ==
			 ETIMEDOUT)
			break;
	}
	h->parked--;
	bool run = !h->paused;
	pthread_mutex_unlock(&h->lock);
	return run;
}

bool boot_hold_stopping(struct boot_hold *h)
{
	return __atomic_load_n(&h->stop, __ATOMIC_ACQUIRE);
}

static bool held(struct boot_hold *h)
{
	return __atomic_load_n(&h->paused, __ATOMIC_ACQUIRE);
}

bool boot_hold_paused(struct boot_hold *h)
{
	return held(h);
}

/* ---- the requests ---- */

/* What info and stats begin with. */
static cJSON *head(struct ctl_conn *cn, struct boot_hold *h)
{
	cJSON *j = ctl_ok();
	cJSON_AddStringToObject(j, "id", ctl_conn_id(cn));
	cJSON_AddNumberToObject(j, "pid", ctl_conn_pid(cn));
	cJSON_AddStringToObject(j, "kind", "boot");
	cJSON_AddStringToObject(j, "program", h->kernel);
	cJSON_AddStringToObject(j, "state", held(h) ? "paused" : "running");
	cJSON_AddNumberToObject(j, "uptime_s", ctl_conn_uptime(cn));
	cJSON_AddNumberToObject(
		j, "exits",
		(double)__atomic_load_n(&h->exits, __ATOMIC_RELAXED));
	cJSON_AddNumberToObject(j, "guest_memory", (double)h->memory);
	return j;
}

/* The monitor is one process: mote ps reads its memory through it. */
static void add_pid(cJSON *j)
{
	cJSON_AddItemToArray(cJSON_AddArrayToObject(j, "pids"),
			     cJSON_CreateNumber(getpid()));
	cJSON_AddItemToArray(cJSON_AddArrayToObject(j, "proc_pids"),
			     cJSON_CreateNumber(getpid()));
}

static void do_info(struct ctl_conn *cn, void *vm, const struct ctl_req *req)
{
	struct boot_hold *h = vm;
	cJSON *j = head(cn, h);
	cJSON_AddNumberToObject(j, "vcpus", h->ncpus);
	cJSON_AddNumberToObject(j, "exits_per_s", h->rate.per_s);
	add_pid(j);
	ctl_reply(cn, j);
}

static void do_stats(struct ctl_conn *cn, void *vm, const struct ctl_req *req)
{
	struct boot_hold *h = vm;
	cJSON *j = head(cn, h);
	cJSON *a = cJSON_AddArrayToObject(j, "vcpus");
	for (unsigned i = 0; i < h->ncpus; i++) {
		pid_t tid = __atomic_load_n(&h->tid[i], __ATOMIC_ACQUIRE);
		cJSON *v = cJSON_CreateObject();
		cJSON_AddNumberToObject(v, "id", i);
		cJSON_AddNumberToObject(v, "tid", tid);
		cJSON_AddNumberToObject(v, "cpu_ns",
					tid ? (double)thread_cpu_ns(tid) : 0);
		cJSON_AddItemToArray(a, v);
	}
	add_pid(j);
	ctl_reply(cn, j);
}

/* Parks every vCPU: whether all did within HOLD_MS. */
static bool hold_all(struct boot_hold *h)
{
	__atomic_store_n(&h->paused, true, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < h->ncpus; i++)
		kick(h, i);
	struct timespec until = after_ms(HOLD_MS);
	pthread_mutex_lock(&h->lock);
	while (h->parked < h->ncpus &&
	       pthread_cond_timedwait(&h->cond, &h->lock, &until) == 0)
		;
	bool complete = h->parked == h->ncpus;
	pthread_mutex_unlock(&h->lock);
	return complete;
}

static void do_pause(struct ctl_conn *cn, void *vm, const struct ctl_req *req)
{
	struct boot_hold *h = vm;
	cJSON *j = ctl_ok();
	if (held(h)) {
		cJSON_AddTrueToObject(j, "already");
		ctl_reply(cn, j);
		return;
	}
	cJSON_AddBoolToObject(j, "complete", hold_all(h));
	ctl_reply(cn, j);
}

/* Lets the parked vCPUs go. */
static void release(struct boot_hold *h)
{
	pthread_mutex_lock(&h->lock);
	__atomic_store_n(&h->paused, false, __ATOMIC_SEQ_CST);
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

static void do_resume(struct ctl_conn *cn, void *vm, const struct ctl_req *req)
{
	struct boot_hold *h = vm;
	cJSON *j = ctl_ok();
	if (!held(h))
		cJSON_AddTrueToObject(j, "already");
	else
		release(h);
	ctl_reply(cn, j);
}

/* Forced or not, the same: vCPU 0 ends the guest (status 137). A guest
 * asked to power off would need its power button (an ACPI event), which
 * mote does not raise yet. */
static void stop_guest(struct boot_hold *h);

static void do_stop(struct ctl_conn *cn, void *vm, const struct ctl_req *req)
{
	stop_guest(vm);
	ctl_reply(cn, ctl_ok());
}

/* Ends the guest through vCPU 0 (status 137). */
static void stop_guest(struct boot_hold *h)
{
	pthread_mutex_lock(&h->lock);
	__atomic_store_n(&h->stop, true, __ATOMIC_SEQ_CST);
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	kick(h, 0);
}

/* Every vCPU parked (a paused guest stays so), the snapshot written
 * into the request's fd, then the guest runs on, or ends with --stop.
 * A migration's stream is not served. */
static void do_snapshot(struct ctl_conn *cn, void *vm,
			const struct ctl_req *req)
{
	struct boot_hold *h = vm;
	char err[256] = "";
	int fd = ctl_conn_fd(cn);
	if (req->stream || req->lazy) {
		ctl_reply_error(cn, "a booted Linux guest cannot migrate yet "
				    "(mote snapshot and restore can move it)");
		return;
	}
	if (fd < 0) {
		ctl_reply_error(cn,
				"no file came with the request (pass its fd "
				"with SCM_RIGHTS)");
		return;
	}
	bool was_held = held(h);
	uint64_t t0 = mono_ns();
	if (!was_held && !hold_all(h)) {
		release(h);
		ctl_reply_error(cn,
				"a vCPU did not stop within %d ms; try again",
				HOLD_MS);
		return;
	}
	int r = h->save(h->save_arg, fd, err, sizeof(err));
	struct stat st;
	double bytes = fstat(fd, &st) == 0 ? (double)st.st_blocks * 512 : 0;
	double ms = (double)(mono_ns() - t0) / 1e6;
	if (r == 0 && req->stop)
		stop_guest(h);
	else if (!was_held)
		release(h);
	cJSON *j = ctl_snapshot_reply(cn, r, err, bytes, ms);
	if (j)
		ctl_reply(cn, j);
}

static bool ending(void *vm)
{
	return boot_hold_stopping(vm);
}

static void tick(struct ctl_run *c, void *vm)
{
	struct boot_hold *h = vm;
	ctl_rate_sample(&h->rate, __atomic_load_n(&h->exits, __ATOMIC_RELAXED));
}

static const struct ctl_ops boot_ops = {
	.cmd =
		{
			[CTL_INFO] = do_info,
			[CTL_PAUSE] = do_pause,
			[CTL_RESUME] = do_resume,
			[CTL_STOP] = do_stop,
			[CTL_STATS] = do_stats,
			[CTL_SNAPSHOT] = do_snapshot,
		},
	.unsupported = "not supported for a booted Linux guest yet",
	.ending = ending,
	.tick = tick,
};

/* ---- the socket ---- */

int boot_ctl_open(struct boot_hold *h, const char *name)
{
	/* Built now, also for a generated id: the sandbox lets the control
	 * thread remove the dir, not make it. */
	return ctl_open(&h->ctl, name, &boot_ops, h, h->kernel, NULL, true);
}

void boot_ctl_serve(struct boot_hold *h)
{
	ctl_run_serve(h->ctl);
}

void boot_ctl_close(struct boot_hold *h)
{
	ctl_run_stop(h->ctl);
}

int boot_ctl_root_fd(const struct boot_hold *h)
{
	return ctl_run_root_fd(h->ctl);
}

int boot_ctl_dir_fd(const struct boot_hold *h)
{
	return ctl_run_dir_fd(h->ctl);
}
