/* parse_size: the sizes --memory and friends accept, and what they reject. */
#include <stdint.h>

#include "unit.h"
#include "util.h"

static int parse_is(const char *s, uint64_t want)
{
	uint64_t v = 12345;
	return parse_size(s, &v) == 0 && v == want;
}

static int rejects(const char *s)
{
	uint64_t v = 12345;
	return parse_size(s, &v) != 0 && v == 12345;
}

static void size_accepts(void)
{
	CHECK(parse_is("0", 0));
	CHECK(parse_is("4096", 4096));
	CHECK(parse_is("64K", 64ULL << 10));
	CHECK(parse_is("64k", 64ULL << 10));
	CHECK(parse_is("512M", 512ULL << 20));
	CHECK(parse_is("1G", 1ULL << 30));
	CHECK(parse_is("2GiB", 2ULL << 30));
	CHECK(parse_is("2GB", 2ULL << 30));
	CHECK(parse_is("3g", 3ULL << 30));
	CHECK(parse_is("1T", 1ULL << 40));
	CHECK(parse_is("16777215T", 16777215ULL << 40));
	CHECK(parse_is("18446744073709551615", ~0ULL));
}

static void size_rejects(void)
{
	CHECK(rejects(""));
	CHECK(rejects("-1"));
	CHECK(rejects(" -1"));
	CHECK(rejects("-1G"));
	CHECK(rejects("+1"));
	CHECK(rejects(" 1"));
	CHECK(rejects("12Q"));
	CHECK(rejects("1GG"));
	CHECK(rejects("1G "));
	CHECK(rejects("G"));
	CHECK(rejects("1B"));
	CHECK(rejects("1i"));
	CHECK(rejects("1.5G"));
	CHECK(rejects("0x1000"));
	CHECK(rejects("99999999999T"));
	CHECK(rejects("16777216T"));
	CHECK(rejects("17179869184G"));
	CHECK(rejects("18446744073709551616"));
}

static void cases(void)
{
	RUN(size_accepts);
	RUN(size_rejects);
}

int main(void)
{
	return unit_main(cases, NULL);
}
