/* What ctl.c, serve.c and client.c share. */
#ifndef MOTE_CTL_INTERNAL_H
#define MOTE_CTL_INTERNAL_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdint.h>
#include <stdnoreturn.h>
#include <sys/types.h>

#include "ctl/ctl.h"

/* A VM's control state: off lx_proc (the first monitor's) for mote run,
 * off the guest for mote boot. */
struct ctl_run {
	const struct ctl_ops *ops;
	void *vm; /* the ops' */
	char id[CTL_ID_MAX + 1];
	char tmp[24];  /* the dir's name until it is placed: ".new-PID" */
	bool named;    /* id may be the dir's name (rename attempted) */
	bool building; /* the control thread is to build and place it */
	pid_t owner;   /* the first monitor: only it removes the dir */
	int root_fd;   /* the runtime root (O_PATH) */
	int dir_fd;    /* the run's dir, ROOT/tmp then ROOT/ID (O_PATH) */
	int listen_fd; /* ctl.sock */
	int conn_fd;   /* the client being served, or -1 */
	uint64_t start_ns;
	char *state; /* the state file's text, the id at id_off */
	size_t state_len, id_off;
	pthread_mutex_t lock; /* a request being served */
	bool stopping;	      /* set once, atomically: nothing more is served */
	struct ctl_rate rate; /* sampled by the serving thread */
};

/* Fills the dir made by ctl_start (the socket, the state file) and renames
 * it into place as name (probed first: a live run's is refused) or, for
 * NULL, as c->id, a new one drawn while it is taken. Returns 0, or
 * MOTE_EXIT_FAIL after a message (none once the run is stopping). */
int ctl_build(struct ctl_run *c, const char *name);

/* A "/proc/self/fd/N/NAME" path for a file in the dir of fd N: a socket's
 * path has at most 108 bytes, and a runtime dir's may have more. */
void ctl_fd_path(char *buf, size_t len, int dir_fd, const char *name);

/* What is at ROOT/ID (root_fd open on ROOT). */
enum ctl_probe {
	CTL_NONE,  /* nothing */
	CTL_LIVE,  /* a run answers on its socket */
	CTL_STALE, /* left by a monitor that is gone */
};
/* Probes ROOT/ID; *pid gets the state file's pid (0 if unknown). */
enum ctl_probe ctl_probe(int root_fd, const char *id, pid_t *pid);
/* Removes ROOT/ID and the files in it (a stale dir). */
void ctl_dir_remove(int root_fd, const char *id);
/* Connects to ROOT/ID/ctl.sock: the socket, or -errno. */
int ctl_connect(int root_fd, const char *id);
/* Opens the runtime root, making it (and its parents) 0700 if mk. The fd
 * or -errno; the path is in root. */
int ctl_open_root(char *root, size_t len, bool mk);

/* ---- the client's parts (client.c), for migrate.c ---- */

/* Prints "mote: ...(see mote --help)" and exits with status 125. */
noreturn void ctl_usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* id, if it can be a VM's id; else exits after a message. */
const char *ctl_id_arg(const char *id);
/* The runtime root, or exits after a message. */
int ctl_open_root_or_die(const char *id);
/* One request line to run id (fd passed with it if >= 0): the reply (ok
 * true), or NULL after a message. */
cJSON *ctl_request(int root_fd, const char *id, const char *line, int fd,
		   int timeout_ms);
/* The same in two steps, for a request whose fd the client reads while
 * the monitor serves it: the connection (-1 if the line could not be
 * sent), then its reply, as ctl_request's (the connection is closed);
 * quiet: an error reply is not printed (the caller knows the cause). */
int ctl_request_start(int root_fd, const char *id, const char *line, int fd);
cJSON *ctl_request_finish(int s, const char *id, int timeout_ms, bool quiet);
/* A reply's number field, or 0. */
double ctl_num(const cJSON *j, const char *key);
/* mote migrate (migrate.c). */
int ctl_migrate_main(int argc, char **argv);

#endif
