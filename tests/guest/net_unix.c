/* AF_UNIX sockets: socketpair between two processes passing fds with
 * SCM_RIGHTS (MSG_CMSG_CLOEXEC honoured), SEQPACKET and DGRAM boundaries,
 * a server and a client over a path in a rw volume, names given back as
 * the guest bound them, paths that would leave the volume, and blocking
 * calls ended by signals (EINTR, SA_RESTART).
 * With the argument "escape" it only tries the escapes (tests/suites/net.sh
 * then checks the host tree); with "connect PATH ERRNO" it only checks that
 * connecting to PATH fails with ERRNO. */
// mote-args: --volume @TMP@:/vol:rw
#define _GNU_SOURCE
#include "proc.h"
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

static struct sockaddr_un un(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	return a;
}

static int bind_path(int fd, const char *path)
{
	struct sockaddr_un a = un(path);
	return bind(fd, (struct sockaddr *)&a, sizeof(a));
}

static int connect_path(int fd, const char *path)
{
	struct sockaddr_un a = un(path);
	return connect(fd, (struct sockaddr *)&a, sizeof(a));
}

static void send_fds(int sock, const int *fds, int n)
{
	char byte = 'x';
	struct iovec iov = {&byte, 1};
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = u.buf,
			   .msg_controllen = CMSG_SPACE(n * sizeof(int))};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	CHECK(sendmsg(sock, &m, 0) == 1);
}

/* Receives up to 4 fds; returns how many. */
static int recv_fds(int sock, int *fds, int flags)
{
	char byte;
	struct iovec iov = {&byte, 1};
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	CHECK(recvmsg(sock, &m, flags) == 1 && byte == 'x');
	CHECK(!(m.msg_flags & MSG_CTRUNC));
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	CHECK(c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS);
	int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
	memcpy(fds, CMSG_DATA(c), n * sizeof(int));
	return n;
}

/* The parent hands a file and a pipe's write end to its child over a
 * socketpair; the child reads the file and answers through the pipe. */
static void pass_fds(void)
{
	static const char text[] = "read through a passed fd\n";
	int sv[2], p[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK(fcntl(sv[0], F_GETFD) == FD_CLOEXEC);
	int file = open("/vol/passed", O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(file >= 0 &&
	      write(file, text, strlen(text)) == (ssize_t)strlen(text));
	CHECK(pipe(p) == 0);
	pid_t pid = fork_checked();
	if (pid == 0) {
		int fds[4], n = recv_fds(sv[1], fds, MSG_CMSG_CLOEXEC);
		char buf[64] = {0};
		if (n != 2 || fcntl(fds[0], F_GETFD) != FD_CLOEXEC)
			_exit(2);
		if (pread(fds[0], buf, sizeof(buf), 0) != (ssize_t)strlen(text))
			_exit(3);
		if (write(fds[1], buf, strlen(buf)) != (ssize_t)strlen(text))
			_exit(4);
		_exit(0);
	}
	int fds[2] = {file, p[1]};
	send_fds(sv[0], fds, 2);
	close(p[1]);
	char buf[64];
	CHECK(read_all(p[0], buf, sizeof(buf)) == strlen(text));
	CHECK(strcmp(buf, text) == 0);
	wait_exit(pid, 0);
	/* Without MSG_CMSG_CLOEXEC the new fd is inheritable; it is the same
	 * open file. */
	int got[4];
	send_fds(sv[0], &file, 1);
	CHECK(recv_fds(sv[1], got, 0) == 1);
	CHECK(got[0] != file && fcntl(got[0], F_GETFD) == 0);
	struct stat a, b;
	CHECK(fstat(file, &a) == 0 && fstat(got[0], &b) == 0);
	CHECK(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	CHECK(lseek(got[0], 0, SEEK_CUR) == (off_t)strlen(text));
	/* fstat, FIONREAD and SIOCOUTQ on a socket. */
	CHECK(fstat(sv[0], &a) == 0 && S_ISSOCK(a.st_mode));
	CHECK(write(sv[0], "12345", 5) == 5);
	int q = -1;
	CHECK(ioctl(sv[1], FIONREAD, &q) == 0 && q == 5);
	CHECK(ioctl(sv[0], TIOCOUTQ, &q) == 0);
	CHECK(shutdown(sv[0], SHUT_WR) == 0);
	CHECK(read_all(sv[1], buf, sizeof(buf)) == 5);
	close(got[0]), close(file), close(sv[0]), close(sv[1]), close(p[0]);
}

/* SCM_CREDENTIALS passes as data: the host checks it against the
 * sender, whose pid is the guest's. */
static void credentials(void)
{
	int sv[2], one = 1;
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
	CHECK(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, 4) == 0);
	struct ucred cr = {getpid(), getuid(), getgid()};
	char byte = 'c';
	struct iovec iov = {&byte, 1};
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} u;
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof(cr));
	memcpy(CMSG_DATA(c), &cr, sizeof(cr));
	CHECK(sendmsg(sv[0], &m, 0) == 1);
	memset(u.buf, 0, sizeof(u.buf));
	CHECK(recvmsg(sv[1], &m, 0) == 1);
	c = CMSG_FIRSTHDR(&m);
	CHECK(c && c->cmsg_type == SCM_CREDENTIALS);
	memcpy(&cr, CMSG_DATA(c), sizeof(cr));
	CHECK(cr.pid == getpid() && cr.uid == getuid());
	close(sv[0]), close(sv[1]);
}

