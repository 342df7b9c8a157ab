/* The 8250/16550A UART of the serial console: the registers Linux's 8250
 * driver uses (RBR/THR, IER, IIR/FCR, LCR, MCR, LSR, MSR, SCR, DLL/DLM),
 * loopback, and IRQ 4 raised through the in-kernel irqchip. */
#include "dev/uart.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "stream.h"
#include "vm/plain.h"

enum {
	IER_RDI = 0x01,
	IER_THRI = 0x02,
	IIR_NONE = 0x01,
	IIR_THRI = 0x02,
	IIR_RDI = 0x04,
	IIR_FIFO = 0xc0,
	LCR_DLAB = 0x80,
	MCR_LOOP = 0x10,
	LSR_DR = 0x01,
	LSR_THRE = 0x20,
	LSR_TEMT = 0x40,
	MSR_DCD = 0x80,
	MSR_DSR = 0x20,
	MSR_CTS = 0x10,
};

void uart_init(struct uart *u, struct vm *vm, unsigned irq, int out_fd)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
	u->vm = vm;
	u->irq = irq;
	u->out_fd = out_fd;
	u->dll = 12; /* 9600 baud, as after a BIOS */
}

/* Called with the lock held: the line follows the pending interrupts. */
static void uart_update(struct uart *u)
{
	bool level = ((u->ier & IER_RDI) && u->rx_count) ||
		     ((u->ier & IER_THRI) && u->thr_pending);
	if (level != u->irq_level) {
		u->irq_level = level;
		vm_irq_line(u->vm, u->irq, level);
	}
}

static void uart_rx_push(struct uart *u, uint8_t b)
{
	if (u->rx_count == UART_RX_SIZE)
		return; /* overrun: the byte is lost, as on the hardware */
	u->rx[(u->rx_head + u->rx_count) % UART_RX_SIZE] = b;
	u->rx_count++;
}

static void uart_tx(struct uart *u, uint8_t b)
{
	if (u->mcr & MCR_LOOP) {
		uart_rx_push(u, b);
	} else {
		/* The console is best effort: a closed stdout loses output,
		 * the guest goes on. */
		while (write(u->out_fd, &b, 1) < 0 && errno == EINTR)
			;
		u->out_bytes++;
	}
	u->thr_pending = true; /* sent at once: the THR is empty again */
}

static uint8_t uart_iir(struct uart *u)
{
	uint8_t fifo = (u->fcr & 1) ? IIR_FIFO : 0;
	if ((u->ier & IER_RDI) && u->rx_count)
		return IIR_RDI | fifo;
	if ((u->ier & IER_THRI) && u->thr_pending) {
		u->thr_pending = false; /* reading IIR clears it */
		return IIR_THRI | fifo;
	}
	return IIR_NONE | fifo;
}

static uint8_t uart_msr(const struct uart *u)
{
	if (!(u->mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	return (uint8_t)(((u->mcr & 0x0c) << 4) | ((u->mcr & 0x02) << 3) |
			 ((u->mcr & 0x01) << 5));
}

static uint8_t uart_read(struct uart *u, uint16_t off)
{
	bool dlab = u->lcr & LCR_DLAB;
	uint8_t v;
	switch (off) {
	case 0:
		if (dlab)
			return u->dll;
		if (!u->rx_count)
			return 0;
		v = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % UART_RX_SIZE;
		u->rx_count--;
		return v;
	case 1: return dlab ? u->dlm : u->ier;
	case 2: return uart_iir(u);
	case 3: return u->lcr;
	case 4: return u->mcr;
	case 5: return LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0);
	case 6: return uart_msr(u);
	default: return u->scr;
	}
}

static void uart_write(struct uart *u, uint16_t off, uint8_t v)
{
	bool dlab = u->lcr & LCR_DLAB;
	switch (off) {
	case 0:
		if (dlab)
			u->dll = v;
		else
			uart_tx(u, v);
		break;
	case 1:
		if (dlab) {
			u->dlm = v;
			break;
		}
		/* Enabling the THR interrupt with the THR empty raises it. */
		if ((v & IER_THRI) && !(u->ier & IER_THRI))
			u->thr_pending = true;
		u->ier = v & 0x0f;
		break;
	case 2:
		u->fcr = v & 0xc9;
		if (v & 2)
			u->rx_count = 0;
		break;
	case 3: u->lcr = v; break;
	case 4: u->mcr = v & 0x1f; break;
	case 7: u->scr = v; break;
	default: break; /* LSR and MSR are read-only */
	}
}

static uint32_t uart_in(void *dev, uint16_t off, unsigned size)
{
	struct uart *u = dev;
	pthread_mutex_lock(&u->lock);
	uint32_t v = uart_read(u, off);
	uart_update(u);
	pthread_mutex_unlock(&u->lock);
	/* A wider access reads the register and all-ones above it. */
	return size == 1 ? v : v | (0xffffffffu << 8);
}

static void uart_out(void *dev, uint16_t off, unsigned size, uint32_t val)
{
	struct uart *u = dev;
	pthread_mutex_lock(&u->lock);
	uart_write(u, off, (uint8_t)val);
	uart_update(u);
	pthread_mutex_unlock(&u->lock);
}

struct ioport_dev uart_ioport(struct uart *u, uint16_t base)
{
	return (struct ioport_dev){
		.name = "8250",
		.base = base,
		.len = 8,
		.in = uart_in,
		.out = uart_out,
		.dev = u,
	};
}

unsigned uart_feed(struct uart *u, const uint8_t *buf, unsigned len)
{
	pthread_mutex_lock(&u->lock);
	unsigned n = 0;
	for (; n < len && u->rx_count < UART_RX_SIZE; n++)
		uart_rx_push(u, buf[n]);
	uart_update(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

void uart_save(const struct uart *u, struct wbuf *w)
{
	uint8_t regs[7] = {u->ier, u->lcr, u->mcr, u->scr,
			   u->fcr, u->dll, u->dlm};
	uint8_t flags = (uint8_t)(u->thr_pending | u->irq_level << 1);
	uint32_t n = u->rx_count;
	W(w, regs);
	W(w, flags);
	W(w, n);
	for (unsigned i = 0; i < n; i++)
		W(w, u->rx[(u->rx_head + i) % UART_RX_SIZE]);
}

bool uart_load(struct uart *u, struct rbuf *r)
{
	uint8_t regs[7], flags;
	uint32_t n;
	R(r, regs);
	R(r, flags);
	R(r, n);
	if (r->bad || n > UART_RX_SIZE || flags > 3)
		return false;
	r_bytes(r, u->rx, n);
	u->ier = regs[0] & 0x0f;
	u->lcr = regs[1];
	u->mcr = regs[2] & 0x1f;
	u->scr = regs[3];
	u->fcr = regs[4] & 0xc9;
	u->dll = regs[5];
	u->dlm = regs[6];
	u->thr_pending = flags & 1;
	u->rx_head = 0;
	u->rx_count = n;
	/* The irqchip's state came back with the line as it was; this
	 * tells KVM's own record of the level (a new VM's is low). */
	u->irq_level = false;
	uart_update(u);
	return !r->bad;
}
