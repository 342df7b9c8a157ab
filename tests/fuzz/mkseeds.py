#!/usr/bin/env python3
"""Writes the seed corpora of the fuzzers: tests/fuzz/corpus/{syscall,elf,virtq,virtio_pci}/.

Usage: tests/fuzz/mkseeds.py [GUEST_BUILD_DIR]
The syscall seeds are short guest programs in the input format described
at the top of tests/fuzz/syscall.c; the ELF seeds are small hand-made
executables (static, static-PIE, dynamic with its loader) plus the first
4 KiB of real test guests when GUEST_BUILD_DIR (e.g. build) is given. The
virtq seeds are guest RAM images with virtio-blk and virtio-rng requests
in the input format described at the top of tests/fuzz/virtq.c; the
virtio_pci seeds are a driver's port and BAR accesses over such images
(tests/fuzz/virtio_pci.c).
"""
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = open(os.path.join(HERE, "syscall.c")).read()
ALLOWED = re.findall(r"__NR_(\w+),", SRC[SRC.index("allowed[] = {"):SRC.index("NALLOWED")])
DATA = 0x100000

# ---- syscall inputs ----

def nr(name):
    return bytes([ALLOWED.index(name)])

def small(v): return bytes([0, v])
def neg(v): return bytes([1, v])
def lit(v): return bytes([2]) + struct.pack("<Q", v & (2**64 - 1))
def data(off): return bytes([3]) + struct.pack("<H", off)
def ro(back): return bytes([4, back])
def hole(back): return bytes([6, back])
def fd(n): return bytes([8, n + 1])
CWD = bytes([9])
def ret(i): return bytes([10, i])
def edge(i): return bytes([11, i])
Z = bytes([12])
def u32(v): return bytes([13]) + struct.pack("<I", v)
def stack(off): return bytes([14]) + struct.pack("<H", off)

def prog(calls, mem=b"", mode=0, rsp=0x90):
    """calls: [(name, [arg, ...])]; mem: {offset: bytes} for the data pages."""
    assert 1 <= len(calls) <= 8
    out = bytes([mode | (len(calls) - 1) << 2, rsp])
    for name, args in calls:
        args = list(args) + [Z] * (6 - len(args))
        out += nr(name) + b"".join(args)
    page = bytearray(0x5000)
    for off, b in (mem.items() if isinstance(mem, dict) else []):
        page[off:off + len(b)] = b
    end = max([o + len(b) for o, b in mem.items()] or [0]) if mem else 0
    return out + bytes(page[:end])

O_RDONLY, O_RDWR, O_CREAT, O_DIRECTORY = 0, 2, 0o100, 0o200000
S = lambda s: s.encode() + b"\0"

def iov(*pairs):
    return b"".join(struct.pack("<QQ", a, n) for a, n in pairs)

