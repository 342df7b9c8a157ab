/* The shim's ABI version: the shim's last 16 bytes are "MOTE-ABI" and the
 * MOTE_ABI_VERSION it was assembled with (src/shim/shim.S). A monitor
 * whose embedded shim speaks another version (a build that mixed objects
 * of two trees) would run guests on the wrong contract, so it refuses to
 * start any VM. */
#include <stdint.h>
#include <string.h>

#include "mote/abi.h"
#include "shim/shim.h"
#include "util.h"
#include "vm/vm.h"

#define ABI_TAG "MOTE-ABI"

int64_t vm_shim_abi(const uint8_t *blob, size_t len)
{
	if (len < 16 || len % 8)
		return -1;
	const uint8_t *t = blob + len - 16;
	if (memcmp(t, ABI_TAG, 8))
		return -1;
	uint64_t v;
	memcpy(&v, t + 8, sizeof(v));
	return v > INT64_MAX ? -1 : (int64_t)v;
}

void vm_shim_check(void)
{
	int64_t v = vm_shim_abi(shim_blob, (size_t)(shim_blob_end - shim_blob));
	if (v != MOTE_ABI_VERSION)
		die(MOTE_EXIT_FAIL,
		    "internal error: the built-in shim speaks ABI version "
		    "%lld, this monitor %d (a build of mixed trees: run make "
		    "clean, then make)",
		    (long long)v, MOTE_ABI_VERSION);
}
