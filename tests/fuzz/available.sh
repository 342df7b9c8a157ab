#!/bin/sh
# Says (on stdout, status 1) why the fuzzers cannot be built here, or
# nothing (status 0): they need clang and its libFuzzer runtime
# (Debian: libclang-rt-14-dev).
if ! command -v clang >/dev/null 2>&1; then
	echo "clang is not installed (apt-get install clang libclang-rt-14-dev)"
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)\n{ return 0; }\n' >"$tmp/t.c"
if ! clang -fsanitize=fuzzer,address,undefined -o "$tmp/t" "$tmp/t.c" >/dev/null 2>&1; then
	echo "clang's libFuzzer runtime is missing (apt-get install libclang-rt-14-dev)"
	exit 1
fi
exit 0
