#!/usr/bin/env python3
"""Runs a command on a new pseudo-terminal, types BYTES into it after
DELAY seconds (or, when DELAY is not a number, once the command has
written the text DELAY), and prints what the command wrote; exits with
its status (124 if it is still running after TIMEOUT seconds). For mote
boot's Ctrl-A x test (tests/suites/boot.sh).

Usage: tests/boot/onpty.py DELAY TIMEOUT BYTES CMD [ARGS...]
BYTES is a Python bytes literal's body, e.g. '\\x01x'."""
import os
import pty
import select
import signal
import sys
import time


def main():
    try:
        delay, wait_for = float(sys.argv[1]), None
    except ValueError:
        delay, wait_for = 0.0, sys.argv[1].encode()
    limit = float(sys.argv[2])
    keys = sys.argv[3].encode().decode("unicode_escape").encode("latin-1")
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(sys.argv[4], sys.argv[4:])
    start, typed, out = time.monotonic(), False, b""
    while True:
        now = time.monotonic() - start
        if not typed and now >= delay and (not wait_for or wait_for in out):
            os.write(fd, keys)
            typed = True
        if now >= limit:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            sys.stdout.write(out.decode(errors="replace"))
            return 124
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            if not data:
                break
            out += data
    _, st = os.waitpid(pid, 0)
    sys.stdout.write(out.decode(errors="replace"))
    return os.waitstatus_to_exitcode(st)


sys.exit(main())
