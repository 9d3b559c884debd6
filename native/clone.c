/*
 * Creating the container's init: the `cgroup-fd` and `timens` parent ops and the clone itself.
 *
 * CLONE_INTO_CGROUP (clone3, Linux 5.7) makes the child be born in its cgroup v2 directory. The
 * alternative, writing its pid to cgroup.procs afterwards, migrates a running task, and the first
 * migration after a quiet period takes cgroup_threadgroup_rwsem for writing, which waits for an
 * RCU grace period (10-20 ms). clone3 with stack 0 behaves like fork (the child runs on a
 * copy-on-write copy of our stack), like the raw clone() below.
 */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* `cgroup-fd` <dir>: keep an O_PATH fd of the cgroup v2 directory for CLONE_INTO_CGROUP. */
void op_cgroup_fd(struct plan *p, struct msg *m)
{
	NEED(m, 1, "cgroup-fd");
	if (p->cgroup_fd >= 0)
		close(p->cgroup_fd);
	p->cgroup_fd = open(m->f[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (p->cgroup_fd < 0)
		die_errno("cgroup-fd: open %s", m->f[1]);
}

/*
 * `timens` <offsets>: a new time namespace for our children. CLONE_NEWTIME cannot go to clone()
 * (0x80 is inside CSIGNAL, the exit signal byte), and the offsets can only be written while no
 * process is in the namespace yet: unshare(CLONE_NEWTIME) leaves us in our own time namespace
 * and makes the new one the one our children are born in (/proc/self/timens_offsets refers to
 * that one); the clone then freezes the offsets.
 */
void op_timens(struct msg *m)
{
	NEED(m, 1, "timens");
	if (unshare(CLONE_NEWTIME) < 0)
		die_errno("timens: unshare time namespace");
	if (m->len[1] == 0)
		return;
	int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die_errno("timens: open /proc/self/timens_offsets");
	/* The kernel parses the whole buffer in one write; a short write would lose a line. */
	if (write(fd, m->f[1], m->len[1]) != (ssize_t)m->len[1])
		die_errno("timens: write offsets %s", m->f[1]);
	close(fd);
}

/*
 * Clone with these CLONE_NEW* flags. With a cgroup fd, try clone3(CLONE_INTO_CGROUP) first; when
 * that fails (ENOSYS/E2BIG: a kernel without clone3 or without its cgroup field; anything else:
 * e.g. a cgroup namespace we joined that does not contain the target, or a threaded cgroup) fall
 * back to clone() in our own cgroup and let the runtime place the child. *born_in says which.
 */
pid_t clone_child(struct plan *p, long flags, int *born_in)
{
	*born_in = 0;
	if (p->cgroup_fd >= 0) {
		struct clone_args ca;
		memset(&ca, 0, sizeof(ca));
		ca.flags = (uint64_t)flags | CLONE_INTO_CGROUP;
		ca.exit_signal = SIGCHLD;
		ca.cgroup = (uint64_t)p->cgroup_fd;
		pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
		if (pid >= 0) {
			if (pid > 0)
				*born_in = 1;
			return pid;
		}
	}
	return (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, NULL);
}
