/* A guest with state worth restoring: a linked list built in memory, a
 * file read part-way, a pipe and a socket pair with data in them, a memfd.
 * It snapshots itself, then reads on. Every line it prints after the
 * snapshot must be the same in the original and in each clone (the pipe
 * and the socket pair come back with their bytes), but for the memfd,
 * which cannot come back: there it reads end-of-file.
 *
 * usage: state FILE */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

struct node {
	struct node *next;
	uint64_t v;
};

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	struct node *head = NULL;
	uint64_t x = 88172645463325252ULL;
	for (int i = 0; i < 100000; i++) {
		struct node *n = malloc(sizeof(*n));
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		n->v = x;
		n->next = head;
		head = n;
	}
	int fd = open(argv[1], O_RDONLY);
	char buf[16] = {0};
	if (fd < 0 || read(fd, buf, 10) != 10)
		return 3;
	int pp[2];
	int sv[2];
	if (pipe(pp) < 0 || write(pp[1], "piped", 5) != 5 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 ||
	    write(sv[1], "sock", 4) != 4)
		return 4;
	int mfd = memfd_create("state", 0);
	if (mfd < 0 || write(mfd, "mem", 3) != 3 || lseek(mfd, 0, SEEK_SET))
		return 4;
	int s = open("/dev/mote-snapshot", O_RDWR);
	char gen[34] = {0}, now[34] = {0};
	if (s < 0 || read(s, gen, 33) != 33) {
		perror("/dev/mote-snapshot");
		return 5;
	}
	long w = write(s, "x", 1);
	if (w != 1) {
		perror("snapshot");
		return 6;
	}
	if (pread(s, now, 33, 0) != 33)
		return 7;
	int clone = strcmp(gen, now) != 0;
	memset(buf, 0, sizeof(buf));
	long n = read(fd, buf, 10);
	uint64_t sum = 0;
	for (struct node *p = head; p; p = p->next)
		sum = sum * 31 + p->v;
	printf("file %ld [%s] sum %016llx\n", n, buf, (unsigned long long)sum);
	char pb[8] = {0};
	long pn = read(pp[0], pb, sizeof(pb) - 1);
	printf("%s pipe %ld [%s]\n", clone ? "clone" : "original", pn, pb);
	char sb[8] = {0};
	long sn = read(sv[0], sb, sizeof(sb) - 1);
	printf("%s socket %ld [%s]\n", clone ? "clone" : "original", sn, sb);
	char mb[8] = {0};
	long mn = read(mfd, mb, sizeof(mb) - 1);
	printf("%s memfd %ld [%s]\n", clone ? "clone" : "original", mn, mb);
	return 0;
}
