#!/usr/bin/env bash
# Real Debian programs (dynamically linked) natively and under mote: the
# compatibility report of tests/compat/, one test per program.
exec bash tests/compat/run.sh "${O:-build}"
