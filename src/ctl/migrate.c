/* mote migrate ID ADDR:PORT --key FILE: moves a running VM to a mote
 * receive on another host (docs/migration.md).
 *
 * The network and the key stay in this client, outside the VM's sandbox:
 * the monitor only pauses, writes its snapshot into a memfd this client
 * passes it, and at the end either resumes or ends as migrated. The VM
 * stays paused from its snapshot until the receiver says it has all of it
 * and runs it; any failure before that resumes it where it was, so a
 * wrong key, a dead receiver or a cut link cost a pause, never the VM. */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
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

/* Pauses the VM, takes its snapshot into a memfd, sends it and waits for
 * the receiver's word: 0 once it runs there, else -1 with the reason. */
static int send_vm(int root_fd, const char *id, struct mig *m, uint64_t *sent,
		   char *err, size_t errlen)
{
	int fd = memfd_create("mote-migrate", MFD_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "memfd: %s", strerror(errno));
		return -1;
	}
	cJSON *j = ctl_request(root_fd, id,
			       "{\"cmd\":\"snapshot\",\"stop\":false}\n", fd,
			       600000);
	if (!j) {
		close(fd);
		snprintf(err, errlen, "no snapshot of the VM");
		return -1;
	}
	cJSON_Delete(j);
	int r = mig_send_file(m, fd, sent, err, errlen);
	close(fd);
	if (r < 0)
		return -1;
	char reply[512];
	uint32_t type, len;
	if (mig_recv(m, &type, reply, sizeof(reply) - 1, &len, READY_MS, err,
		     errlen) < 0)
		return -1;
	reply[len] = 0;
	if (type == MIG_READY && len == 0)
		return 0;
	snprintf(err, errlen, "the receiver refused it: %.160s",
		 type == MIG_FAIL ? reply : "an unexpected reply");
	return -1;
}

static int hand_over(int root_fd, const char *id, const char *addr, int s,
		     struct mig *m, uint64_t t0);

int ctl_migrate_main(int argc, char **argv)
{
	const char *id = NULL, *addr = NULL, *keyfile = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--key") && i + 1 < argc)
			keyfile = argv[++i];
		else if (!strncmp(argv[i], "--key=", 6))
			keyfile = argv[i] + 6;
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
	/* From the pause on, a ^C must not leave the VM paused with no one
	 * to resume it: the signals that would end this client wait until
	 * the VM is either resumed or handed over (every step has a
	 * timeout). */
	sigset_t stop, old;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigaddset(&stop, SIGQUIT);
	sigprocmask(SIG_BLOCK, &stop, &old);
	int status = hand_over(root_fd, id, addr, s, &m, t0);
	close(s);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return status;
}

/* Pauses the VM, sends it, and ends it here or resumes it: mote's exit
 * status. */
static int hand_over(int root_fd, const char *id, const char *addr, int s,
		     struct mig *m, uint64_t t0)
{
	char err[256];
	cJSON *j = ctl_request(root_fd, id, "{\"cmd\":\"pause\"}\n", -1, 15000);
	if (!j)
		return MOTE_EXIT_FAIL;
	cJSON_Delete(j);
	uint64_t t_pause = mono_ns();
	uint64_t sent = 0;
	int r = send_vm(root_fd, id, m, &sent, err, sizeof(err));
	shutdown(s, SHUT_RDWR);
	if (r < 0) {
		fprintf(stderr, "mote: migrate: %s: %s; %s goes on here\n",
			addr, err, id);
		j = ctl_request(root_fd, id, "{\"cmd\":\"resume\"}\n", -1,
				15000);
		cJSON_Delete(j);
		return MOTE_EXIT_FAIL;
	}
	char line[256];
	snprintf(line, sizeof(line), "{\"cmd\":\"migrated\",\"to\":\"%s\"}\n",
		 addr);
	j = ctl_request(root_fd, id, line, -1, 15000);
	if (!j) {
		fprintf(stderr,
			"mote: migrate: %s runs on %s now, but its monitor "
			"here did not end (it stays paused): mote stop "
			"--force %s\n",
			id, addr, id);
		return MOTE_EXIT_FAIL;
	}
	cJSON_Delete(j);
	uint64_t now = mono_ns();
	printf("%s: migrated to %s in %.1f ms (paused for %.1f ms, %.1f MiB "
	       "sent)\n",
	       id, addr, (now - t0) / 1e6, (now - t_pause) / 1e6,
	       sent / 1048576.0);
	return 0;
}
