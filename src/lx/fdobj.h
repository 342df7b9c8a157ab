/* The state of the kernel objects behind guest fds, for snapshots
 * (fdobj.c): eventfd, timerfd, epoll and signalfd. */
#ifndef MOTE_LX_FDOBJ_H
#define MOTE_LX_FDOBJ_H

#include <stdint.h>
#include <time.h>

#include "lx/fd.h"
#include "stream.h"

enum lx_obj_type {
	LX_OBJ_NONE,
	LX_OBJ_EVENTFD,
	LX_OBJ_TIMERFD,
	LX_OBJ_EPOLL,
	LX_OBJ_SIGNALFD,
};

/* One registration of an epoll: the guest fd, its events and data. */
struct lx_epoll_reg {
	int32_t gfd;
	uint32_t events;
	uint64_t data;
};

struct lx_fdobj {
	uint8_t type; /* enum lx_obj_type */
	uint8_t sem;  /* eventfd: EFD_SEMAPHORE */
	/* eventfd: its count; timerfd: the expirations not read yet. */
	uint64_t count;
	int32_t clockid, tflags; /* timerfd: its clock, settime's flags */
	/* timerfd: the time left (absolute with TFD_TIMER_ABSTIME), and
	 * the interval; zero: disarmed. */
	struct itimerspec its;
	uint64_t mask;	     /* signalfd */
	uint32_t lost, nreg; /* epoll: registrations gone, and kept */
	struct lx_epoll_reg *reg;
	const char *why; /* save: why it cannot come back, or NULL */
};

/* Save, with p's fd lock held and the run held: the object behind f (type
 * LX_OBJ_NONE if f is no such object). */
void lx_fdobj_save(struct lx_proc *p, const struct lx_fd *f,
		   struct lx_fdobj *o);
void lx_fdobj_write(struct wbuf *w, const struct lx_fdobj *o);
/* Reads one, checking it against the fd's kind (r->bad if it does not
 * fit). */
void lx_fdobj_read(struct rbuf *r, uint32_t kind, struct lx_fdobj *o);
void lx_fdobj_free(struct lx_fdobj *o);
/* Restore: a new host object with o's state and status flags `flags`
 * (O_NONBLOCK): its host fd, or -1 with the reason in *why. */
int lx_fdobj_make(struct lx_proc *p, const struct lx_fdobj *o, int flags,
		  const char **why);
/* Once every fd is back: the registrations of the epoll at gfd. 0, or -1
 * after a message. */
int lx_fdobj_link(struct lx_proc *p, long gfd, const struct lx_fdobj *o);

#endif
