/*
 * What the container's process holds when the config's paths come into play.
 *
 * The CVE-2024-21626 class (runc < 1.1.12, "Leaky Vessels"): a directory fd that refers to the
 * host and is still open in the container's process can be reached by path as
 * /proc/self/fd/<n>. O_CLOEXEC does not help: chdir(2), stat(2) and execve(2)'s own path lookup
 * happen *before* the exec closes anything. A `process.cwd` (an image's WORKDIR, `exec -w`) of
 * /proc/self/fd/<n> then starts the container in a host directory, and `..` from there walks up
 * to the host's root. Berth's helper holds several such fds on the way: the cgroup v2 directory
 * for CLONE_INTO_CGROUP, the detached monitor's state directories, id-mapped trees, the rootfs
 * before the pivot, and whatever its caller leaked to it.
 *
 * So the child closes every fd it does not need, at two points: right after the root change
 * (pivot/chroot: nothing of the host is needed after it), and in any case before the first op
 * whose path the config controls (`chdir`, `lookup`, `exec`; an exec plan has no root change).
 * What stays is checked: fds 0-2, the preserved fds (LISTEN_FDS, the caller's choice), and the
 * helper's own channels, each of which must be a socket, a pipe or a fifo (the sync socket, the
 * exec fifo, the console socket, front mode's pipe), or the container's own root. Anything else
 * is a bug, and the container does not start. After `chdir` the working directory is checked to
 * lie inside the container's root: the kernel's getcwd(2) says "(unreachable)" for a directory
 * that is not below the process's root (runc checks the same since 1.1.12).
 */
#include "helper.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* close_range(2) over [lo, hi], or a loop of close(2) where the kernel lacks it (< 5.9). */
static void close_span(unsigned lo, unsigned hi)
{
	if (lo > hi)
		return;
	if (syscall(SYS_close_range, lo, hi, 0) == 0)
		return;
	struct rlimit rl;
	unsigned max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (1u << 20) ? (unsigned)rl.rlim_cur : 1u << 20;
	for (unsigned fd = lo; fd <= hi && fd < max; fd++)
		close((int)fd);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* A kept fd must be one of the helper's channels (no path leads through those) or "/" itself. */
static void check_kept(struct plan *p, int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		die_errno("seal fds: fstat fd %d", fd);
	if (S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode))
		return;
	struct stat root;
	if (fd == p->root_fd && p->pivoted && stat("/", &root) == 0 && root.st_dev == st.st_dev && root.st_ino == st.st_ino)
		return;
	die("seal fds: fd %d (mode %o) would reach the container and is not one of the helper's channels", fd, (unsigned)st.st_mode);
}

void seal_fds(struct plan *p)
{
	if (p->sealed)
		return;
	p->sealed = 1;
	idmap_parent_close(); /* trees not attached by a `mount` op are no longer needed */
	if (!p->pivoted && p->root_fd >= 0) {
		/* an exec plan, or a plan whose root change failed to happen: ROOT is a host path */
		close(p->root_fd);
		p->root_fd = -1;
	}
	int keep[8], n = 0;
	int own[] = { p->sync_fd, p->fifo_fd, p->console_fd, p->front_wr, p->root_fd };
	int first = 3 + p->preserve;
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (own[i] >= first)
			keep[n++] = own[i];
	qsort(keep, (size_t)n, sizeof(int), cmp_int);
	unsigned lo = (unsigned)first;
	for (int i = 0; i < n; i++) {
		if ((unsigned)keep[i] > lo)
			close_span(lo, (unsigned)keep[i] - 1);
		lo = (unsigned)keep[i] + 1;
	}
	close_span(lo, ~0U);
	for (int i = 0; i < n; i++)
		check_kept(p, keep[i]);
}

/* `chdir` <path>: the fds are sealed first, and the result must be inside the root. */
void op_chdir(struct plan *p, struct msg *m)
{
	seal_fds(p);
	if (chdir(m->f[1]) < 0)
		die_errno("chdir %s", m->f[1]);
	/* The raw system call: glibc's getcwd turns "(unreachable)" into ENOENT. */
	char buf[PATH_MAX];
	if (syscall(SYS_getcwd, buf, sizeof(buf)) < 0)
		die_errno("chdir %s: getcwd", m->f[1]);
	if (buf[0] != '/')
		die("chdir %s: the working directory is outside the container's root", m->f[1]);
}
