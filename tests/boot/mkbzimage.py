#!/usr/bin/env python3
"""Wraps raw 64-bit code in a minimal bzImage (boot protocol 2.15,
XLF_KERNEL_64, one setup sector): the code lands at the 64-bit entry,
0x200 into the protected-mode part. For mote boot's hostile-guest test.

Usage: tests/boot/mkbzimage.py CODE.bin OUT"""
import struct
import sys

code = open(sys.argv[1], "rb").read()
kernel = bytes(0x200) + code
kernel += bytes(-len(kernel) % 16)
setup = bytearray(2 * 512)  # setup_sects = 1
setup[0x1F1] = 1
struct.pack_into("<I", setup, 0x1F4, len(kernel) // 16)  # syssize
setup[0x1FE:0x200] = b"\x55\xaa"
setup[0x201] = 0x62  # the header runs to 0x264
setup[0x202:0x206] = b"HdrS"
struct.pack_into("<H", setup, 0x206, 0x020F)
setup[0x211] = 1  # LOADED_HIGH
struct.pack_into("<I", setup, 0x22C, 0x7FFFFFFF)  # initrd_addr_max
struct.pack_into("<I", setup, 0x230, 0x200000)  # kernel_alignment
struct.pack_into("<H", setup, 0x236, 1)  # XLF_KERNEL_64
struct.pack_into("<I", setup, 0x238, 2047)  # cmdline_size
struct.pack_into("<I", setup, 0x260, 1 << 20)  # init_size
open(sys.argv[2], "wb").write(bytes(setup) + kernel)
