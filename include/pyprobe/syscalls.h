/* SPDX-License-Identifier: MIT */
/*
 * Why a blocked thread is off CPU, from the system call it is blocked in.
 * Shared by the BPF programs (sched_switch) and the daemon (seeding threads that
 * were already blocked at attach time from /proc/PID/task/TID/syscall), so both
 * decide the same way. x86-64 system call numbers. Include events.h first.
 */
#ifndef PYPROBE_SYSCALLS_H
#define PYPROBE_SYSCALLS_H

enum pp_sc_class {
	PP_SC_OTHER = 0,
	PP_SC_FD_IO,	/* read/write family: the fd's kind decides net vs file */
	PP_SC_NET,	/* socket-only calls */
	PP_SC_FILE,	/* file-system calls: open, stat, fsync, ... */
	PP_SC_POLL,	/* poll/select/epoll: sleep when they watch no fd */
	PP_SC_SLEEP,
	PP_SC_FUTEX,	/* GIL wait or lock wait, by address */
	PP_SC_LOCK,	/* other locks: flock, semop, futex_waitv */
	PP_SC_FCNTL,	/* lock wait for F_SETLKW, else file */
	PP_SC_CHILD,
	PP_SC_ACCEPT,	/* waiting for a connection: waiting for work */
};

/* What kind of file an fd refers to (from the inode mode). */
enum pp_fd_kind {
	PP_FD_UNKNOWN = 0,
	PP_FD_SOCKET,	/* network (inet, netlink, ...) */
	PP_FD_UNIX,	/* Unix-domain socket: a peer on this host */
	PP_FD_FILE,	/* regular file or block device */
	PP_FD_PIPE,
	PP_FD_CHAR,	/* tty, /dev/... */
	PP_FD_ANON,	/* eventfd, timerfd, ... */
};

#define PP_FUTEX_CMD_MASK 0x7f
#define PP_FUTEX_WAIT 0
#define PP_FUTEX_WAIT_BITSET 9
#define PP_F_SETLKW 7
#define PP_F_OFD_SETLKW 38

static inline int pp_syscall_class(long nr)
{
	switch (nr) {
	case 0: case 1: case 17: case 18: case 19: case 20:	/* read write pread pwrite readv writev */
	case 40: case 275: case 276: case 278:			/* sendfile splice tee vmsplice */
	case 295: case 296: case 326: case 327: case 328:	/* preadv pwritev copy_file_range preadv2 pwritev2 */
		return PP_SC_FD_IO;
	case 42: case 44: case 45: case 46: case 47:		/* connect sendto recvfrom sendmsg recvmsg */
	case 48: case 299: case 307:				/* shutdown recvmmsg sendmmsg */
		return PP_SC_NET;
	case 43: case 288:					/* accept accept4 */
		return PP_SC_ACCEPT;
	case 2: case 3: case 4: case 5: case 6: case 8:		/* open close stat fstat lstat lseek */
	case 21: case 26: case 74: case 75: case 76: case 77:	/* access msync fsync fdatasync truncate ftruncate */
	case 78: case 82: case 83: case 84: case 85: case 86:	/* getdents rename mkdir rmdir creat link */
	case 87: case 89: case 162: case 206: case 208:	/* unlink readlink sync io_setup io_getevents */
	case 217: case 257: case 258: case 262: case 263:	/* getdents64 openat mkdirat newfstatat unlinkat */
	case 264: case 267: case 269: case 277: case 285:	/* renameat readlinkat faccessat sync_file_range fallocate */
	case 306: case 316: case 332: case 333: case 426:	/* syncfs renameat2 statx io_pgetevents io_uring_enter */
	case 437: case 439:					/* openat2 faccessat2 */
		return PP_SC_FILE;
	case 7: case 23: case 232: case 270: case 271:		/* poll select epoll_wait pselect6 ppoll */
	case 281: case 441:					/* epoll_pwait epoll_pwait2 */
		return PP_SC_POLL;
	case 34: case 35: case 128: case 130: case 230:	/* pause nanosleep rt_sigtimedwait rt_sigsuspend clock_nanosleep */
		return PP_SC_SLEEP;
	case 202:						/* futex */
		return PP_SC_FUTEX;
	case 65: case 73: case 220: case 449:			/* semop flock semtimedop futex_waitv */
		return PP_SC_LOCK;
	case 72:						/* fcntl */
		return PP_SC_FCNTL;
	case 61: case 247:					/* wait4 waitid */
		return PP_SC_CHILD;
	default:
		return PP_SC_OTHER;
	}
}

/*
 * The bucket a thread blocked in system call nr (class cls from
 * pp_syscall_class) is in. fd_kind is the kind of the fd in arg0 (needed for
 * PP_SC_FD_IO only); gil_kind is the GIL wait kind when a futex WAIT is on the
 * GIL, or -1.
 */
static inline int pp_block_bucket(int cls, long nr, unsigned long a0, unsigned long a1,
				  int fd_kind, int gil_kind)
{
	switch (cls) {
	case PP_SC_FD_IO:
		if (fd_kind == PP_FD_SOCKET)
			return PP_B_NET_IO;
		if (fd_kind == PP_FD_FILE)
			return PP_B_FILE_IO;
		if (fd_kind == PP_FD_PIPE || fd_kind == PP_FD_UNIX)
			return PP_B_IPC_WAIT;
		return PP_B_OTHER;	/* ttys, eventfds */
	case PP_SC_NET:
		return fd_kind == PP_FD_UNIX ? PP_B_IPC_WAIT : PP_B_NET_IO;
	case PP_SC_ACCEPT:
		return PP_B_POLL_WAIT;
	case PP_SC_FILE:
		return PP_B_FILE_IO;
	case PP_SC_POLL:
		/* poll/ppoll count fds in arg1, select/pselect6 in arg0 (time.sleep <= 3.10) */
		if (((nr == 7 || nr == 271) && a1 == 0) || ((nr == 23 || nr == 270) && a0 == 0))
			return PP_B_SLEEP;
		return PP_B_POLL_WAIT;
	case PP_SC_SLEEP:
		return PP_B_SLEEP;
	case PP_SC_FUTEX:
		return gil_kind >= 0 ? PP_B_GIL_WAIT : PP_B_LOCK_WAIT;
	case PP_SC_LOCK:
		return PP_B_LOCK_WAIT;
	case PP_SC_FCNTL:
		return (a1 == PP_F_SETLKW || a1 == PP_F_OFD_SETLKW) ? PP_B_LOCK_WAIT : PP_B_FILE_IO;
	case PP_SC_CHILD:
		return PP_B_CHILD_WAIT;
	default:
		return PP_B_OTHER;
	}
}

static inline int pp_futex_is_wait(unsigned long op)
{
	op &= PP_FUTEX_CMD_MASK;
	return op == PP_FUTEX_WAIT || op == PP_FUTEX_WAIT_BITSET;
}

/* GIL wait kind of a futex word at addr, or -1 when it is not in the GIL (ranges: pp_target's). */
static inline int pp_gil_kind(const struct pp_range *gil, unsigned long addr)
{
	for (int i = 0; i < PP_GIL_RANGES; i++) {
		if (addr >= gil[i].lo && addr < gil[i].hi)
			return i < 2 ? PP_GIL_ACQUIRE : PP_GIL_HANDOFF;
	}
	return -1;
}

#endif /* PYPROBE_SYSCALLS_H */
