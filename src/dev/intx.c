/* Shared level-triggered interrupt lines (intx.h): each line is the OR of
 * its sources' levels, told to the irqchip when it changes. */
#include "dev/intx.h"

#include <string.h>

#include "stream.h"

void intx_init(struct intx *x, intx_line_fn set_line, void *arg)
{
	memset(x, 0, sizeof(*x));
	pthread_mutex_init(&x->lock, NULL);
	x->set_line = set_line;
	x->arg = arg;
}

void intx_set(void *src, unsigned line, int level)
{
	struct intx_src *s = src;
	struct intx *x = s->x;
	if (line >= INTX_LINES || s->id >= INTX_SOURCES)
		return;
	uint32_t bit = 1u << s->id;
	pthread_mutex_lock(&x->lock);
	uint32_t was = x->held[line];
	x->held[line] = level ? was | bit : was & ~bit;
	if (!was != !x->held[line])
		x->set_line(x->arg, line, x->held[line] != 0);
	pthread_mutex_unlock(&x->lock);
}

void intx_save(struct intx *x, struct wbuf *w)
{
	pthread_mutex_lock(&x->lock);
	W(w, x->held);
	pthread_mutex_unlock(&x->lock);
}

bool intx_load(struct intx *x, unsigned nsources, struct rbuf *r)
{
	uint32_t held[INTX_LINES];
	R(r, held);
	uint32_t mask = nsources >= 32 ? ~0u : (1u << nsources) - 1;
	for (unsigned i = 0; i < INTX_LINES; i++)
		if (held[i] & ~mask)
			return false;
	if (r->bad)
		return false;
	pthread_mutex_lock(&x->lock);
	for (unsigned i = 0; i < INTX_LINES; i++) {
		x->held[i] = held[i];
		if (held[i])
			x->set_line(x->arg, i, 1);
	}
	pthread_mutex_unlock(&x->lock);
	return true;
}
