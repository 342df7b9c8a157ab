/* The control socket of a VM (docs/control.md): its runtime dir, the
 * server thread in the first monitor, the ops table through which a
 * personality (mote run's, mote boot's) serves the requests, and the
 * `mote ps/stop/pause/resume/stats/snapshot` client. */
#ifndef MOTE_CTL_CTL_H
#define MOTE_CTL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cJSON;
struct lx_proc;
struct ctl_run;	 /* a VM's control state (ctl.c) */
struct ctl_conn; /* the connection a request came on (serve.c) */

#define CTL_ID_MAX   64		/* a --name's length at most */
#define CTL_LINE_MAX (64 << 10) /* a request or reply line at most */
#define CTL_SOCK     "ctl.sock"
#define CTL_STATE    "state"

/* Makes the run's runtime dir (ROOT/ID, mode 0700, with ctl.sock and
 * state) for the first monitor of p, before the sandbox. name is --name or
 * NULL (a generated id). With a name the dir is whole and in place on
 * return; without one, only made under its temporary name, and
 * ctl_serve's thread fills and places it. Returns 0, or MOTE_EXIT_FAIL
 * after a message (the VM must not start): an invalid name, or one a live
 * run holds. Without a name, a runtime root that cannot be made is a
 * warning: the run goes on without a control socket (p->ctl NULL). */
int ctl_start(struct lx_proc *p, const char *name);
/* Starts the thread that builds the dir if ctl_start left that to it, then
 * serves the socket: after the sandbox (it inherits it) and with every
 * signal blocked (no guest signal lands on it). */
void ctl_serve(struct lx_proc *p);
/* At the end of the run: stops serving and removes the runtime dir,
 * whatever step of building it the thread is at. */
void ctl_stop(struct lx_proc *p);
/* In a forked monitor: closes the inherited socket and dir descriptors
 * (the child serves nothing and removes nothing). */
void ctl_forked(struct lx_proc *p);
/* Removes the runtime dir of this process's run now, async-signal-safe:
 * for the paths that end the monitor with _exit (--timeout's watchdog, a
 * sandbox violation). Does nothing in a forked monitor. */
void ctl_remove_now(void);
/* The runtime root's and the run's dir's fds (for Landlock's rules that
 * let the sandboxed monitor remove them), or -1 without a control dir. */
int ctl_root_fd(const struct lx_proc *p);
int ctl_dir_fd(const struct lx_proc *p);
/* Whether the control thread is still to build the dir (the socket and
 * state file in it, the rename into the root) under the sandbox. */
bool ctl_building(const struct lx_proc *p);

/* Checks a --name: [A-Za-z0-9._-], 1 to CTL_ID_MAX characters, not
 * starting with '.'. Returns 0, or -1 with the reason in err. */
int ctl_name_check(const char *name, char *err, size_t errlen);
/* The runtime root, $XDG_RUNTIME_DIR/mote or /run/mote, into buf; or the
 * dir ctl_set_root gave. */
void ctl_root(char *buf, size_t len);
/* Makes dir (an absolute path, kept, not copied) the runtime root of this
 * process's runs and requests: the OCI runtime keeps each container's
 * under its own state dir. */
void ctl_set_root(const char *dir);

/* A parsed request line. */
enum ctl_cmd {
	CTL_INFO,
	CTL_PAUSE,
	CTL_RESUME,
	CTL_STOP,
	CTL_STATS,
	CTL_SNAPSHOT,
	CTL_SIGNAL,
	CTL_MIGRATED,
	CTL_PRECOPY,
	CTL_POSTCOPY,
	CTL_NCMDS
};

struct ctl_req {
	enum ctl_cmd cmd;
	bool force;   /* stop: kill at once */
	bool stop;    /* snapshot: end the VM once written */
	bool stream;  /* snapshot: as records into a pipe (migration) */
	bool lazy;    /* snapshot, stream: user pages later (post-copy) */
	bool lost;    /* migrated: post-copy failed after the switch */
	bool end;     /* precopy: stop the dirty tracking */
	int sig;      /* signal: the signal number, 1 to 64 */
	char to[128]; /* migrated: where the VM went (ADDR:PORT) */
};