SEEDS = {
    "open-read-close": prog([
        ("open", [data(0), small(O_RDONLY)]),
        ("read", [ret(0), data(0x1000), small(100)]),
        ("fstat", [ret(0), data(0x2000)]),
        ("lseek", [ret(0), small(3), small(0)]),
        ("pread64", [ret(0), data(0x1000), small(8), small(2)]),
        ("close", [ret(0)]),
    ], {0: S("/f")}),
    "volume-write": prog([
        ("openat", [CWD, data(0), lit(O_CREAT | O_RDWR), lit(0o644)]),
        ("write", [ret(0), data(0x100), small(64)]),
        ("pwrite64", [ret(0), data(0x100), small(64), lit(1 << 20)]),
        ("ftruncate", [ret(0), small(10)]),
        ("openat", [CWD, data(0x40), lit(O_DIRECTORY)]),
        ("getdents64", [ret(4), data(0x1000), lit(4096)]),
        ("fchmod", [ret(0), lit(0)]),
        ("unlink", [data(0)]),
    ], {0: S("/v/new"), 0x40: S("/v"), 0x100: b"x" * 64}),
    "dirs-links": prog([
        ("mkdir", [data(0), lit(0o755)]),
        ("chdir", [data(0)]),
        ("getcwd", [data(0x1000), lit(4096)]),
        ("symlink", [data(0x40), data(0x80)]),
        ("readlink", [data(0x80), data(0x1000), small(200)]),
        ("rename", [data(0x80), data(0xc0)]),
        ("linkat", [CWD, data(0x100), CWD, data(0x140), Z]),
        ("rmdir", [data(0)]),
    ], {0: S("/v/d"), 0x40: S("../../../../etc/passwd"), 0x80: S("/v/d/l"),
        0xc0: S("/v/l2"), 0x100: S("/f"), 0x140: S("/v/f2")}),
    "escape-paths": prog([
        ("open", [data(0), Z]),
        ("open", [data(0x40), Z]),
        ("open", [data(0x80), Z]),
        ("newfstatat", [CWD, data(0xc0), data(0x1000), Z]),
        ("statx", [CWD, data(0x100), Z, lit(0xfff), data(0x1000)]),
        ("faccessat2", [CWD, data(0x140), Z, Z]),
        ("readlinkat", [CWD, data(0x180), data(0x1000), lit(1 << 40)]),
        ("openat", [fd(2), data(0x1c0), Z]),
    ], {0: S("/../../etc/passwd"), 0x40: S("/esc"), 0x80: S("/loop"),
        0xc0: S("/proc/self/root/etc/passwd"), 0x100: S("/l"),
        0x140: S("/d/g"), 0x180: S("/proc/self/fd/3"), 0x1c0: S("x")}),
    "pipes-poll": prog([
        ("pipe2", [data(0x1000), Z]),
        ("write", [u32(4), data(0), small(5)]),
        ("poll", [data(0x40), small(2), small(0)]),
        ("read", [u32(3), data(0x800), small(100)]),
        ("read", [u32(3), data(0x800), small(100)]),  # blocks: kicked
        ("dup2", [u32(3), small(9)]),
        ("select", [small(10), data(0x80), data(0x80), Z, data(0xc0)]),
        ("close", [fd(9)]),
    ], {0: b"hello", 0x40: struct.pack("<ihhihh", 3, 1, 0, 4, 4, 0),
        0x80: struct.pack("<Q", 0x218), 0xc0: struct.pack("<qq", 0, 1000)}),
    "memory": prog([
        ("mmap", [Z, lit(0x3000), small(3), lit(0x22), neg(1), Z]),
        ("mprotect", [ret(0), lit(0x1000), small(1)]),
        ("munmap", [ret(0), lit(0x1000)]),
        ("mremap", [ret(0), lit(0x3000), lit(0x6000), small(1)]),
        ("brk", [lit(0x210000)]),
        ("madvise", [ret(3), lit(0x2000), small(4)]),
        ("mmap", [lit(0x100000), lit(0x2000), small(3), lit(0x12), fd(3), Z]),
        ("brk", [lit(0x200000)]),
    ]),
    "signals": prog([
        ("rt_sigaction", [small(10), data(0), Z, small(8)]),
        ("sigaltstack", [data(0x40), data(0x80)]),
        ("rt_sigprocmask", [small(0), data(0xc0), data(0xd0), small(8)]),
        ("kill", [Z, small(10)]),
        ("rt_sigpending", [data(0xe0), small(8)]),
        ("rt_sigprocmask", [small(1), data(0xc0), Z, small(8)]),
        ("rt_sigreturn", []),
        ("tgkill", [Z, Z, small(15)]),
    ], {0: struct.pack("<QQQQ", 0x401100, 0x04000000 | 0x10000000, 0x401200, 0),
        0x40: struct.pack("<QiiQ", DATA + 0x2000, 0, 0, 0x2000),
        0xc0: struct.pack("<Q", 1 << 9)}),
    "sigreturn-frame": prog([("rt_sigreturn", [])],
                            {0x90 + 0x28: struct.pack("<Q", 0x401000) * 40}, rsp=2),
    "iovecs": prog([
        ("open", [data(0), small(O_RDONLY)]),
        ("readv", [ret(0), data(0x40), small(4)]),
        ("writev", [fd(1), data(0x40), small(4)]),
        ("writev", [fd(1), data(0x100), lit(1 << 31)]),
        ("readv", [ret(0), data(0x80), small(2)]),
    ], {0: S("/f"), 0x40: iov((DATA + 0x1000, 4), (DATA + 0x1000, 4),
                              (DATA + 0x3ff8, 16), (0, 0)),
        0x80: iov((DATA + 0x800, 2**63), (2**64 - 8, 16)),
        0x100: iov((DATA, 1))}),
    "futex-time": prog([
        ("futex", [data(0), small(0x80), Z, data(0x40)]),
        ("futex", [data(0), small(0x81), small(1)]),
        ("nanosleep", [data(0x40), data(0x80)]),
        ("clock_nanosleep", [small(1), small(0), data(0x50), data(0x80)]),
        ("clock_gettime", [small(1), data(0x80)]),
        ("gettimeofday", [data(0x80), data(0x90)]),
        ("time", [ro(4)]),
        ("getitimer", [small(0), data(0xa0)]),
    ], {0x40: struct.pack("<qq", 0, 50000000), 0x50: struct.pack("<qq", 5, 0)}),
    "limits-fds": prog([
        ("prlimit64", [Z, small(7), data(0), data(0x40)]),
        ("dup2", [fd(0), u32(200)]),
        ("dup3", [fd(1), u32(5), lit(0o2000000)]),
        ("fcntl", [fd(1), u32(1030), small(7)]),
        ("getrlimit", [small(7), data(0x80)]),
        ("setrlimit", [small(7), hole(8)]),
        ("ioctl", [fd(0), lit(0x5401), data(0xc0)]),
        ("ioctl", [fd(0), lit(0x541b), ro(2)]),
    ], {0: struct.pack("<QQ", 4, 8)}),
    "locks": prog([
        ("openat", [CWD, data(0), lit(O_CREAT | O_RDWR), lit(0o644)]),
        ("openat", [CWD, data(0), lit(O_RDWR)]),
        ("fcntl", [ret(0), small(37), data(0x40)]),
        ("fcntl", [ret(1), small(38), data(0x40)]),  # blocks: kicked
        ("fcntl", [ret(1), small(36), data(0x40)]),
    ], {0: S("/v/lock"), 0x40: struct.pack("<hhqqi", 1, 0, 0, 0, 0)}),
    "identity": prog([
        ("uname", [data(0)]),
        ("sysinfo", [data(0x200)]),
        ("getgroups", [small(64), data(0x400)]),
        ("sched_getaffinity", [Z, small(128), data(0x600)]),
        ("sched_setaffinity", [Z, small(8), data(0x700)]),
        ("getcpu", [data(0x800), data(0x804)]),
        ("getrandom", [stack(0), lit(1 << 20), Z]),
        ("arch_prctl", [lit(0x1002), lit(0x7ff000)]),
    ], {0x700: b"\xff" * 8}),
    "unknown-exit": prog([
        ("getpid", []), ("set_tid_address", [data(0)]),
        ("set_robust_list", [data(0), small(24)]),
        ("wait4", [neg(1), data(0), Z, data(0x100)]),
        ("waitid", [small(0), Z, data(0x200), small(4), Z]),
        ("exit_group", [small(3)]),
        ("getppid", []),
    ]) ,
}
# Syscall numbers the table does not serve.
SEEDS["enosys"] = bytes([1 << 2, 0]) + bytes([0xf8]) + Z * 6 + bytes([0xfd]) + Z * 6

