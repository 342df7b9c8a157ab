/* mote boot's devices on their own, no KVM: the UART's registers with its
 * interrupts off (so it never raises a line), loopback and output; the
 * CMOS's time (BCD) and RAM. */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dev/cmos.h"
#include "dev/uart.h"
#include "unit.h"

static uint8_t in8(const struct ioport_dev *d, uint16_t off)
{
	return (uint8_t)d->in(d->dev, off, 1);
}
static void out8(const struct ioport_dev *d, uint16_t off, uint8_t v)
{
	d->out(d->dev, off, 1, v);
}

static void uart_registers(void)
{
	static struct uart u;
	int p[2];
	CHECK(pipe(p) == 0);
	uart_init(&u, NULL, 4, p[1]);
	struct ioport_dev d = uart_ioport(&u, 0x3f8);
	out8(&d, 7, 0x5a);
	CHECK(in8(&d, 7) == 0x5a);	    /* scratch */
	CHECK((in8(&d, 5) & 0x60) == 0x60); /* THR empty */
	CHECK((in8(&d, 2) & 0x0f) == 0x01); /* no interrupt */
	out8(&d, 2, 0x07);
	CHECK((in8(&d, 2) & 0xc0) == 0xc0); /* FIFOs: a 16550A */
	out8(&d, 3, 0x80);		    /* DLAB */
	out8(&d, 0, 0x01);
	out8(&d, 1, 0x00);
	CHECK(in8(&d, 0) == 0x01 && in8(&d, 1) == 0x00);
	out8(&d, 3, 0x03);
	out8(&d, 0, 'A'); /* to the pipe */
	char c = 0;
	CHECK(read(p[0], &c, 1) == 1 && c == 'A');
	out8(&d, 4, 0x10 | 0x0a); /* loopback, OUT2, RTS */
	CHECK((in8(&d, 6) & 0xf0) == 0x90);
	out8(&d, 0, 'B'); /* loops back to RBR */
	CHECK((in8(&d, 5) & 1) && in8(&d, 0) == 'B');
	CHECK(!(in8(&d, 5) & 1));
	CHECK(uart_feed(&u, (const uint8_t *)"xyz", 3) == 3);
	CHECK(in8(&d, 0) == 'x');
	close(p[0]);
	close(p[1]);
}

static void uart_feed_full(void)
{
	static struct uart u;
	static uint8_t big[1000];
	uart_init(&u, NULL, 4, -1);
	CHECK(uart_feed(&u, big, sizeof(big)) == UART_RX_SIZE);
	CHECK(uart_feed(&u, big, 1) == 0);
}

static void cmos_clock(void)
{
	static struct cmos c;
	cmos_init(&c);
	struct ioport_dev d = cmos_ioport(&c);
	CHECK(in8(&d, 0) == 0xff);
	out8(&d, 0, 0x0b);
	CHECK((in8(&d, 1) & 0x06) == 0x02); /* BCD, 24-hour */
	out8(&d, 1, 0x04);		    /* the guest asks for binary */
	CHECK((in8(&d, 1) & 0x06) == 0x02);
	out8(&d, 0, 0x8a);	     /* reg A, NMI bit set */
	CHECK(!(in8(&d, 1) & 0x80)); /* no update in progress */
	out8(&d, 0, 0x0d);
	out8(&d, 1, 0);
	CHECK(in8(&d, 1) & 0x80); /* valid, whatever the guest writes */
	out8(&d, 0, 0x32);
	uint8_t century = in8(&d, 1);
	out8(&d, 0, 0x09);
	uint8_t year = in8(&d, 1);
	struct tm tm;
	time_t now = time(NULL);
	gmtime_r(&now, &tm);
	int bcd_year = (century >> 4) * 1000 + (century & 15) * 100 +
		       (year >> 4) * 10 + (year & 15);
	CHECK(bcd_year == tm.tm_year + 1900);
	out8(&d, 0, 0x00);
	uint8_t sec = in8(&d, 1);
	CHECK((sec & 15) < 10 && (sec >> 4) < 6);
	out8(&d, 0, 0x40);
	out8(&d, 1, 0x77);
	CHECK(in8(&d, 1) == 0x77); /* RAM */
}

static void cases(void)
{
	RUN(uart_registers);
	RUN(uart_feed_full);
	RUN(cmos_clock);
}

int main(void)
{
	return unit_main(cases, NULL);
}
