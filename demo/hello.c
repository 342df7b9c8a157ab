/* The demo guest: a static program that greets from inside its microVM. */
#include <stdio.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(void)
{
	struct utsname u;
	uname(&u);
	printf("Hello from inside a mote microVM!\n"
	       "  I am pid %d, running %s %s on %s, with no guest kernel:\n"
	       "  every syscall I make is served by the mote monitor.\n",
	       getpid(), u.sysname, u.release, u.machine);
	return 0;
}