# ---- ELF inputs ----

def elf(etype=2, entry=0x401000, segs=(), interp=None, phdr=True, code=b"\xc3"):
    """A minimal x86-64 ELF: ehdr, phdrs, then contents. segs are
    (vaddr, flags) of PT_LOADs that each map the whole file."""
    phs = []
    n = len(segs) + (1 if interp else 0) + (1 if phdr else 0) + 1
    body_off = 64 + 56 * n
    body = (interp.encode() + b"\0") if interp else b""
    code_off = body_off + len(body)
    size = code_off + len(code)
    if entry is None:  # the code byte, in the first segment
        entry = segs[0][0] + code_off
    if phdr:
        phs.append(struct.pack("<IIQQQQQQ", 6, 4, 64, segs[0][0] + 64, segs[0][0] + 64,
                               56 * n, 56 * n, 8))
    if interp:
        phs.append(struct.pack("<IIQQQQQQ", 3, 4, body_off, 0, 0, len(body), len(body), 1))
    for i, (va, fl) in enumerate(segs):
        # The file again at each address (offset and address agree modulo
        # the page size); the last one with some bss.
        bss = 0x2000 if i == len(segs) - 1 else 0
        phs.append(struct.pack("<IIQQQQQQ", 1, fl, 0, va, va, size, size + bss, 0x1000))
    phs.append(struct.pack("<IIQQQQQQ", 0x6474e551, 6, 0, 0, 0, 0, 0, 16))
    eh = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
    eh += struct.pack("<HHIQQQIHHHHHH", etype, 62, 1, entry, 64, 0, 0, 64, 56, n, 64, 0, 0)
    return eh + b"".join(phs) + body + code

