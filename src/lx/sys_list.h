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

/* net.c: sockets, addresses, options */
LX_SYS(socket);
LX_SYS(socketpair);
LX_SYS(bind);
LX_SYS(listen);
LX_SYS(accept);
LX_SYS(accept4);
LX_SYS(connect);
LX_SYS(getsockname);
LX_SYS(getpeername);
LX_SYS(shutdown);
LX_SYS(setsockopt);
LX_SYS(getsockopt);

/* netmsg.c: sending and receiving */
LX_SYS(sendto);
LX_SYS(recvfrom);
LX_SYS(sendmsg);
LX_SYS(recvmsg);
LX_SYS(sendmmsg);
LX_SYS(recvmmsg);

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

/* event.c: epoll, eventfd, timerfd */
LX_SYS(epoll_create);
LX_SYS(epoll_create1);
LX_SYS(epoll_ctl);
LX_SYS(epoll_wait);
LX_SYS(epoll_pwait);
LX_SYS(epoll_pwait2);
LX_SYS(eventfd);
LX_SYS(eventfd2);
LX_SYS(timerfd_create);
LX_SYS(timerfd_settime);
LX_SYS(timerfd_gettime);

/* sigfd.c */
LX_SYS(signalfd);
LX_SYS(signalfd4);

/* task.c: usage, priorities, prctl, memory locks, membarrier, caps */
LX_SYS(getrusage);
LX_SYS(times);
LX_SYS(getpriority);
LX_SYS(setpriority);
LX_SYS(sched_getparam);
LX_SYS(sched_getscheduler);
LX_SYS(sched_get_priority_max);
LX_SYS(sched_get_priority_min);
LX_SYS(prctl);
LX_SYS(mlock);
LX_SYS(munlock);
LX_SYS(mlock2);
LX_SYS(mlockall);
LX_SYS(munlockall);
LX_SYS(membarrier);
LX_SYS(capget);
LX_SYS(capset);

/* fileops.c: memfd, in-kernel copies, statfs, xattrs, close_range */
LX_SYS(memfd_create);
LX_SYS(copy_file_range);
LX_SYS(sendfile);
LX_SYS(splice);
LX_SYS(tee);
LX_SYS(fallocate);
LX_SYS(flock);
LX_SYS(fadvise64);
LX_SYS(statfs);
LX_SYS(fstatfs);
LX_SYS(getxattr);
LX_SYS(lgetxattr);
LX_SYS(fgetxattr);
LX_SYS(listxattr);
LX_SYS(llistxattr);
LX_SYS(flistxattr);
LX_SYS(setxattr);
LX_SYS(lsetxattr);
LX_SYS(fsetxattr);
LX_SYS(removexattr);
LX_SYS(lremovexattr);
LX_SYS(fremovexattr);
LX_SYS(close_range);

/* thread.c */
LX_SYS(exit);
LX_SYS(exit_group);
LX_SYS(set_tid_address);
LX_SYS(futex);
LX_SYS(sched_setaffinity);
LX_SYS(getcpu);
