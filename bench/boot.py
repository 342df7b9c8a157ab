#!/usr/bin/env python3
"""make bench, mote boot: Debian's stock kernel booted by mote and by QEMU's
microvm (-M microvm -enable-kvm), with the same kernel, initramfs, memory,
one vCPU and command line, runs interleaved on the same KVM.

Reported, medians: the time from the start of the command to the init's
first line on the serial console, to the command's exit (the init powers
the guest off), and the command's peak RSS (which holds the guest RAM the
kernel touched as well as the monitor's own). Then, from one more run of
each whose init waits a moment before it powers off, the monitor's own
memory: its resident memory apart from the guest RAM's mapping (the
mappings of at least the guest's memory size), read from
/proc/PID/smaps while the guest's init runs. Needs a hardware KVM
(kvm-amd or kvm_intel); bench/run.sh runs this in the test VM where the
host has none.

Usage: bench/boot.py BUILD_DIR KERNEL [RUNS]
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

MEM = "256M"
APPEND = "console=ttyS0 quiet panic=-1"
MARKER = b"MOTE-BENCH-INIT"
LIMIT_S = 300

INIT = """#!/bin/busybox sh
/bin/busybox echo MOTE-BENCH-INIT
/bin/busybox sleep %s
/bin/busybox poweroff -f
"""


def mem_bytes(size):
    """MEM ("256M") in bytes."""
    return int(size[:-1]) << {"K": 10, "M": 20, "G": 30}[size[-1]]


def initramfs(work, wait="0"):
    """A busybox initramfs whose init prints the marker and powers off
    (after `wait` seconds)."""
    root = os.path.join(work, "root" + wait)
    os.makedirs(os.path.join(root, "bin"))
    bb = shutil.which("busybox")
    if not bb:
        sys.exit("bench/boot.py: busybox is missing (apt-get install busybox-static)")
    shutil.copy(bb, os.path.join(root, "bin", "busybox"))
    with open(os.path.join(root, "init"), "w") as f:
        f.write(INIT % wait)
    os.chmod(os.path.join(root, "init"), 0o755)
    out = os.path.join(work, "initrd%s.cpio" % wait)
    names = subprocess.run(["find", "."], cwd=root, capture_output=True,
                           check=True).stdout
    with open(out, "wb") as f:
        subprocess.run(["busybox", "cpio", "-o", "-H", "newc"], cwd=root,
                       input=names, stdout=f, stderr=subprocess.DEVNULL,
                       check=True)
    return out


def own_memory(pid):
    """(KiB resident, KiB of it in the guest RAM's mappings) of pid now."""
    total = guest = 0
    size = 0
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            k = line.split()
            if k[0] == "Size:":
                size = int(k[1]) * 1024
            elif k[0] == "Rss:":
                total += int(k[1])
                if size >= mem_bytes(MEM):
                    guest += int(k[1])
    return total, guest


def once(argv, sample=False):
    """One boot: (seconds to the marker, seconds to exit, peak RSS KiB);
    with sample, the monitor's own KiB (own_memory at the marker) too."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t_init = None
    own = None
    buf = b""
    os.set_blocking(p.stdout.fileno(), True)
    while True:
        chunk = os.read(p.stdout.fileno(), 4096)
        if not chunk:
            break
        buf += chunk
        if t_init is None and MARKER in buf:
            t_init = time.monotonic() - t0
            if sample:
                total, guest = own_memory(p.pid)
                own = total - guest
        if time.monotonic() - t0 > LIMIT_S:
            p.kill()
            break
    _, status, ru = os.wait4(p.pid, 0)
    t_end = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if t_init is None or p.returncode != 0:
        err = p.stderr.read().decode(errors="replace").strip()[-300:]
        sys.exit("bench/boot.py: %s failed (status %d, marker %s): %s"
                 % (argv[0], p.returncode, t_init is not None, err))
    return (t_init, t_end, ru.ru_maxrss) + ((own,) if sample else ())


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    build, kernel = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        sys.exit("bench/boot.py: no qemu-system-x86_64 (apt-get install qemu-system-x86)")
    with tempfile.TemporaryDirectory() as work:
        rd = initramfs(work)
        mote = [os.path.join(build, "mote"), "boot", "--kernel", kernel,
                "--initrd", rd, "--memory", MEM, "--cpus", "1",
                "--timeout", str(LIMIT_S), "--append", APPEND]
        qm = [qemu, "-M", "microvm", "-enable-kvm", "-cpu", "host",
              "-m", MEM, "-smp", "1", "-nodefaults", "-no-user-config",
              "-display", "none", "-serial", "stdio", "-no-reboot",
              "-kernel", kernel, "-initrd", rd, "-append", APPEND]
        res = {"mote": [], "qemu": []}
        for _ in range(runs):  # interleaved: the machine's drift hits both
            res["mote"].append(once(mote))
            res["qemu"].append(once(qm))
        # The monitors' own memory, from a run whose init stays a while.
        rd2 = initramfs(work, "1")
        own = {k: once([rd2 if a == rd else a for a in argv], True)[3]
               for k, argv in (("mote", mote), ("qemu", qm))}
    med = {k: [statistics.median(r[i] for r in v) for i in range(3)]
           for k, v in res.items()}
    m, q = med["mote"], med["qemu"]
    print("mote boot against QEMU -M microvm: Debian's kernel, %s, 1 vCPU, "
          "medians of %d interleaved runs" % (MEM, runs))
    print("  %-28s %10s %10s %8s" % ("", "mote", "QEMU", "ratio"))
    print("  %-28s %9.2fs %9.2fs %7.2fx  target <= 0.5x  %s" %
          ("start to init's first line", m[0], q[0], m[0] / q[0],
           "ok" if m[0] / q[0] <= 0.5 else "MISS"))
    print("  %-28s %9.2fs %9.2fs %7.2fx" %
          ("start to exit (poweroff)", m[1], q[1], m[1] / q[1]))
    print("  %-28s %8.1fM %9.1fM %7.2fx  (with the guest RAM the kernel "
          "touched)" % ("peak RSS, MiB", m[2] / 1024, q[2] / 1024,
                        m[2] / q[2]))
    print("  %-28s %8.1fM %9.1fM %7.2fx  target <= 5 MiB  %s" %
          ("monitor's own memory, MiB", own["mote"] / 1024,
           own["qemu"] / 1024, own["mote"] / own["qemu"],
           "ok" if own["mote"] <= 5 * 1024 else "MISS"))


if __name__ == "__main__":
    main()
