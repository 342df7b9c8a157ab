/* exit (of the only thread) ends the process with its status. */
// expect-status: 7
// expect-stdout: bye
#include "guest.h"

int main(void)
{
	printf("bye\n");
	fflush(stdout);
	syscall(SYS_exit, 7);
	return 1;
}
