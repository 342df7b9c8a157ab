#!/usr/bin/env python3
"""make bench, mote boot: Debian's stock kernel booted by mote and by QEMU's
microvm (-M microvm -enable-kvm), with the same kernel, initramfs, memory,
one vCPU and command line, runs interleaved on the same KVM.

Reported, medians: the time from the start of the command to the init's
first line on the serial console, to the command's exit (the init powers
the guest off), and the command's peak RSS (which holds the guest RAM the
kernel touched as well as the monitor's own). Needs a hardware KVM
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
/bin/busybox poweroff -f
"""


def initramfs(work):
    """A busybox initramfs whose init prints the marker and powers off."""
    root = os.path.join(work, "root")
    os.makedirs(os.path.join(root, "bin"))
    bb = shutil.which("busybox")
    if not bb:
        sys.exit("bench/boot.py: busybox is missing (apt-get install busybox-static)")
    shutil.copy(bb, os.path.join(root, "bin", "busybox"))
    with open(os.path.join(root, "init"), "w") as f:
        f.write(INIT)
    os.chmod(os.path.join(root, "init"), 0o755)
    out = os.path.join(work, "initrd.cpio")
    names = subprocess.run(["find", "."], cwd=root, capture_output=True,
                           check=True).stdout
    with open(out, "wb") as f:
        subprocess.run(["busybox", "cpio", "-o", "-H", "newc"], cwd=root,
                       input=names, stdout=f, stderr=subprocess.DEVNULL,
                       check=True)
    return out


def once(argv):
    """One boot: (seconds to the marker, seconds to exit, peak RSS KiB)."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t_init = None
    buf = b""
    os.set_blocking(p.stdout.fileno(), True)
    while True:
        chunk = os.read(p.stdout.fileno(), 4096)
        if not chunk:
            break
        buf += chunk
        if t_init is None and MARKER in buf:
            t_init = time.monotonic() - t0
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
    return t_init, t_end, ru.ru_maxrss


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


if __name__ == "__main__":
    main()