ELFS = {
    "static-exec": elf(2, None, [(0x400000, 5), (0x403000, 6)]),
    "static-pie": elf(3, None, [(0, 5), (0x3000, 6)]),
    "dynamic": elf(3, None, [(0, 5)], interp="/lib64/ld-linux-x86-64.so.2"),
    "loader-self": elf(3, None, [(0, 5)], interp="/ld.so"),
    "entry-outside": elf(2, 0x900000, [(0x400000, 5)]),
    # stack_build inputs (not ELF): room, argc, nauxv, strings
    "stack-args": struct.pack("<HBB", 512, 2, 5) + b"prog\0-x\0PATH=/bin\0HOME=/\0",
    "stack-tight": struct.pack("<HBB", 12, 1, 0) + b"a\0b\0",
    "stack-many": struct.pack("<HBB", 0xffff, 200, 33) + b"x\0" * 300,
}

# ---- virtq inputs: a queue of 8 with its rings low in RAM ----

V_DESC, V_AVAIL, V_USED, V_INDIR = 0x100, 0x200, 0x300, 0x400
V_HDR, V_STATUS, V_DATA = 0x500, 0x520, 0x600
F_NEXT, F_WRITE, F_INDIRECT = 1, 2, 4
IN, OUT, FLUSH, GET_ID = 0, 1, 4, 8

def vdesc(addr, length, flags=0, nxt=0):
    return struct.pack("<QIHH", addr, length, flags, nxt)

def vram(descs, heads, extra=None, table=V_DESC, indirect=()):
    """descs: {index: desc bytes}; heads: the avail ring's entries."""
    ram = bytearray(V_DATA + 0x200)
    for i, d in descs.items():
        ram[table + 16 * i:table + 16 * i + 16] = d
    for i, d in enumerate(indirect):
        ram[V_INDIR + 16 * i:V_INDIR + 16 * i + 16] = d
    ring = struct.pack("<HH", 0, len(heads)) + b"".join(struct.pack("<H", h) for h in heads)
    ram[V_AVAIL:V_AVAIL + len(ring)] = ring
    for off, b in (extra or {}).items():
        ram[off:off + len(b)] = b
    return bytes(ram)

def vinput(ram, flags=3, writes=b""):
    """flags: log2 of the queue size and the feature bits of virtq.c."""
    return struct.pack("<BHHHH", flags, V_DESC, V_AVAIL, V_USED, len(ram)) + ram + writes

def vwrite(gpa, b):
    return struct.pack("<HB", gpa, len(b)) + b

