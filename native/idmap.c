/*
 * Id-mapped mounts: the `idmap-tree` parent op, the child's attaching of such a tree (`mount`
 * with srcflags "idmap:<slot>"), and the one-shot `idmapped-overlay` mode the engine uses for
 * the lower layers of a container's overlay.
 *
 * An id-mapped mount is a detached copy of a tree (open_tree(OPEN_TREE_CLONE)) on which
 * mount_setattr(MOUNT_ATTR_IDMAP) sets the id mapping of a user namespace. The kernel allows
 * that only (a) on a mount nobody has seen yet (a detached one), (b) to a caller with
 * CAP_SYS_ADMIN over the file system's own user namespace (the host's, for host file systems)
 * and over the user namespace given. The container's init has neither: it lives in its own user
 * namespace. So the helper makes the trees on the parent side, before any `setns`, while it
 * still has the host's privileges, and the child inherits the fds with its copy of the fd
 * table and moves the trees into place with move_mount(2), which only needs CAP_SYS_ADMIN over
 * its own mount namespace.
 *
 * The user namespace only lends its mapping: since Linux 6.3 the mount keeps a copy of it
 * (struct mnt_idmap), before that a reference. So a namespace made here with the container's
 * mapping gives the same mount as the container's own namespace would, and it can be made
 * before the container exists. A namespace given by path (a container joining one) is opened.
 */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_SLOTS 256
static int slots[MAX_SLOTS];
static int nslots; /* slots[0 .. nslots-1] are in use; -1 = taken by the child */

/* Write a whole map file of process pid (one write: the kernel accepts only one). */
static int write_map(pid_t pid, const char *file, const char *text)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t len = (ssize_t)strlen(text);
	ssize_t n = write(fd, text, (size_t)len);
	int saved = errno;
	close(fd);
	errno = saved;
	return n == len ? 0 : -1;
}

/*
 * A user namespace with these uid_map/gid_map texts, as an fd: a child is cloned into a new
 * user namespace and waits on a pipe while its maps are written and its ns file opened, then
 * exits when the pipe closes. The namespace lives on through the fd. Returns -1 with errno set.
 */
static int userns_from_maps(const char *uidmap, const char *gidmap)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		char c;
		close(pfd[1]);
		while (read(pfd[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(pfd[0]);
	int fd = -1, saved = 0;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	/* As host root, gid_map can be written without first denying setgroups. */
	if (write_map(pid, "uid_map", uidmap) < 0 || write_map(pid, "gid_map", gidmap) < 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		saved = errno;
	close(pfd[1]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	errno = saved;
	return saved ? -1 : fd;
}

/*
 * A detached, id-mapped copy of the tree at source (an fd, close-on-exec). `rec_clone`: copy the
 * mounts below source too (rbind, ridmap); `rec_attr`: id-map them all (ridmap), otherwise only
 * the top one is (idmap: a submount of a file system that cannot be id-mapped stays as it is).
 * On failure it dies with a message naming `what`.
 */
static int idmapped_tree(const char *what, const char *source, int rec_clone, int rec_attr, int userns)
{
	int fd = (int)syscall(SYS_open_tree, AT_FDCWD, source,
			      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (rec_clone ? AT_RECURSIVE : 0));
	if (fd < 0)
		die_errno("%s: open_tree %s", what, source);
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns };
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (rec_attr ? AT_RECURSIVE : 0), &attr, sizeof(attr)) < 0) {
		/* EINVAL: a file system without idmap support (FS_ALLOW_IDMAP), or a mapping that
		 * is the file system's own; EPERM: an already id-mapped mount. */
		const char *why = errno == EINVAL ? " (a file system without id-mapped mount support?)" : "";
		die_errno("%s: mount_setattr(MOUNT_ATTR_IDMAP) on %s%s", what, source, why);
	}
	return fd;
}

static int userns_fd(const char *what, const char *uidmap, const char *gidmap, const char *path)
{
	int fd = *path ? open(path, O_RDONLY | O_CLOEXEC) : userns_from_maps(uidmap, gidmap);
	if (fd < 0) {
		if (*path)
			die_errno("%s: open user namespace %s", what, path);
		die_errno("%s: make a user namespace with uid_map \"%s\"", what, uidmap);
	}
	return fd;
}

/*
 * `idmap-tree` <slot> <source> <rec clone 0|1> <rec attr 0|1> <uid_map text> <gid_map text>
 * <userns path or "">: parent op, before any setns (host paths, host privileges).
 */
void op_idmap_tree(struct plan *p, struct msg *m)
{
	long slot = (long)parse_num("idmap-tree", m->f[1], 10);
	if (slot != nslots || slot >= MAX_SLOTS)
		die("idmap-tree: slot %ld out of order (expected %d)", slot, nslots);
	char what[64];
	snprintf(what, sizeof(what), "idmap-tree %ld", slot);
	int ns = userns_fd(what, m->f[5], m->f[6], m->f[7]);
	slots[nslots++] = idmapped_tree(what, m->f[2], !strcmp(m->f[3], "1"), !strcmp(m->f[4], "1"), ns);
	close(ns);
}

/*
 * Parent, after the clone: drop our copies. The child holds its own references to the same
 * open files, and the kernel dissolves a detached tree only when its last reference goes while
 * it is still detached; once the child has attached it, closing changes nothing.
 */
void idmap_parent_close(void)
{
	for (int i = 0; i < nslots; i++)
		if (slots[i] >= 0)
			close(slots[i]);
}

/*
 * Child: attach the tree of `slot` onto the in-root target opened as `target_fd` (O_PATH).
 * Moving through fds (MOVE_MOUNT_T_EMPTY_PATH) keeps the safety of inroot_open: no path is
 * looked up again after it was resolved below ROOT.
 */
int idmap_attach(const char *spec, int target_fd)
{
	long slot = (long)parse_num("mount", spec, 10);
	if (slot < 0 || slot >= nslots || slots[slot] < 0) {
		errno = EBADF;
		return -1;
	}
	if (syscall(SYS_move_mount, slots[slot], "", target_fd, "",
		    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return -1;
	close(slots[slot]);
	slots[slot] = -1;
	return 0;
}

/*
 * One-shot `idmapped-overlay <layers dir> <uid_map> <gid_map> <target> <options>`: mount an
 * overlay at target whose relative lowerdir paths (in options) are looked up in an id-mapped,
 * detached copy of the layers dir: the helper chdirs into that copy first. Overlayfs keeps its
 * own private clone of each layer (clone_private_mount, which accepts a detached tree since
 * Linux 6.15), so the copy is never attached anywhere and vanishes with this process: nothing
 * on the host can reach the layers through it, and nothing is left to clean up after a crash.
 * The upper and work dirs (absolute paths in options) are the file system's own, not id-mapped:
 * files the container writes keep the owner it writes them as.
 */
int main_idmapped_overlay(const char *layers, const char *uidmap, const char *gidmap, const char *target, const char *options)
{
	int ns = userns_fd("idmapped-overlay", uidmap, gidmap, "");
	int fd = idmapped_tree("idmapped-overlay", layers, 0, 0, ns);
	close(ns);
	if (fchdir(fd) < 0)
		die_errno("idmapped-overlay: chdir into the id-mapped copy of %s", layers);
	if (mount("overlay", target, "overlay", 0, options) < 0)
		die_errno("idmapped-overlay: mount overlay on %s (layers of %s)", target, layers);
	close(fd);
	return 0;
}
