/* A minimal unit-test harness: CHECK records failures; RUN lines in a
 * function of their own list the cases, which unit_main counts (PLAN n, see
 * tests/lib.sh) and then runs, a PASS/FAIL line each:
 *
 *	static void cases(void)
 *	{
 *		RUN(first_test);
 *		RUN(second_test);
 *	}
 *
 *	int main(void)
 *	{
 *		return unit_main(cases, NULL);
 *	}
 */
#ifndef MOTE_TEST_UNIT_H
#define MOTE_TEST_UNIT_H

#include <stdio.h>

static int unit_failed;
static int unit_checks;
/* Set while unit_main counts the cases: RUN only counts. */
static int unit_counting;
static int unit_planned;

#define CHECK(cond)                                                            \
	do {                                                                   \
		unit_checks++;                                                 \
		if (!(cond)) {                                                 \
			unit_failed++;                                         \
			printf("  check failed %s:%d: %s\n", __FILE__,         \
			       __LINE__, #cond);                               \
		}                                                              \
	} while (0)

/* Runs one test function and prints its PASS/FAIL line (while counting,
 * counts it instead). */
#define RUN(fn)                                                                \
	do {                                                                   \
		if (unit_counting) {                                           \
			unit_planned++;                                        \
			break;                                                 \
		}                                                              \
		int before_ = unit_failed;                                     \
		fn();                                                          \
		printf("%s unit/%s%s\n",                                       \
		       unit_failed == before_ ? "PASS" : "FAIL", #fn,          \
		       unit_failed == before_ ? "" : ": checks failed");       \
	} while (0)

/* main's status: counts the RUN lines of cases and prints PLAN n, runs
 * setup (if not NULL), then cases; 1 if any check failed. stdout is
 * line-buffered, so that a binary which crashes part-way has printed its
 * plan and the lines of the cases before: its count comes out short. */
static inline int unit_main(void (*cases)(void), void (*setup)(void))
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	unit_counting = 1;
	cases();
	unit_counting = 0;
	printf("PLAN %d\n", unit_planned);
	if (setup)
		setup();
	cases();
	return unit_failed ? 1 : 0;
}

#endif
