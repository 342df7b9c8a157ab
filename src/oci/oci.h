/* The OCI runtime (docs/oci.md): runc's command line over mote's runs.
 * spec.c maps a bundle's config.json to lx_opts, state.c keeps the
 * containers' state dirs, console.c passes a pty to the engine, oci.c
 * holds the commands. */
#ifndef MOTE_OCI_OCI_H
#define MOTE_OCI_OCI_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdnoreturn.h>
#include <sys/types.h>

#include "lx/lx.h"

#define OCI_VERSION "1.0.2"

/* A container's run, as config.json (and an exec's process.json) say. */
struct oci_spec {
	struct lx_opts o;
	bool terminal;
	char *netns;	    /* a network namespace to join, or NULL */
	char rootfs[4096];  /* root.path made absolute */
	char program[4096]; /* the host path of process.args[0] */
	char exe[4096];	    /* and its guest path */
	cJSON *json;	    /* the parsed config.json (owns the strings) */
	cJSON *annotations; /* in json, or NULL */
};

/* Loads bundle/config.json into s. state is the container's state dir,
 * where tmpfs mounts get their dirs; copy makes them and copies single-file
 * bind mounts into a writable root (create does; exec reuses them).
 * Returns 0, or -1 after a message naming the field. */
int oci_spec_load(struct oci_spec *s, const char *bundle, const char *state,
		  bool copy);
/* Replaces s's process with an exec's process.json object. 0 or -1. */
int oci_spec_process(struct oci_spec *s, const cJSON *process);

/* ---- messages: the engines read runc's --log file ---- */
void oci_log_open(const char *path, bool json);
/* An error: to stderr and the log. */
void oci_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A warning: to the log when there is one (the container's stderr may be
 * the engine's stdio), else to stderr. */
void oci_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- state (state.c) ---- */
enum oci_status { OCI_CREATED, OCI_RUNNING, OCI_PAUSED, OCI_STOPPED };

struct oci_state {
	char dir[4096]; /* ROOT/ID */
	char id[80];
	pid_t pid;		  /* the monitor */
	unsigned long long start; /* its start time, /proc/PID/stat field 22 */
	char bundle[4096];
	char created[40];
	cJSON *json; /* state.json */
};

/* The state root (--root). */
extern const char *oci_root;
/* Reads ROOT/id/state.json. 0, or -1 after "container ID does not
 * exist". */
int oci_state_read(const char *id, struct oci_state *st);
/* Writes st (pid, start, bundle, annotations) as state.json. 0 or -1. */
int oci_state_write(struct oci_state *st, const cJSON *annotations);
/* The status: the monitor's pid alive with its start time, started,
 * paused (asked of its control socket). */
enum oci_status oci_status(struct oci_state *st);
const char *oci_status_name(enum oci_status s);
/* A process's start time (field 22 of /proc/PID/stat), 0 if it is gone
 * or a zombie. */
unsigned long long oci_proc_start(pid_t pid);
/* rm -rf of a state dir. */
void oci_rmtree(const char *path);
/* One request line to the control socket of run `run` under the
 * container's ctl root; the reply, or NULL. */
cJSON *oci_ctl(struct oci_state *st, const char *run, const char *line);
/* The runs (init and execs) of the container: their ids, NULL-terminated,
 * malloc'd. */
char **oci_runs(struct oci_state *st);

/* ---- console (console.c) ---- */
/* Makes a pty, sends its master to the unix socket at path (SCM_RIGHTS,
 * as runc does) and returns the slave's fd, or -1 after a message. */
int oci_console(const char *path);

int oci_main(int argc, char **argv);

/* ---- between oci.c and cmds.c ---- */
/* An error line (fmt with arg, pointing at --help) and exit status 1. */
noreturn void oci_usage_err(const char *fmt, const char *arg);
/* Writes pid to path (conmon's and the shim's --pid-file): 0 or -1. */
int oci_write_pid_file(const char *path, pid_t pid);
/* The monitor: a session of its own, the pty (tty, or -1) as stdio, then
 * (for the init, fifo >= 0) the start byte, then the run; never returns. */
noreturn void oci_monitor(struct oci_spec *s, struct oci_state *st, int fifo,
			  int tty);
/* waitpid's status as a shell's: the code, or 128 + signal. */
int oci_wait_status(pid_t pid);
/* The commands, argv[0] being the command's name: mote's exit status. */
int oci_cmd_state(int argc, char **argv);
int oci_cmd_list(int argc, char **argv);
int oci_cmd_kill(int argc, char **argv);
int oci_cmd_delete(int argc, char **argv);
int oci_cmd_exec(int argc, char **argv);
int oci_cmd_ps(int argc, char **argv);
int oci_cmd_pause(int argc, char **argv, bool pause);
int oci_cmd_features(void);

#endif
