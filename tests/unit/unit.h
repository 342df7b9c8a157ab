/* A minimal unit-test harness: CHECK records failures, main reports. */
#ifndef MOTE_TEST_UNIT_H
#define MOTE_TEST_UNIT_H

#include <stdio.h>

static int unit_failed;
static int unit_checks;

#define CHECK(cond)                                                            \
	do {                                                                   \
		unit_checks++;                                                 \
		if (!(cond)) {                                                 \
			unit_failed++;                                         \
			printf("  check failed %s:%d: %s\n", __FILE__,         \
			       __LINE__, #cond);                               \
		}                                                              \
	} while (0)

/* Runs one test function and prints its PASS/FAIL line. */
#define RUN(fn)                                                                \
	do {                                                                   \
		int before_ = unit_failed;                                     \
		fn();                                                          \
		printf("%s unit/%s%s\n",                                       \
		       unit_failed == before_ ? "PASS" : "FAIL", #fn,          \
		       unit_failed == before_ ? "" : ": checks failed");       \
	} while (0)

#define UNIT_EXIT() return unit_failed ? 1 : 0

#endif
