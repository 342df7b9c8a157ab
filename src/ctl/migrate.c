/* mote migrate ID ADDR:PORT --key FILE: moves a running VM to a mote
 * receive on another host (docs/migration.md).
 *
 * Pre-copy: while the VM runs, its monitor writes rounds of its memory
 * into a pipe this client passes it, each round the pages written since
 * the one before; once what is left fits --max-downtime at the rate the
 * rounds measured, the VM is paused and the last pass (the pages written
 * since, the vCPUs and the rest of the state) goes the same way. The
 * network and the key stay in this client, outside the VM's sandbox: the
 * monitor only writes records into the pipe, and at the end either
 * resumes or ends as migrated. The VM stays paused from its last pass
 * until the receiver says it has all of it and runs it; any failure
 * before that resumes it where it was, so a wrong key, a dead receiver or
 * a cut link cost a pause, never the VM. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl/internal.h"
#include "snap/mig.h"
#include "util.h"

#define CONNECT_MS 10000 /* a receiver just started may not listen yet */
#define READY_MS   120000

/* Splits "HOST:PORT" (HOST may be [v6]) into host and port. */
static int split_addr(const char *addr, char *host, size_t hlen,
		      const char **port)
{
	if (strspn(addr, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789.:[]_-") != strlen(addr))
		return -1;
	const char *colon = strrchr(addr, ':');
	if (!colon || colon == addr || !colon[1])
		return -1;
	size_t n = (size_t)(colon - addr);
	if (addr[0] == '[' && n >= 2 && addr[n - 1] == ']') {
		addr++;
		n -= 2;
	}
	if (n >= hlen)
		return -1;
	memcpy(host, addr, n);
	host[n] = 0;
	*port = colon + 1;
	return 0;
}

/* A TCP connection to addr, retried while it is refused: the fd, or -1
 * after a message. */
static int dial(const char *addr)
{
	char host[256];
	const char *port;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	if (split_addr(addr, host, sizeof(host), &port) < 0)
		ctl_usage_error("migrate: %s: expected ADDR:PORT", addr);
	int gai = getaddrinfo(host, port, &hints, &ai);
	if (gai) {
		fprintf(stderr, "mote: migrate: %s: %s\n", addr,
			gai_strerror(gai));
		return -1;
	}
	uint64_t end = mono_ns() + CONNECT_MS * 1000000ULL;
	int s = -1, err = 0;
	while (s < 0) {
		s = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s >= 0 && connect(s, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno;
		if (s >= 0)
			close(s);
		s = -1;
		if (err != ECONNREFUSED || mono_ns() >= end)
			break;
		usleep(100000);
	}
	freeaddrinfo(ai);
	if (s < 0)
		fprintf(stderr, "mote: migrate: cannot connect to %s: %s\n",
			addr, strerror(err));
	return s;
}

/* What a migration did, for its last line. */
struct mig_stats {
	bool paused;
	uint64_t t_pause, t_ready;
	uint64_t sent;	     /* bytes of memory and state */
	uint64_t last_bytes; /* sent while paused */
	int rounds;
	uint64_t lazy;	   /* post-copy: bytes left out of the last pass */
	uint64_t asked;	   /* post-copy: pages the receiver asked for */
	uint64_t t_done;   /* post-copy: when the last page was stored */
	uint64_t waits[3]; /* post-copy, the receiver's: requests timed, the
			    * median wait for a page and the longest (us) */
};

/* How a migration goes (mote migrate's options). */
struct plan {
	int max_downtime_ms; /* pre-copy stops once the rest fits this */
	int rounds;	     /* of pre-copy at most; 0: stop-and-copy */
	bool postcopy;	     /* the receiver runs the VM before all of its
			      * memory has come */
};

#define MAX_ROUNDS	 1000
#define ROUND_MS	 600000 /* one round, or the last pass, at most */
#define DEFAULT_DOWNTIME 300	/* ms, QEMU's default limit */

/* Sends request `line` to the VM's monitor with a pipe, into which it
 * writes a pass of its memory (and the rest, for the last), and forwards
 * what comes out of the pipe to the receiver. The reply, or NULL with the
 * reason in err. */
static cJSON *pass(int root_fd, const char *id, const char *line, struct mig *m,
		   struct mig_fwd *f, char *err, size_t errlen)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return NULL;
	}
	/* Room for a few records; and the monitor's end never blocks, so it
	 * gives up on a client that stops reading instead of waiting. */
	fcntl(pfd[1], F_SETPIPE_SZ, 1 << 20);
	fcntl(pfd[1], F_SETFL, O_NONBLOCK);
	int c = ctl_request_start(root_fd, id, line, pfd[1]);
	close(pfd[1]);
	int r = c < 0 ? -1 : mig_forward(m, pfd[0], f, ROUND_MS, err, errlen);
	close(pfd[0]); /* a monitor still writing gets EPIPE, and stops */
	/* When the link failed, the monitor's error (a broken pipe) is only
	 * its consequence, and is not printed. */
	bool link = r == -1 && c >= 0;
	cJSON *j = ctl_request_finish(c, id, ROUND_MS, link);
	if (j && r == 0)
		return j;
	if (!link)
		snprintf(err, errlen, "the VM's monitor failed (above)");
	cJSON_Delete(j);
	return NULL;
}

/* Whether ^C (or SIGTERM, SIGHUP, SIGQUIT) came: they are held while
 * this client works, and end it between rounds, before the pause. */
static bool interrupted(void)
{
	sigset_t p;
	return sigpending(&p) == 0 &&
	       (sigismember(&p, SIGINT) == 1 || sigismember(&p, SIGTERM) == 1 ||
		sigismember(&p, SIGHUP) == 1 || sigismember(&p, SIGQUIT) == 1);
}

/* Pre-copy: rounds of memory while the VM runs, until what is left to
 * send fits the downtime at the rate the rounds measured (or the rounds
 * are used up, or the dirty set stops shrinking). The rounds run, 0 with
 * the reason in err if one failed (the VM ran on: nothing to undo but the
 * tracking). */
static int precopy(int root_fd, const char *id, const struct plan *pl,
		   struct mig *m, struct mig_fwd *f, char *err, size_t errlen)
{
	double best = 0; /* bytes/ms, the fastest round's */
	uint64_t last = UINT64_MAX;
	int n = 0, worse = 0;
	while (n < pl->rounds) {
		if (interrupted()) {
			snprintf(err, errlen, "interrupted");
			return -1;
		}
		uint64_t sent0 = f->sent, t0 = mono_ns();
		cJSON *j = pass(root_fd, id, "{\"cmd\":\"precopy\"}\n", m, f,
				err, errlen);
		if (!j)
			return -1;
		cJSON_Delete(j);
		n++;
		uint64_t bytes = f->sent - sent0;
		double ms = (mono_ns() - t0) / 1e6;
		if (ms > 0 && bytes / ms > best)
			best = bytes / ms;
		/* The next pass sends about what this one found dirty. */
		if (n > 1 && best > 0 && bytes / best <= pl->max_downtime_ms)
			break;
		worse = bytes >= last ? worse + 1 : 0;
		if (worse >= 3)
			break; /* the guest writes faster than the link */
		last = bytes;
	}
	return n;
}

/* Sends the VM (pre-copy rounds, then the paused VM's last pass) and
 * waits for the receiver's word: 0 once it runs there, else -1 with the
 * reason; *paused is set once the VM is paused. */
static int send_vm(int root_fd, const char *id, const struct plan *pl,
		   struct mig *m, struct mig_stats *ms, char *err,
		   size_t errlen)
{
	struct mig_fwd f = {0};
	/* A VM of several processes moves by stop-and-copy: each process's
	 * monitor writes its part of the last pass in turn. */
	cJSON *info =
		ctl_request(root_fd, id, "{\"cmd\":\"info\"}\n", -1, 15000);
	int procs = info ? cJSON_GetArraySize(cJSON_GetObjectItem(info, "pids"))
			 : 1;
	cJSON_Delete(info);
	if (procs > 1 && pl->postcopy) {
		snprintf(err, errlen,
			 "the VM has %d processes, which move by stop-and-copy "
			 "only (leave out --postcopy)",
			 procs);
		return -1;
	}
	int rounds = pl->rounds && procs < 2
			     ? precopy(root_fd, id, pl, m, &f, err, errlen)
			     : 0;
	if (rounds < 0)
		return -1;
	ms->rounds = rounds;
	cJSON *j = ctl_request(root_fd, id, "{\"cmd\":\"pause\"}\n", -1, 15000);
	if (!j) {
		snprintf(err, errlen, "the VM did not pause");
		return -1;
	}
	cJSON_Delete(j);
	ms->paused = true;
	ms->t_pause = mono_ns();
	uint64_t sent0 = f.sent;
	j = pass(root_fd, id,
		 pl->postcopy ? "{\"cmd\":\"snapshot\",\"stream\":true,"
				"\"lazy\":true}\n"
			      : "{\"cmd\":\"snapshot\",\"stream\":true}\n",
		 m, &f, err, errlen);
	ms->sent = f.sent;
	ms->lazy = f.lazy_bytes;
	if (!j)
		return -1;
	/* The monitor's count of pages; a tree's monitors give none, and
	 * everything that crossed while paused counts. */
	uint64_t bytes = (uint64_t)ctl_num(j, "bytes");
	ms->last_bytes = bytes ? bytes : f.sent - sent0;
	cJSON_Delete(j);
	if (!f.ended) {
		snprintf(err, errlen, "the VM's monitor sent no end");
		return -1;
	}
	char reply[512];
	uint32_t type, len;
	if (mig_recv(m, &type, reply, sizeof(reply) - 1, &len, READY_MS, err,
		     errlen) < 0)
		return -1;
	reply[len] = 0;
	ms->t_ready = mono_ns();
	if (type == MIG_READY && len == 0)
		return 0;
	snprintf(err, errlen, "the receiver refused it: %.160s",
		 type == MIG_FAIL ? reply : "an unexpected reply");
	return -1;
}

static int hand_over(int root_fd, const char *id, const char *addr, int s,
		     struct mig *m, const struct plan *pl, uint64_t t0);

/* A receiver's request for pages, passed on to the monitor (unless it
 * has sent every page: then the request crossed them on the way). */
static int ask(int mon, bool all_sent, struct mig *m, struct mig_stats *ms,
	       char *err, size_t errlen)
{
	uint8_t b[sizeof(ms->waits)]; /* WANT: the file's offset, length */
	uint32_t type, len;
	if (mig_recv(m, &type, b, sizeof(b), &len, ROUND_MS, err, errlen) < 0)
		return -1;
	/* (A receiver of before the figures sends an empty one.) */
	if (type == MIG_DONE && (len == 0 || len == sizeof(ms->waits))) {
		memcpy(ms->waits, b, len);
		return 1;
	}
	if (type != MIG_WANT || len != 16) {
		snprintf(err, errlen, "the receiver sent an unexpected frame");
		return -1;
	}
	ms->asked++;
	/* A monitor that has just sent its last page and gone takes no
	 * more: whether it sent them all shows in its stream (DONE). */
	if (!all_sent)
		send(mon, b, 16, MSG_NOSIGNAL | MSG_DONTWAIT);
	return 0;
}

/* Post-copy's requests must not wait behind megabytes of the background
 * stream queued on their way: on a veth, with the buffers the kernel
 * tunes, 8 MiB waited in the receiver's socket and 3 MiB in this one's,
 * and a request a median of 5 to 20 ms. So the monitor's end of the
 * socket pair holds 64 KiB; this one's unsent bytes stay under 128 KiB;
 * and on a short link (a round trip of 200 us or less: a LAN, a veth) so
 * do its bytes in flight, which bounds what waits at the receiver too.
 * On a longer link the buffer stays the kernel's, which the background's
 * rate needs (the bytes in flight are the round trip times the rate). A
 * small receive buffer at the receiver instead lost packets there, and a
 * request then waited for a 200 ms retransmission. */
#define PC_QUEUE     (128 << 10)
#define PC_SHORT_RTT 200 /* us */
static void short_queues(int mon, int link)
{
	int v = PC_QUEUE / 2;
	setsockopt(mon, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	v = PC_QUEUE;
	setsockopt(link, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, sizeof(v));
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	if (getsockopt(link, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
	    ti.tcpi_rtt <= PC_SHORT_RTT)
		setsockopt(link, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
}

/* Post-copy, once the receiver runs the VM: the monitor sends the pages
 * its lazy pass left out into a socket, the ones the receiver asks for
 * first, and this client carries both ways. 0 once the receiver has them
 * all, else -1 with the reason. */
static int postcopy(int root_fd, const char *id, struct mig *m,
		    struct mig_stats *ms, char *err, size_t errlen)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	fcntl(sv[1], F_SETFL, O_NONBLOCK); /* as the pipe of a pass */
	short_queues(sv[1], m->fd);
	int c = ctl_request_start(root_fd, id, "{\"cmd\":\"postcopy\"}\n",
				  sv[1]);
	close(sv[1]);
	struct mig_fwd f = {.begun = true, .ended = true};
	int r = c < 0 ? -2 : 0, got = 0; /* got: the receiver's DONE */
	bool eof = false;
	while (r == 0 && !(eof && got)) {
		struct pollfd pf[2] = {{eof ? -1 : sv[0], POLLIN, 0},
				       {got ? -1 : m->fd, POLLIN, 0}};
		if (poll(pf, 2, ROUND_MS) <= 0) {
			snprintf(err, errlen, "nothing moved for %d s",
				 ROUND_MS / 1000);
			r = -1;
			break;
		}
		if (pf[1].revents &&
		    (got = ask(sv[0], f.done, m, ms, err, errlen)) < 0)
			r = -1, got = 0;
		else if (got && !f.done) {
			snprintf(err, errlen,
				 "the receiver said it had every page before "
				 "they were sent");
			r = -1;
		}
		if (!r && !eof && pf[0].revents) {
			int k = mig_forward_one(m, sv[0], &f, ROUND_MS, err,
						errlen);
			eof = k == 0;
			r = k < 0 ? k : 0;
		}
	}
	if (r == 0 && !f.done) {
		snprintf(err, errlen, "the VM's monitor sent no end");
		r = -2;
	}
	close(sv[0]);
	ms->t_done = mono_ns();
	ms->sent += f.sent;
	cJSON *j = ctl_request_finish(c, id, ROUND_MS, r == -1);
	if (!j && r == 0) {
		snprintf(err, errlen, "the VM's monitor failed (above)");
		r = -2;
	}
	cJSON_Delete(j);
	return r < 0 ? -1 : 0;
}

/* A whole number from min to max for option opt, or a usage error. */
static int int_arg(const char *opt, const char *v, int min, int max)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < min || n > max)
		ctl_usage_error("migrate: %s %s: expected a whole number from "
				"%d to %d",
				opt, v, min, max);
	return (int)n;
}

int ctl_migrate_main(int argc, char **argv)
{
	const char *id = NULL, *addr = NULL, *keyfile = NULL;
	struct plan pl = {DEFAULT_DOWNTIME, -1, false};
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--key") && i + 1 < argc)
			keyfile = argv[++i];
		else if (!strncmp(argv[i], "--key=", 6))
			keyfile = argv[i] + 6;
		else if (!strcmp(argv[i], "--max-downtime") && i + 1 < argc)
			pl.max_downtime_ms =
				int_arg(argv[i], argv[i + 1], 1, 600000),
			i++;
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			pl.rounds =
				int_arg(argv[i], argv[i + 1], 0, MAX_ROUNDS),
			i++;
		else if (!strcmp(argv[i], "--postcopy"))
			pl.postcopy = true;
		else if (argv[i][0] != '-' && !id)
			id = argv[i];
		else if (argv[i][0] != '-' && !addr)
			addr = argv[i];
		else
			ctl_usage_error("migrate: unexpected argument %s",
					argv[i]);
	}
	if (!id || !addr)
		ctl_usage_error("migrate: expected a VM id and ADDR:PORT");
	/* Post-copy runs the VM on the receiver at once unless rounds of
	 * pre-copy are asked for too; pre-copy alone runs up to 30. */
	if (pl.rounds < 0)
		pl.rounds = pl.postcopy ? 0 : 30;
	if (!keyfile)
		ctl_usage_error("migrate: no --key FILE (the secret the "
				"receiver holds too)");
	uint8_t key[MIG_KEY_BYTES];
	char err[256];
	if (mig_key_load(keyfile, key, err, sizeof(err)) < 0) {
		fprintf(stderr, "mote: migrate: %s\n", err);
		return MOTE_EXIT_FAIL;
	}
	int root_fd = ctl_open_root_or_die(ctl_id_arg(id));
	uint64_t t0 = mono_ns();
	int s = dial(addr);
	struct mig m;
	if (s < 0)
		return MOTE_EXIT_FAIL;
	if (mig_hello(&m, s, key, true, CONNECT_MS, err, sizeof(err)) < 0) {
		fprintf(stderr, "mote: migrate: %s: %s\n", addr, err);
		close(s);
		return MOTE_EXIT_FAIL;
	}
	/* A ^C must not leave the VM paused with no one to resume it, nor
	 * its dirty tracking on: the signals that would end this client
	 * wait until the VM is either resumed or handed over (every step has
	 * a timeout); during pre-copy they end it between rounds. */
	sigset_t stop, old;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigaddset(&stop, SIGQUIT);
	sigprocmask(SIG_BLOCK, &stop, &old);
	int status = hand_over(root_fd, id, addr, s, &m, &pl, t0);
	close(s);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return status;
}

