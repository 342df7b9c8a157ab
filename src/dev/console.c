/* The serial console's input: mote's stdin, raw when a terminal, fed to
 * the UART by its own thread; Ctrl-A x quits and Ctrl-A Ctrl-A sends a
 * Ctrl-A, as in QEMU. */
#include "dev/console.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CTRL_A 0x01

static void console_send(struct console *c, const uint8_t *b, unsigned n)
{
	/* The UART holds 256 bytes: wait for the guest to read them. */
	while (n) {
		unsigned k = uart_feed(c->uart, b, n);
		b += k;
		n -= k;
		if (n)
			nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	}
}

/* Ctrl-A then x quits; on a terminal alone (a pipe's bytes are data). */
static void console_bytes(struct console *c, const uint8_t *b, unsigned n,
			  bool *esc)
{
	for (unsigned i = 0; i < n; i++) {
		if (*esc) {
			*esc = false;
			if (b[i] == 'x') {
				c->quit(c->ctx);
				return;
			}
			if (b[i] != CTRL_A)
				console_send(c, &(uint8_t){CTRL_A}, 1);
			console_send(c, &b[i], 1);
		} else if (c->tty && b[i] == CTRL_A) {
			*esc = true;
		} else {
			console_send(c, &b[i], 1);
		}
	}
}

static void *console_main(void *arg)
{
	struct console *c = arg;
	uint8_t buf[256];
	bool esc = false;
	for (;;) {
		ssize_t n = read(c->in_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL; /* end of input: the guest reads nothing
					more */
		console_bytes(c, buf, (unsigned)n, &esc);
	}
}

int console_start(struct console *c, struct uart *u, int in_fd,
		  void (*quit)(void *ctx), void *ctx)
{
	memset(c, 0, sizeof(*c));
	c->uart = u;
	c->in_fd = in_fd;
	c->quit = quit;
	c->ctx = ctx;
	if (isatty(in_fd) && tcgetattr(in_fd, &c->saved) == 0) {
		struct termios raw = c->saved;
		cfmakeraw(&raw);
		raw.c_oflag |= OPOST; /* mote's own lines keep their \r\n */
		if (tcsetattr(in_fd, TCSANOW, &raw) == 0)
			c->tty = true;
	}
	int err = pthread_create(&c->thread, NULL, console_main, c);
	if (err) {
		console_restore(c);
		errno = err;
		return -1;
	}
	pthread_detach(c->thread);
	c->started = true;
	return 0;
}

void console_restore(struct console *c)
{
	if (c->tty)
		tcsetattr(c->in_fd, TCSANOW, &c->saved);
	c->tty = false;
}