/* SEQPACKET and DGRAM keep message boundaries. */
static void boundaries(void)
{
	int types[2] = {SOCK_SEQPACKET, SOCK_DGRAM};
	for (int i = 0; i < 2; i++) {
		int sv[2];
		char buf[16];
		CHECK(socketpair(AF_UNIX, types[i], 0, sv) == 0);
		CHECK(send(sv[0], "abc", 3, 0) == 3);
		CHECK(send(sv[0], "defgh", 5, 0) == 5);
		CHECK(recv(sv[1], buf, sizeof(buf), 0) == 3);
		CHECK(recv(sv[1], buf, sizeof(buf), 0) == 5);
		CHECK(memcmp(buf, "defgh", 5) == 0);
		CHECK(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) == -1 &&
		      errno == EAGAIN);
		close(sv[0]), close(sv[1]);
	}
}

/* A server on /vol/srv.sock and a client in a child process. */
static void server_client(void)
{
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(l >= 0 && bind_path(l, "/vol/srv.sock") == 0);
	CHECK(listen(l, 4) == 0);
	struct sockaddr_un a;
	socklen_t len = sizeof(a);
	CHECK(getsockname(l, (struct sockaddr *)&a, &len) == 0);
	CHECK(strcmp(a.sun_path, "/vol/srv.sock") == 0);
	CHECK(len == offsetof(struct sockaddr_un, sun_path) + 14);
	struct stat st;
	CHECK(stat("/vol/srv.sock", &st) == 0 && S_ISSOCK(st.st_mode));
	pid_t pid = fork_checked();
	if (pid == 0) {
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		char buf[8];
		if (c < 0 || connect_path(c, "/vol/srv.sock") != 0)
			_exit(2);
		len = sizeof(a);
		if (getpeername(c, (struct sockaddr *)&a, &len) != 0 ||
		    a.sun_family != AF_UNIX || strstr(a.sun_path, "/proc"))
			_exit(3);
		if (write(c, "ping", 4) != 4 || read(c, buf, 4) != 4 ||
		    memcmp(buf, "pong", 4))
			_exit(4);
		_exit(0);
	}
	len = sizeof(a);
	int s = accept4(l, (struct sockaddr *)&a, &len, SOCK_CLOEXEC);
	CHECK(s >= 0 && fcntl(s, F_GETFD) == FD_CLOEXEC);
	CHECK(len == sizeof(sa_family_t) && a.sun_family == AF_UNIX);
	char buf[8];
	CHECK(read(s, buf, 4) == 4 && memcmp(buf, "ping", 4) == 0);
	CHECK(write(s, "pong", 4) == 4);
	len = sizeof(a);
	CHECK(getsockname(s, (struct sockaddr *)&a, &len) == 0);
	CHECK(strcmp(a.sun_path, "/vol/srv.sock") == 0);
	wait_exit(pid, 0);
	/* The name is taken; relative names resolve against the cwd. */
	int d = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK_ERR(bind_path(d, "/vol/srv.sock"), EADDRINUSE);
	CHECK(chdir("/vol") == 0 && bind_path(d, "rel.sock") == 0);
	len = sizeof(a);
	CHECK(getsockname(d, (struct sockaddr *)&a, &len) == 0);
	CHECK(strcmp(a.sun_path, "rel.sock") == 0);
	int e = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un to = un("/vol/rel.sock");
	CHECK(sendto(e, "dg", 2, 0, (struct sockaddr *)&to, sizeof(to)) == 2);
	len = sizeof(a);
	CHECK(recvfrom(d, buf, sizeof(buf), 0, (struct sockaddr *)&a, &len) ==
	      2);
	CHECK(len == 0); /* an unbound sender has no name */
	CHECK(bind_path(e, "/vol/e.sock") == 0);
	CHECK(send(e, "x", 1, 0) == -1); /* not connected */
	CHECK(connect_path(e, "rel.sock") == 0 && send(e, "y", 1, 0) == 1);
	len = sizeof(a);
	CHECK(recvfrom(d, buf, sizeof(buf), 0, (struct sockaddr *)&a, &len) ==
	      1);
	CHECK(a.sun_family == AF_UNIX && !strstr(a.sun_path, "/proc"));
	CHECK(chdir("/") == 0);
	close(l), close(s), close(d), close(e);
}

