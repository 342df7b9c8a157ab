/* Prints where things landed: the program, the stack, the heap (brk), an
 * anonymous mmap, and (dynamic builds) the C library. tests/suites/aslr.sh
 * runs it twice with and twice without ASLR and compares the lines. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void)
{
	int local;
	void *m =
		mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("program %p\n", (void *)main);
	printf("stack %p\n", (void *)&local);
	printf("brk %p\n", sbrk(0));
	printf("mmap %p\n", m);
	printf("libc %p\n", (void *)printf);
	return m == MAP_FAILED;
}
