#!/usr/bin/env python3
"""Copies a mote boot snapshot (sparse) and patches one field of the copy,
its checksums made right again, so that restore's own checks are what
refuse it: kind=N sets the header's kind; ncpus=N the BOOT record's vCPU
count (then the header's no longer matches); ro=N the first disk's :ro
flag.
Usage: tests/boot/snappatch.py IN OUT kind=N|ncpus=N|ro=N"""
import struct, subprocess, sys, zlib

src, out, what = sys.argv[1:4]
subprocess.run(["cp", "--sparse=always", src, out], check=True)
field, value = what.split("=")
with open(out, "r+b") as f:
    h = bytearray(f.read(168))
    state_off, state_len = struct.unpack_from("<QQ", h, 72)
    if field == "kind":
        struct.pack_into("<I", h, 160, int(value))
    elif field in ("ncpus", "ro"):
        f.seek(state_off)
        state = bytearray(f.read(state_len))
        # BOOT: tag, length, memory (u64), the vCPU count (u32), the
        # kernel (a u32 length and its bytes), the disk count (u32), the
        # first disk's path (the same) and its :ro byte.
        if field == "ncpus":
            struct.pack_into("<I", state, 16, int(value))
        else:
            at = 20 + 4 + struct.unpack_from("<I", state, 20)[0] + 4
            at += 4 + struct.unpack_from("<I", state, at)[0]
            state[at] = int(value)
        f.seek(state_off)
        f.write(state)
        struct.pack_into("<I", h, 88, zlib.crc32(state))
    else:
        sys.exit("unknown field " + field)
    struct.pack_into("<I", h, 12, 0)
    struct.pack_into("<I", h, 12, zlib.crc32(bytes(h)))
    f.seek(0)
    f.write(h)
