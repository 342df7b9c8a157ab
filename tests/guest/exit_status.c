/* exit_group's status reaches mote's exit status, low 8 bits only, and
 * stdio is flushed before. */
// expect-status: 42
// expect-stdout: about to exit
#include "guest.h"

int main(void)
{
	printf("about to exit\n");
	fflush(stdout);
	syscall(SYS_exit_group, 0x100 + 42);
	return 1;
}
