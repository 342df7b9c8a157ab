/* Declarations of every syscall handler (expanded inside lx.h). The table
 * that maps numbers to these lives in syscall.c. */

/* io.c: data transfer, descriptors, polling */
LX_SYS(read);
LX_SYS(write);
LX_SYS(readv);
LX_SYS(writev);
LX_SYS(pread64);
LX_SYS(pwrite64);
LX_SYS(lseek);
LX_SYS(close);
LX_SYS(dup);
LX_SYS(dup2);
LX_SYS(dup3);
LX_SYS(pipe);
LX_SYS(pipe2);
LX_SYS(fcntl);
LX_SYS(ioctl);
LX_SYS(poll);
LX_SYS(ppoll);
LX_SYS(select);
LX_SYS(pselect6);

/* fs.c: paths and metadata */
LX_SYS(open);
LX_SYS(openat);
LX_SYS(fstat);
LX_SYS(stat);
LX_SYS(lstat);
LX_SYS(newfstatat);
LX_SYS(statx);
LX_SYS(getdents64);
LX_SYS(readlink);
LX_SYS(readlinkat);
LX_SYS(access);
LX_SYS(faccessat);
LX_SYS(faccessat2);
LX_SYS(getcwd);
LX_SYS(chdir);
LX_SYS(fchdir);
LX_SYS(mkdir);
LX_SYS(mkdirat);
LX_SYS(unlink);
LX_SYS(unlinkat);
LX_SYS(rmdir);
LX_SYS(rename);
LX_SYS(renameat);
LX_SYS(renameat2);
LX_SYS(link);
LX_SYS(linkat);
LX_SYS(symlink);
LX_SYS(symlinkat);
LX_SYS(chmod);
LX_SYS(fchmod);
LX_SYS(fchmodat);
LX_SYS(chown);
LX_SYS(fchown);
LX_SYS(lchown);
LX_SYS(fchownat);
LX_SYS(utimensat);
LX_SYS(truncate);
LX_SYS(ftruncate);
LX_SYS(fsync);
LX_SYS(fdatasync);
LX_SYS(umask);

/* mm.c: memory */
LX_SYS(brk);
LX_SYS(mmap);
LX_SYS(munmap);
LX_SYS(mprotect);
LX_SYS(mremap);
LX_SYS(madvise);
/* mmpage.c */
LX_SYS(msync);
LX_SYS(mincore);

/* misc.c: identity, time, limits, signal dispositions and masks */
LX_SYS(arch_prctl);
LX_SYS(set_robust_list);
LX_SYS(prlimit64);
LX_SYS(getrlimit);
LX_SYS(setrlimit);
LX_SYS(uname);
LX_SYS(sysinfo);
LX_SYS(getpid);
LX_SYS(getppid);
LX_SYS(gettid);
LX_SYS(getuid);
LX_SYS(geteuid);
LX_SYS(getgid);
LX_SYS(getegid);
LX_SYS(getgroups);
LX_SYS(getrandom);
LX_SYS(clock_gettime);
LX_SYS(clock_getres);
LX_SYS(gettimeofday);
LX_SYS(time);
LX_SYS(nanosleep);
LX_SYS(clock_nanosleep);
LX_SYS(rt_sigaction);
LX_SYS(rt_sigprocmask);
LX_SYS(sched_getaffinity);
LX_SYS(sched_yield);

/* process.c: fork, wait, signals to processes, process groups */
LX_SYS(fork);
LX_SYS(vfork);
LX_SYS(clone);
LX_SYS(clone3);
LX_SYS(wait4);
LX_SYS(waitid);
LX_SYS(kill);
LX_SYS(tgkill);
LX_SYS(tkill);
LX_SYS(setpgid);
LX_SYS(getpgid);
LX_SYS(getpgrp);
LX_SYS(setsid);
LX_SYS(getsid);

/* exec.c */
LX_SYS(execve);
LX_SYS(execveat);

/* signal.c */
LX_SYS(rt_sigreturn);
LX_SYS(rt_sigpending);
LX_SYS(rt_sigsuspend);
LX_SYS(pause);
LX_SYS(sigaltstack);
LX_SYS(alarm);
LX_SYS(setitimer);
LX_SYS(getitimer);

/* thread.c */
LX_SYS(exit);
LX_SYS(exit_group);
LX_SYS(set_tid_address);
LX_SYS(futex);
LX_SYS(sched_setaffinity);
LX_SYS(getcpu);
