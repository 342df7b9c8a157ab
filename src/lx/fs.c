/* PLACEHOLDER being replaced: path and metadata syscalls. */
#include <errno.h>
#include "lx/lx.h"
#define E(n) LX_SYS(n) { (void)t; (void)a; return -ENOSYS; }
E(open) E(openat) E(fstat) E(stat) E(lstat) E(newfstatat) E(statx) E(getdents64)
E(readlink) E(readlinkat) E(access) E(faccessat) E(faccessat2) E(getcwd) E(chdir)
E(fchdir) E(mkdir) E(mkdirat) E(unlink) E(unlinkat) E(rmdir) E(rename) E(renameat)
E(renameat2) E(link) E(linkat) E(symlink) E(symlinkat) E(chmod) E(fchmod) E(fchmodat)
E(chown) E(fchown) E(lchown) E(fchownat) E(utimensat) E(truncate) E(ftruncate)
E(fsync) E(fdatasync) E(umask)
