/* The snapshot's checksum. */
#include "snap/wire.h"

uint32_t snap_crc32(uint32_t crc, const void *buf, size_t len)
{
	/* The CRC-32 of zlib and Python's zlib.crc32 (tests patch headers
	 * with it), bitwise: headers and state are small. */
	const uint8_t *b = buf;
	crc = ~crc;
	while (len--) {
		crc ^= *b++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320U & -(crc & 1));
	}
	return ~crc;
}
