/* The smallest guest: libc start-up, stdio, exit status. */
// args: one two
#include "guest.h"

int main(int argc, char **argv)
{
	CHECK(argc == 3);
	CHECK(strcmp(argv[1], "one") == 0 && strcmp(argv[2], "two") == 0);
	success();
}