/* Sends the VM, and ends it here or resumes it: mote's exit status. */
static int hand_over(int root_fd, const char *id, const char *addr, int s,
		     struct mig *m, const struct plan *pl, uint64_t t0)
{
	char err[256];
	struct mig_stats ms = {0};
	int r = send_vm(root_fd, id, pl, m, &ms, err, sizeof(err));
	if (r < 0) {
		shutdown(s, SHUT_RDWR);
		fprintf(stderr, "mote: migrate: %s: %s; %s goes on here\n",
			addr, err, id);
		/* The last pass ends the tracking; a failure before it
		 * leaves it on. */
		cJSON_Delete(ctl_request(root_fd, id,
					 "{\"cmd\":\"precopy\",\"end\":true}\n",
					 -1, 15000));
		if (ms.paused)
			cJSON_Delete(ctl_request(root_fd, id,
						 "{\"cmd\":\"resume\"}\n", -1,
						 15000));
		return MOTE_EXIT_FAIL;
	}
	/* From here on the VM is the receiver's: a post-copy that fails
	 * now has lost it (the receiver ends it too), and the VM here must
	 * never run again. */
	bool lost = false;
	/* (A lazy pass that left no page out was a whole one.) */
	if (pl->postcopy && ms.lazy &&
	    postcopy(root_fd, id, m, &ms, err, sizeof(err)) < 0) {
		fprintf(stderr,
			"mote: migrate: post-copy to %s failed after the VM "
			"ran there: %s; the VM is lost\n",
			addr, err);
		lost = true;
	}
	shutdown(s, SHUT_RDWR);
	char line[256];
	snprintf(line, sizeof(line),
		 "{\"cmd\":\"migrated\",\"to\":\"%s\",\"lost\":%s}\n", addr,
		 lost ? "true" : "false");
	cJSON *j = ctl_request(root_fd, id, line, -1, 15000);
	if (!j) {
		fprintf(stderr,
			"mote: migrate: %s runs on %s now, but its monitor "
			"here did not end (it stays paused): mote stop "
			"--force %s\n",
			id, addr, id);
		return MOTE_EXIT_FAIL;
	}
	cJSON_Delete(j);
	if (lost)
		return MOTE_EXIT_FAIL;
	uint64_t now = mono_ns();
	/* Paused: from the pause here to the receiver's word that it runs
	 * the VM (it resumes it as it says so). */
	printf("%s: migrated to %s in %.1f ms (paused for %.1f ms; %.1f MiB "
	       "sent, %.1f MiB of it paused, after %d rounds of pre-copy",
	       id, addr, (now - t0) / 1e6, (ms.t_ready - ms.t_pause) / 1e6,
	       ms.sent / 1048576.0, ms.last_bytes / 1048576.0, ms.rounds);
	if (pl->postcopy && !ms.lazy)
		printf("; post-copy: no page was left to fetch");
	else if (pl->postcopy)
		printf("; post-copy: %.1f MiB in %.1f ms, %llu requests of the "
		       "receiver",
		       ms.lazy / 1048576.0, (ms.t_done - ms.t_ready) / 1e6,
		       (unsigned long long)ms.asked);
	if (pl->postcopy && ms.waits[0])
		printf(", which waited %.2f ms median, %.2f ms at most",
		       ms.waits[1] / 1e3, ms.waits[2] / 1e3);
	printf(")\n");
	return 0;
}
