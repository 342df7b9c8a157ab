/* A server snapshotted while it listens: binds 127.0.0.1:PORT (argv[1]),
 * listens, saves itself through /dev/mote-snapshot, then serves one
 * connection: writes "hello from a VM of generation GEN" (the VM
 * generation /dev/mote-snapshot reads) and exits 0. The original and every
 * restored or migrated copy serve on the same address, the socket made
 * anew by restore. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	int s = socket(AF_INET, SOCK_STREAM, 0), on = 1;
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port =
					htons((unsigned short)atoi(argv[1])),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 8) < 0) {
		perror("listen");
		return 3;
	}
	printf("listening\n");
	fflush(stdout);
	int d = open("/dev/mote-snapshot", O_RDWR);
	if (argc < 3 && (d < 0 || write(d, "s", 1) != 1)) {
		perror("snapshot");
		return 4;
	}
	char gen[34] = {0};
	if (d >= 0)
		pread(d, gen, 32, 0);
	int c = accept(s, NULL, NULL);
	if (c < 0) {
		perror("accept");
		return 5;
	}
	dprintf(c, "hello from a VM of generation %s\n", gen);
	close(c);
	return 0;
}