def blkreq(t, sector, data_flags=F_WRITE, n=512, first=0):
    """A three-descriptor request at descriptors first, first + 1, first + 2."""
    return {first: vdesc(V_HDR, 16, F_NEXT, first + 1),
            first + 1: vdesc(V_DATA, n, data_flags | F_NEXT, first + 2),
            first + 2: vdesc(V_STATUS, 1, F_WRITE)}

def hdr(t, sector):
    return {V_HDR: struct.pack("<IIQ", t, 0, sector)}

INDIRECT, EVENT_IDX, RO, RNG = 0x10, 0x20, 0x40, 0x80
NET, NET_RX_OFF = RO | RNG, 0x1000

def netram(tx_descs, tx_heads, rx_descs, rx_heads):
    """virtio-net: the tx queue's rings as vram's, the rx queue's
    NET_RX_OFF above them; a frame's bytes at V_DATA."""
    tx = vram(tx_descs, tx_heads, {V_DATA: bytes(12) + b"\xff" * 6 + bytes(range(54))})
    rx = vram(rx_descs, rx_heads)
    return tx + bytes(NET_RX_OFF - len(tx)) + rx

VIRTQ = {
    "blk-read": vinput(vram(blkreq(IN, 1), [0], hdr(IN, 1))),
    "blk-write": vinput(vram(blkreq(OUT, 3, 0), [0], hdr(OUT, 3))),
    "blk-write-ro": vinput(vram(blkreq(OUT, 3, 0), [0], hdr(OUT, 3)), 3 | RO),
    "blk-flush": vinput(vram({0: vdesc(V_HDR, 16, F_NEXT, 1),
                              1: vdesc(V_STATUS, 1, F_WRITE)}, [0], hdr(FLUSH, 0))),
    "blk-get-id": vinput(vram(blkreq(GET_ID, 0, F_WRITE, 20), [0], hdr(GET_ID, 0))),
    "blk-past-end": vinput(vram(blkreq(IN, 16), [0], hdr(IN, 16))),
    "blk-indirect": vinput(vram({0: vdesc(V_INDIR, 48, F_INDIRECT)}, [0], hdr(IN, 2),
                                indirect=[vdesc(V_HDR, 16, F_NEXT, 1),
                                          vdesc(V_DATA, 512, F_WRITE | F_NEXT, 2),
                                          vdesc(V_STATUS, 1, F_WRITE)]), 3 | INDIRECT),
    # A second request made available after the first notification.
    "blk-two-kicks": vinput(vram({**blkreq(IN, 0), **blkreq(OUT, 5, 0, first=3)}, [0],
                                 hdr(IN, 0)), 3 | EVENT_IDX,
                            vwrite(V_AVAIL + 6, struct.pack("<H", 3)) +
                            vwrite(V_AVAIL + 2, struct.pack("<H", 2))),
    "blk-loop": vinput(vram({0: vdesc(V_HDR, 16, F_NEXT, 1),
                             1: vdesc(V_DATA, 512, F_NEXT, 0)}, [0], hdr(IN, 0))),
    "blk-nested": vinput(vram({0: vdesc(V_INDIR, 32, F_INDIRECT)}, [0], hdr(IN, 0),
                              indirect=[vdesc(V_HDR, 16, F_NEXT, 1),
                                        vdesc(V_INDIR, 32, F_INDIRECT)]), 3 | INDIRECT),
    "rng": vinput(vram({0: vdesc(V_DATA, 64, F_WRITE | F_NEXT, 1),
                        1: vdesc(V_DATA + 64, 64, F_WRITE)}, [0, 1]), 3 | RNG),
    # A 72-byte frame (header and 60 bytes) sent, echoed back into a
    # 256-byte rx buffer; sent again (the guest makes head 0 available
    # again), too large for the next rx buffer (40 bytes): dropped, the
    # buffer held.
    "net-echo": vinput(netram({0: vdesc(V_DATA, 12, F_NEXT, 1), 1: vdesc(V_DATA + 12, 60)}, [0],
                              {0: vdesc(NET_RX_OFF + V_DATA, 256, F_WRITE),
                               1: vdesc(NET_RX_OFF + V_DATA + 256, 40, F_WRITE)}, [0, 1]),
                       3 | NET | EVENT_IDX,
                       vwrite(V_AVAIL + 2, struct.pack("<H", 2))),
}

