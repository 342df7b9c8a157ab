/* Reading the syscall doorbell page (or, where the VM has none, an unmapped
 * page) is a segmentation fault, not a monitor error. */
// expect-status: 139
// expect-stderr: SIGSEGV
#include "guest.h"

int main(void)
{
	volatile unsigned char *db = (volatile unsigned char *)0x9000;
	printf("%d\n", *db);
	return 0;
}
