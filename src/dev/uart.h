/* The 8250/16550A UART of a Linux guest's serial console (ttyS0, ports
 * 0x3f8-0x3ff, IRQ 4): THR to an output fd, RBR from input bytes that
 * the console thread feeds (console.c). */
#ifndef MOTE_DEV_UART_H
#define MOTE_DEV_UART_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "dev/ioport.h"

#define UART_COM1     0x3f8
#define UART_COM1_IRQ 4
#define UART_RX_SIZE  256

struct vm;

struct uart {
	pthread_mutex_t lock; /* the vCPU thread and the console thread */
	struct vm *vm;
	unsigned irq;
	int out_fd;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thr_pending; /* a THR-empty interrupt not yet seen in IIR */
	bool irq_level;
	uint8_t rx[UART_RX_SIZE];
	unsigned rx_head, rx_count;
	uint64_t out_bytes;
};

void uart_init(struct uart *u, struct vm *vm, unsigned irq, int out_fd);
/* The bus entry for u at base. */
struct ioport_dev uart_ioport(struct uart *u, uint16_t base);
/* Queues input bytes for the guest; returns how many fit. */
unsigned uart_feed(struct uart *u, const uint8_t *buf, unsigned len);

/* A snapshot of u (mote boot's): its registers, the pending THR
 * interrupt, its line's level and the input not yet read. uart_load
 * sets them into u (uart_init'd, its VM's irqchip set) and raises the
 * line if it was high: false on a malformed record. Both under the
 * caller's hold of u->lock. */
struct wbuf;
struct rbuf;
void uart_save(const struct uart *u, struct wbuf *w);
bool uart_load(struct uart *u, struct rbuf *r);

#endif