/* Parses one request line of len bytes, without its newline, NUL-terminated
 * (line[len] == 0): nothing but blanks may follow the object. Returns 0, or -1
 * with a one-line reason in err (invalid JSON, not an object, no or unknown
 * cmd, a field of the wrong type). */
int ctl_parse(const char *line, size_t len, struct ctl_req *req, char *err,
	      size_t errlen);

/* The request's name ("info", ...). */
const char *ctl_cmd_name(enum ctl_cmd cmd);

/* ---- a personality's side ---- */

/* Serves req about vm (the ops' VM) on cn: one reply, made with ctl_ok
 * and ctl_reply, or ctl_reply_error. */
typedef void ctl_handler(struct ctl_conn *cn, void *vm,
			 const struct ctl_req *req);

/* What serve.c calls for a VM, on the control thread, one request at a
 * time. */
struct ctl_ops {
	ctl_handler *cmd[CTL_NCMDS]; /* NULL: refused with unsupported */
	const char *unsupported;     /* that error's reason */
	bool (*ending)(void *vm);    /* nothing is served once true */
	/* about once a second and after each connection; may be NULL */
	void (*tick)(struct ctl_run *c, void *vm);
};

/* A rate of exits, for info's exits_per_s. */
struct ctl_rate {
	uint64_t exits, ns; /* at the last sample */
	double per_s;
};
/* Samples exits (the count so far), at most once a second: for tick. */
void ctl_rate_sample(struct ctl_rate *r, uint64_t exits);

/* mote run's (lxops.c), for ctl_start. */
extern const struct ctl_ops ctl_lx_ops;

/* ctl_start for any VM: the dir of a VM served by ops about vm, its state
 * file naming program and argv (NULL: none). With build_now the dir is
 * whole and in place on return, also for a generated id (a monitor whose
 * sandbox cannot build it later); a generated id's failure is then a
 * warning, *out NULL. Returns 0 with *out set (NULL: no control socket),
 * or MOTE_EXIT_FAIL after a message. */
int ctl_open(struct ctl_run **out, const char *name, const struct ctl_ops *ops,
	     void *vm, const char *program, char *const *argv, bool build_now);
/* ctl_serve, ctl_stop, ctl_root_fd and ctl_dir_fd of c (NULL: nothing, -1). */
void ctl_run_serve(struct ctl_run *c);
void ctl_run_stop(struct ctl_run *c);
int ctl_run_root_fd(const struct ctl_run *c);
int ctl_run_dir_fd(const struct ctl_run *c);

/* A reply: ctl_ok's {"ok":true} with the handler's fields, sent by
 * ctl_reply (which consumes it) as one line; or an error line. */
struct cJSON *ctl_ok(void);
void ctl_reply(struct ctl_conn *cn, struct cJSON *j);
void ctl_reply_error(struct ctl_conn *cn, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A snapshot's reply, as every personality gives it: for r < 0 the
 * error "snapshot failed: err", sent (NULL returned); else ctl_ok with
 * bytes and ms, for the caller to add to and send. */
struct cJSON *ctl_snapshot_reply(struct ctl_conn *cn, int r, const char *err,
				 double bytes, double ms);
/* The request's fd (SCM_RIGHTS), or -1; the VM's id, its monitor's pid and
 * its time since ctl_open. */
int ctl_conn_fd(const struct ctl_conn *cn);
const char *ctl_conn_id(const struct ctl_conn *cn);
pid_t ctl_conn_pid(const struct ctl_conn *cn);
double ctl_conn_uptime(const struct ctl_conn *cn);

/* mote ps|stop|pause|resume|stats|snapshot ARGS: argv[0] is the command.
 * Returns mote's exit status. */
int ctl_main(int argc, char **argv);
/* Whether argv1 is one of ctl_main's commands. */
bool ctl_is_command(const char *argv1);

#endif