# ---- virtio_pci inputs: a modern driver's set-up, then a request ----

def pio_out(off, size, val): return struct.pack("<BHI", 0 | {1: 0, 2: 1, 4: 2}[size] << 2, off, val)
def bar_w(off, size, val): return struct.pack("<BHI", 2 | {1: 0, 2: 1, 4: 2, 8: 3}[size] << 2, off, val)
def bar_r(off, size): return struct.pack("<BHI", 3 | {1: 0, 2: 1, 4: 2, 8: 3}[size] << 2, off, 0)

def cfg_w(slot, reg, size, val):
    return pio_out(0, 4, 0x80000000 | slot << 11 | reg & 0xfc) + pio_out(4 + (reg & 3), size, val)

def driver(features, qsize=8):
    return (cfg_w(1, 4, 2, 2) + bar_w(0x14, 1, 0) + bar_w(0x14, 1, 3) +
            bar_w(0x08, 4, 1) + bar_w(0x0c, 4, features >> 32) +
            bar_w(0x08, 4, 0) + bar_w(0x0c, 4, features & 0xffffffff) +
            bar_w(0x14, 1, 0xb) + bar_r(0x14, 1) + bar_w(0x16, 2, 0) +
            bar_w(0x18, 2, qsize) + bar_w(0x20, 4, V_DESC) + bar_w(0x24, 4, 0) +
            bar_w(0x28, 4, V_AVAIL) + bar_w(0x2c, 4, 0) + bar_w(0x30, 4, V_USED) +
            bar_w(0x34, 4, 0) + bar_w(0x1c, 2, 1) + bar_w(0x14, 1, 0xf))

def pinput(ram, ops):
    return struct.pack("<H", len(ram)) + ram + ops

KICK = bar_w(0x3000, 2, 0) + bar_r(0x1000, 1) + bar_r(0x2000, 8)
V1 = 1 << 32

VIRTIO_PCI = {
    "blk-read": pinput(vram(blkreq(IN, 1), [0], hdr(IN, 1)), driver(V1 | 1 << 9) + KICK),
    "blk-indirect": pinput(VIRTQ["blk-indirect"][9:], driver(V1 | 1 << 28) + KICK),
    "blk-bad-size": pinput(vram(blkreq(IN, 1), [0], hdr(IN, 1)), driver(V1, 3) + KICK + bar_w(0x14, 1, 0)),
    "rng": pinput(vram({0: vdesc(V_DATA, 64, F_WRITE)}, [0], {0: b"\x01"}), driver(V1) + KICK),
    "probe": pinput(b"", b"".join(pio_out(0, 4, 0x80000000 | s << 11) + struct.pack("<BHI", 1 | 2 << 2, 4, 0)
                                  for s in range(4)) + cfg_w(1, 0x10, 4, 0xffffffff)),
}

def main():
    out = os.path.join(HERE, "corpus")
    for d, seeds in (("syscall", SEEDS), ("elf", ELFS), ("virtq", VIRTQ), ("virtio_pci", VIRTIO_PCI)):
        os.makedirs(os.path.join(out, d), exist_ok=True)
        for name, b in seeds.items():
            open(os.path.join(out, d, name), "wb").write(b)
    if len(sys.argv) > 1:
        for g in ("hello.gcc", "hello.musl", "hello.pie", "start_auxv.pie"):
            p = os.path.join(sys.argv[1], "tests", "guest", g)
            if os.path.exists(p):
                open(os.path.join(out, "elf", "head-" + g), "wb").write(open(p, "rb").read(4096))
        for p in ("/bin/true", "/lib64/ld-linux-x86-64.so.2"):
            if os.path.exists(p):
                name = "head-" + os.path.basename(p)
                open(os.path.join(out, "elf", name), "wb").write(open(p, "rb").read(4096))

main()
