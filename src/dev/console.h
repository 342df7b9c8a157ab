/* The serial console's input side: a thread that reads mote's stdin (raw
 * when it is a terminal) into the UART, with QEMU's Ctrl-A x to quit. */
#ifndef MOTE_DEV_CONSOLE_H
#define MOTE_DEV_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <termios.h>

#include "dev/uart.h"

struct console {
	struct uart *uart;
	int in_fd;
	bool tty; /* in_fd is a terminal, put in raw mode */
	struct termios saved;
	pthread_t thread;
	bool started;
	/* Called on the console thread when the user types Ctrl-A x. */
	void (*quit)(void *ctx);
	void *ctx;
};

/* Starts reading in_fd into u. The caller blocks the signals it uses to
 * kick its vCPUs before, so that they reach the vCPU threads alone.
 * 0, or -1 with errno. */
int console_start(struct console *c, struct uart *u, int in_fd,
		  void (*quit)(void *ctx), void *ctx);
/* Puts the terminal back as it was. */
void console_restore(struct console *c);

#endif