/* Names outside the rw volume, through .. or symlinks, are refused; what
 * is not a socket cannot be connected to. */
static void escapes(void)
{
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(s >= 0);
	CHECK_ERR(bind_path(s, "/tmp/mote-net-escape.sock"), EROFS);
	CHECK_ERR(bind_path(s, "/vol/../../mote-net-escape.sock"), EROFS);
	/* An absolute symlink resolves inside the volume, where there is no
	 * such directory. */
	unlink("/vol/abs");
	CHECK(symlink("/tmp", "/vol/abs") == 0);
	CHECK_ERR(bind_path(s, "/vol/abs/escape.sock"), ENOENT);
	unlink("/vol/up");
	CHECK(symlink("../../../../../../../tmp", "/vol/up") == 0);
	CHECK_ERR(bind_path(s, "/vol/up/escape.sock"), ENOENT);
	CHECK_ERR(connect_path(s, "/vol/up/escape.sock"), ENOENT);
	unlink("/vol/side");
	CHECK(symlink("../tmp", "/vol/side") == 0);
	CHECK_ERR(bind_path(s, "/vol/side/escape.sock"), ENOENT);
	CHECK_ERR(connect_path(s, "/vol/nothere.sock"), ENOENT);
	int f = open("/vol/plain", O_WRONLY | O_CREAT, 0600);
	CHECK(f >= 0);
	close(f);
	CHECK_ERR(connect_path(s, "/vol/plain"), ECONNREFUSED);
	close(s);
}

static volatile int alarms;
static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void arm(int flags)
{
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = flags};
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
	struct itimerval it = {{0, 0}, {0, 100000}};
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
}

/* accept and recv block until a signal ends them (EINTR), or go on
 * through it with SA_RESTART. */
static void interrupts(void)
{
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(l >= 0 && bind_path(l, "/vol/intr.sock") == 0 &&
	      listen(l, 1) == 0);
	arm(0);
	CHECK_ERR(accept(l, NULL, NULL), EINTR);
	CHECK(alarms == 1);
	int sv[2];
	char c;
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	arm(0);
	CHECK_ERR(recv(sv[0], &c, 1, 0), EINTR);
	CHECK(alarms == 2);
	pid_t pid = fork_checked();
	if (pid == 0) {
		usleep(400000);
		_exit(write(sv[1], "z", 1) == 1 ? 0 : 2);
	}
	arm(SA_RESTART);
	CHECK(recv(sv[0], &c, 1, 0) == 1 && c == 'z');
	CHECK(alarms == 3);
	wait_exit(pid, 0);
	close(l), close(sv[0]), close(sv[1]);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "escape") == 0) {
		escapes();
		success();
	}
	if (argc > 3 && strcmp(argv[1], "connect") == 0) {
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		CHECK_ERR(connect_path(s, argv[2]), atoi(argv[3]));
		success();
	}
	pass_fds();
	credentials();
	boundaries();
	server_client();
	escapes();
	interrupts();
	success();
}
