#!/usr/bin/env bash
# The hostile guests (tests/hostile) under the sanitizer build's mote, as
# asan.sh runs tests/guest: a suite of its own, so that the test VMs can
# share the work out.
ASAN_GUESTS=hostile exec bash tests/suites/asan.sh
