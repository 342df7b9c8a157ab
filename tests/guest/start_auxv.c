/* The initial stack: argv, envp and every auxv entry Linux provides. */
// mote-args: --env GREETING=hi --env PATH=/opt/bin
// args: first --second
#include <elf.h>
#include <sys/auxv.h>

#include "guest.h"

extern char **environ;

static int has_env(const char *kv)
{
	for (char **e = environ; *e; e++)
		if (strcmp(*e, kv) == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	CHECK(argc == 3);
	CHECK(strcmp(argv[1], "first") == 0 &&
	      strcmp(argv[2], "--second") == 0);
	/* --env adds and replaces; nothing of mote's own environment leaks
	 * without --env-inherit beyond TERM and HOME. */
	CHECK(has_env("GREETING=hi"));
	CHECK(has_env("PATH=/opt/bin"));
	CHECK(getenv("MAKEFLAGS") == NULL);
	int n = 0;
	for (char **e = environ; *e; e++)
		n++;
	CHECK(n <= 4);

	CHECK(getauxval(AT_PAGESZ) == 4096);
	CHECK(getauxval(AT_PHENT) == sizeof(Elf64_Phdr));
	CHECK(getauxval(AT_PHNUM) > 0);
	const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
	CHECK(ph != NULL);
	int loads = 0;
	for (unsigned long i = 0; i < getauxval(AT_PHNUM); i++)
		loads += ph[i].p_type == PT_LOAD;
	CHECK(loads > 0);
	CHECK(getauxval(AT_ENTRY) != 0);
	CHECK(getauxval(AT_CLKTCK) == 100);
	CHECK(getauxval(AT_UID) == getuid() && getauxval(AT_EUID) == geteuid());
	CHECK(getauxval(AT_GID) == getgid() && getauxval(AT_EGID) == getegid());
	CHECK(getauxval(AT_SECURE) == 0);
	CHECK(getauxval(AT_HWCAP) != 0);
	const char *plat = (const char *)getauxval(AT_PLATFORM);
	CHECK(plat && strcmp(plat, "x86_64") == 0);
	const char *fn = (const char *)getauxval(AT_EXECFN);
	CHECK(fn && strcmp(fn, argv[0]) == 0);
	const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
	CHECK(rnd != NULL);
	int nonzero = 0;
	for (int i = 0; i < 16; i++)
		nonzero += rnd[i] != 0;
	CHECK(nonzero > 4);
	/* The stack pointer glibc and musl got was 16-byte aligned: a local
	 * with 16-byte alignment lands aligned. */
	_Alignas(16) char probe[16];
	CHECK(((unsigned long)probe & 15) == 0);
	success();
}
