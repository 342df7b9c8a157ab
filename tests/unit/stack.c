/* stack_build: the SysV x86-64 initial stack, its alignment and its bounds. */
#include <elf.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lx/stack.h"
#include "unit.h"

#define ARENA	  0x4000
#define CANARY	  0xa5
#define GUEST_TOP 0x7fff0000ULL

/* The host buffer that stands for guest memory below GUEST_TOP; the part
 * above the top exists only to catch stray writes. */
static _Alignas(16) uint8_t arena[ARENA];
static uint8_t *const host_top = arena + ARENA - 256;

static uint8_t *host(uint64_t gva)
{
	return host_top - (GUEST_TOP - gva);
}

static bool in_stack(uint64_t gva, uint64_t rsp, uint64_t len)
{
	return gva >= rsp && gva < GUEST_TOP && len <= GUEST_TOP - gva;
}

static uint64_t word(uint64_t rsp, size_t i)
{
	uint64_t w;
	memcpy(&w, host(rsp + 8 * i), 8);
	return w;
}

static bool str_at(uint64_t rsp, uint64_t gva, const char *s)
{
	return in_stack(gva, rsp, strlen(s) + 1) &&
	       memcmp(host(gva), s, strlen(s) + 1) == 0;
}

/* Checks a NULL-terminated vector at word i; returns the index after it. */
static size_t check_vec(uint64_t rsp, size_t i, char *const *v)
{
	for (; v && *v; v++, i++)
		CHECK(str_at(rsp, word(rsp, i), *v));
	CHECK(word(rsp, i) == 0);
	return i + 1;
}

static void check_auxv(uint64_t rsp, size_t i, const struct stack_image *im)
{
	for (int a = 0; a < im->nauxv; a++, i += 2) {
		CHECK(word(rsp, i) == im->auxv[a][0]);
		CHECK(word(rsp, i + 1) == im->auxv[a][1]);
	}
	CHECK(word(rsp, i) == AT_RANDOM);
	uint64_t r = word(rsp, i + 1);
	CHECK(in_stack(r, rsp, 16) && memcmp(host(r), im->random, 16) == 0);
	CHECK(word(rsp, i + 2) == AT_EXECFN);
	CHECK(str_at(rsp, word(rsp, i + 3), im->execfn));
	CHECK(word(rsp, i + 4) == AT_PLATFORM);
	CHECK(str_at(rsp, word(rsp, i + 5), "x86_64"));
	CHECK(word(rsp, i + 6) == AT_NULL && word(rsp, i + 7) == 0);
}

static size_t count(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

static void check_layout(uint64_t rsp, const struct stack_image *im)
{
	CHECK(rsp != 0 && rsp % 16 == 0 && rsp < GUEST_TOP);
	if (!rsp)
		return;
	CHECK(word(rsp, 0) == count(im->argv));
	size_t i = check_vec(rsp, 1, im->argv);
	i = check_vec(rsp, i, im->envp);
	check_auxv(rsp, i, im);
}

static void init_image(struct stack_image *im, char *const *argv,
		       char *const *envp, int nauxv)
{
	memset(im, 0, sizeof(*im));
	im->argv = argv;
	im->envp = envp;
	im->execfn = argv && argv[0] ? argv[0] : "/bin/prog";
	im->platform = "x86_64";
	for (int i = 0; i < 16; i++)
		im->random[i] = 0x10 + i;
	for (int i = 0; i < nauxv; i++) {
		im->auxv[i][0] = AT_PAGESZ + i;
		im->auxv[i][1] = 0x1000 * (i + 1);
	}
	im->nauxv = nauxv;
}

static bool canaries_ok(uint64_t room)
{
	for (uint8_t *p = arena; p < arena + ARENA; p++)
		if ((p < host_top - room || p >= host_top) && *p != CANARY)
			return false;
	return true;
}

static uint64_t build(const struct stack_image *im, uint64_t room)
{
	memset(arena, CANARY, sizeof(arena));
	return stack_build(im, host_top, GUEST_TOP, room);
}

static void stack_layout(void)
{
	char *argv[] = {"/usr/bin/prog", "-x", "a longer argument", NULL};
	char *envp[] = {"HOME=/root", "PATH=/bin", NULL};
	struct stack_image im;
	init_image(&im, argv, envp, 5);
	uint64_t rsp = build(&im, 0x2000);
	check_layout(rsp, &im);
	CHECK(canaries_ok(0x2000));
}

static void stack_empty(void)
{
	char *none[] = {NULL};
	struct stack_image im;
	init_image(&im, none, none, 0);
	check_layout(build(&im, 0x2000), &im);
	CHECK(word(build(&im, 0x2000), 0) == 0);
	init_image(&im, NULL, NULL, 0);
	check_layout(build(&im, 0x2000), &im);
	init_image(&im, NULL, NULL, 0);
	im.nauxv = STACK_MAX_AUXV + 1;
	CHECK(build(&im, 0x2000) == 0);
}

/* Every parity of argc, envc and auxv count ends 16-byte aligned. */
static void stack_alignment(void)
{
	char *args[] = {"a", "bb", "ccc", "dddd", NULL};
	char *envs[] = {"X=1", "YY=22", "ZZZ=333", "W=4444", NULL};
	for (int a = 0; a < 4; a++) {
		for (int e = 0; e < 4; e++) {
			for (int x = 0; x < 3; x++) {
				char *av[5] = {0}, *ev[5] = {0};
				memcpy(av, args + 4 - a, a * sizeof(char *));
				memcpy(ev, envs + 4 - e, e * sizeof(char *));
				struct stack_image im;
				init_image(&im, av, ev, x);
				check_layout(build(&im, 0x2000), &im);
			}
		}
	}
}

/* Below the smallest room that works nothing fits; at it and above, the same
 * stack is built. No room size writes outside [top - room, top). */
static void sweep_rooms(const struct stack_image *im)
{
	uint64_t rsp = build(im, 0x2000);
	uint64_t need = 0, max = GUEST_TOP - rsp + 256;
	bool bounded = true, monotonic = true;
	for (uint64_t room = 0; room <= max; room++) {
		uint64_t r = build(im, room);
		if (!canaries_ok(room))
			bounded = false;
		if (r && !need)
			need = room;
		if (need && r != rsp)
			monotonic = false;
	}
	CHECK(bounded);
	CHECK(monotonic);
	CHECK(need >= GUEST_TOP - rsp);
	/* The pointer arrays borrow the bottom of the room while the strings
	 * are pushed; nothing else may be needed. */
	CHECK(need <=
	      GUEST_TOP - rsp + 8 * (count(im->argv) + count(im->envp) + 1));
	check_layout(build(im, need), im);
}

static void stack_rooms(void)
{
	char *argv[] = {"prog", "one", NULL};
	char *envp[] = {"A=b", NULL};
	char *none[] = {NULL};
	char *odd[] = {"p", "q", "r", NULL};
	struct stack_image im;
	init_image(&im, argv, envp, 3);
	sweep_rooms(&im);
	init_image(&im, none, none, 0);
	sweep_rooms(&im);
	init_image(&im, odd, odd, 1);
	sweep_rooms(&im);
}

static void cases(void)
{
	RUN(stack_layout);
	RUN(stack_empty);
	RUN(stack_alignment);
	RUN(stack_rooms);
}

int main(void)
{
	return unit_main(cases, NULL);
}
