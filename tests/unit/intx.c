/* Shared level-triggered interrupt lines (src/dev/intx.c): a line is the
 * OR of its sources, the irqchip hears of changes alone, and no source
 * lowers another's level. */
#include <string.h>

#include "dev/intx.h"
#include "unit.h"

static int level[INTX_LINES];
static unsigned calls;

static void set_line(void *arg, unsigned line, int l)
{
	CHECK(arg == &calls && line < INTX_LINES);
	level[line] = l;
	calls++;
}

static struct intx x;
static struct intx_src a = {&x, 0}, b = {&x, 31};

static void reset(void)
{
	memset(level, 0, sizeof(level));
	calls = 0;
	intx_init(&x, set_line, &calls);
}

static void shared_line(void)
{
	reset();
	intx_set(&a, 10, 1);
	CHECK(level[10] == 1 && calls == 1);
	intx_set(&b, 10, 1); /* already high: nothing to tell */
	intx_set(&a, 10, 1);
	CHECK(calls == 1);
	intx_set(&a, 10, 0); /* b still holds it */
	CHECK(level[10] == 1 && calls == 1);
	intx_set(&a, 10, 0);
	CHECK(calls == 1);
	intx_set(&b, 10, 0);
	CHECK(level[10] == 0 && calls == 2);
	intx_set(&b, 10, 0); /* low already */
	CHECK(calls == 2);
}

static void lines_apart(void)
{
	reset();
	intx_set(&a, 10, 1);
	intx_set(&b, 11, 1);
	CHECK(level[10] == 1 && level[11] == 1 && calls == 2);
	intx_set(&b, 10, 0); /* b never held 10 */
	CHECK(level[10] == 1 && calls == 2);
	intx_set(&a, 10, 0);
	CHECK(level[10] == 0 && level[11] == 1 && calls == 3);
}

static void out_of_range(void)
{
	struct intx_src bad = {&x, INTX_SOURCES};
	reset();
	intx_set(&a, INTX_LINES, 1);
	intx_set(&bad, 10, 1);
	CHECK(calls == 0 && x.held[10] == 0);
}

static void cases(void)
{
	RUN(shared_line);
	RUN(lines_apart);
	RUN(out_of_range);
}

int main(void)
{
	return unit_main(cases, NULL);
}
