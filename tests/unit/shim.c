/* vm_shim_abi: the built-in shim carries this tree's MOTE_ABI_VERSION in
 * its trailer; a blob without the tag, too short, misaligned or with
 * another version reads as what it is. */
#include <stdint.h>
#include <string.h>

#include "mote/abi.h"
#include "shim/shim.h"
#include "unit.h"
#include "vm/vm.h"

static void blob(uint8_t *b, size_t len, const char *tag, uint64_t v)
{
	memset(b, 0x90, len);
	memcpy(b + len - 16, tag, 8);
	memcpy(b + len - 8, &v, 8);
}

static void shim_builtin(void)
{
	CHECK(vm_shim_abi(shim_blob, (size_t)(shim_blob_end - shim_blob)) ==
	      MOTE_ABI_VERSION);
}

static void shim_bad_trailers(void)
{
	uint8_t b[64];
	blob(b, sizeof(b), "MOTE-ABI", 7);
	CHECK(vm_shim_abi(b, sizeof(b)) == 7);
	blob(b, sizeof(b), "MOTE-ABX", 1);
	CHECK(vm_shim_abi(b, sizeof(b)) == -1);
	blob(b, sizeof(b), "MOTE-ABI", UINT64_MAX);
	CHECK(vm_shim_abi(b, sizeof(b)) == -1);
	blob(b, 16, "MOTE-ABI", 1);
	CHECK(vm_shim_abi(b, 16) == 1);
	CHECK(vm_shim_abi(b, 8) == -1);
	CHECK(vm_shim_abi(b, 0) == -1);
	blob(b, 24, "MOTE-ABI", 1);
	CHECK(vm_shim_abi(b, 23) == -1);
}

static void cases(void)
{
	RUN(shim_builtin);
	RUN(shim_bad_trailers);
}

int main(void)
{
	return unit_main(cases, NULL);
}
