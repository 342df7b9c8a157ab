/* The control socket of a run (docs/control.md): its runtime dir, the
 * server thread in the first monitor, and the `mote ps/stop/pause/resume/
 * stats/snapshot` client. */
#ifndef MOTE_CTL_CTL_H
#define MOTE_CTL_CTL_H

#include <stdbool.h>
#include <stddef.h>

struct lx_proc;

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

/* mote ps|stop|pause|resume|stats|snapshot ARGS: argv[0] is the command.
 * Returns mote's exit status. */
int ctl_main(int argc, char **argv);
/* Whether argv1 is one of ctl_main's commands. */
bool ctl_is_command(const char *argv1);

#endif
