/*
 * Creating the container's init: the `cgroup-fd` and `timens` parent ops and the clone itself.
 *
 * CLONE_INTO_CGROUP (clone3, Linux 5.7) makes the child be born in its cgroup v2 directory. The
 * alternative, writing its pid to cgroup.procs afterwards, migrates a running task, and the first
 * migration after a quiet period takes cgroup_threadgroup_rwsem for writing, which waits for an
 * RCU grace period (10-20 ms). clone3 with stack 0 behaves like fork (the child runs on a
 * copy-on-write copy of our stack), like the raw clone() below.
 *
 * cgroup v1 has no CLONE_INTO_CGROUP, so `cgroup-enter` moves the helper itself into the v1
 * directories before the clone and `cgroup-leave` moves it back right after: the child is born in
 * every hierarchy. The helper writes "0" to each `tasks` file: moving only the calling thread
 * needs no cgroup_threadgroup_rwsem (linux >= 6.2, "cgroup: Optimize single thread migration"),
 * so neither move waits for a grace period (measured here: 0.1-0.4 ms for eight hierarchies,
 * against 6-20 ms for the first cgroup.procs write after an idle period). The helper is
 * single-threaded, so its thread is the whole process. While it sits inside, it counts in
 * pids.current: with pids.max 1 the clone fails (EAGAIN), and the helper then leaves and clones
 * outside, reporting "0" so the runtime places the child.
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
	if (p->cgroup_fd >= 0)
		close(p->cgroup_fd);
	p->cgroup_fd = open(m->f[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (p->cgroup_fd < 0)
		die_errno("cgroup-fd: open %s", m->f[1]);
}

/* Writes "0" (the calling thread) to each dir's `tasks`; returns -1 with errno on a failure. */
static int move_self(struct msg *m, size_t *failed)
{
	for (size_t i = 1; i < m->n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/tasks", m->f[i]);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1) {
			int e = errno;
			if (fd >= 0)
				close(fd);
			*failed = i;
			errno = e;
			return -1;
		}
		close(fd);
	}
	return 0;
}

/* `cgroup-enter` <v1 dir>...: move the helper into the container's v1 cgroups (see above). */
void op_cgroup_enter(struct plan *p, struct msg *m)
{
	size_t bad;
	p->cg_enter = m;
	if (move_self(m, &bad) < 0)
		die_errno("cgroup-enter: write 0 to %s/tasks", m->f[bad]);
	p->cg_entered = 1;
}

/*
 * `cgroup-self` <v1 dir>: a child op: the child moves itself ("0" to tasks, no rwsem wait) into
 * a cgroup the helper did not enter, the v1 memory cgroup, where a tiny limit would OOM-kill
 * the helper itself.
 */
void op_cgroup_self(struct plan *p, struct msg *m)
{
	size_t bad;
	if (move_self(m, &bad) < 0)
		die_errno("cgroup-self: write 0 to %s/tasks", m->f[bad]);
}

/* Back to the `cgroup-leave` dirs (the helper's own cgroups, as the runtime saw them). */
static int cgroup_leave(struct plan *p)
{
	size_t bad;
	if (!p->cg_entered)
		return 0;
	if (!p->cg_leave || move_self(p->cg_leave, &bad) < 0)
		return -1;
	p->cg_entered = 0;
	return 0;
}

/*
 * `timens` <offsets>: a new time namespace for our children. CLONE_NEWTIME cannot go to clone()
 * (0x80 is inside CSIGNAL, the exit signal byte), and the offsets can only be written while no
 * process is in the namespace yet: unshare(CLONE_NEWTIME) leaves us in our own time namespace
 * and makes the new one the one our children are born in (/proc/self/timens_offsets refers to
 * that one); the clone then freezes the offsets.
 */
void op_timens(struct plan *p, struct msg *m)
{
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
static pid_t clone_once(struct plan *p, long flags, int *into)
{
	*into = 0;
	if (p->cgroup_fd >= 0) {
		struct clone_args ca;
		memset(&ca, 0, sizeof(ca));
		ca.flags = (uint64_t)flags | CLONE_INTO_CGROUP;
		ca.exit_signal = SIGCHLD;
		ca.cgroup = (uint64_t)p->cgroup_fd;
		pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
		if (pid >= 0) {
			*into = 1;
			return pid;
		}
	}
	return (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

/*
 * The clone, with the cgroup placement above. *born_in is 1 when the child was born in every
 * cgroup the plan named (the `cgroup-fd` dir and the `cgroup-enter` dirs), else 0.
 */
pid_t clone_child(struct plan *p, long flags, int *born_in)
{
	int into;
	*born_in = 0;
	pid_t pid = clone_once(p, flags, &into);
	if (pid < 0 && p->cg_entered && (errno == EAGAIN || errno == ENOMEM)) {
		/* the container's pids.max (or memory.max) counted the helper: clone outside */
		if (cgroup_leave(p) < 0)
			die_errno("cgroup-leave after a failed clone");
		pid = clone_once(p, flags, &into);
	}
	if (pid <= 0)
		return pid;
	int entered = p->cg_entered;
	if (cgroup_leave(p) < 0) {
		int e = errno;
		kill(pid, SIGKILL);
		errno = e;
		die_errno("cgroup-leave: cannot move the helper back out of the container's cgroups");
	}
	int named = p->cgroup_fd >= 0 || p->cg_enter;
	*born_in = named && (p->cgroup_fd < 0 || into) && (!p->cg_enter || entered);
	return pid;
}
