/*
 * The mount ops. Targets are resolved below ROOT by resolve.c and mounted through their
 * /proc/self/fd magic link, so a symlink in the image cannot redirect a mount onto the host.
 */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PROPAGATION (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)

/* Name a path for messages: ROOT/path before pivot, the path itself after. */
static const char *disp(struct plan *p, const char *path)
{
	static char buf[PATH_MAX + 64];
	snprintf(buf, sizeof(buf), "%s%s%s", p->pivoted || !p->root ? "" : p->root,
		 *path == '/' || p->pivoted ? "" : "/", path);
	return buf;
}

/*
 * Remount a bind mount with new flags. In a user namespace the kernel locks nosuid/nodev/noexec/
 * rdonly/atime flags inherited from the source (a remount that would clear them gets EPERM), so on
 * EPERM retry with the flags the mount already has added (runc does the same). Recursive
 * read-only needs mount_setattr(AT_RECURSIVE): MS_REMOUNT ignores MS_REC.
 */
static int remount_bind(struct plan *p, int fd, const char *path, unsigned long flags, const char *data)
{
	char tp[PATH_MAX];
	fd_path(p, fd, path, tp, sizeof(tp));
	unsigned long f = MS_BIND | MS_REMOUNT | (flags & ~(MS_BIND | MS_REC | MS_REMOUNT | PROPAGATION));
	if (mount(NULL, tp, NULL, f, data) < 0) {
		struct statvfs sv;
		if (errno != EPERM || statvfs(tp, &sv) < 0)
			return -1;
		static const struct { unsigned long st, ms; } lock[] = {
			{ ST_NOSUID, MS_NOSUID }, { ST_NODEV, MS_NODEV }, { ST_NOEXEC, MS_NOEXEC },
			{ ST_RDONLY, MS_RDONLY }, { ST_NOATIME, MS_NOATIME }, { ST_NODIRATIME, MS_NODIRATIME },
			{ ST_RELATIME, MS_RELATIME },
		};
		for (size_t i = 0; i < sizeof(lock) / sizeof(lock[0]); i++)
			if (sv.f_flag & lock[i].st)
				f |= lock[i].ms;
		if (mount(NULL, tp, NULL, f, data) < 0)
			return -1;
	}
	if ((flags & MS_REC) && (flags & MS_RDONLY)) {
		struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
		if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0 &&
		    errno != ENOSYS)
			return -1;
	}
	return 0;
}

void op_rootfs(struct plan *p, struct msg *m)
{
	p->root = m->f[1];
	unsigned long prop = (unsigned long)parse_num("rootfs", m->f[2], 10);
	/* Without this, our mounts would propagate back into the host's shared mounts. */
	if (prop && mount(NULL, "/", NULL, prop, NULL) < 0)
		die_errno("rootfs: make / propagation %lu", prop);
	/* pivot_root requires the new root to be a mount point. */
	if (mount(p->root, p->root, NULL, MS_BIND | MS_REC, NULL) < 0)
		die_errno("rootfs: bind %s on itself", p->root);
	p->root_fd = open(p->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (p->root_fd < 0)
		die_errno("rootfs: open %s", p->root);
}

void op_mount(struct plan *p, struct msg *m)
{
	const char *src = m->f[1], *target = m->f[2], *type = m->f[3], *data = m->f[5];
	unsigned long flags = (unsigned long)parse_num("mount", m->f[4], 10);
	/* Propagation flags make mount(2) change propagation only; apply them after mounting. */
	unsigned long prop = flags & PROPAGATION;
	flags &= ~PROPAGATION;
	char tp[PATH_MAX];
	const char *kind = *type ? type : (flags & MS_BIND) ? "bind" : "none";
	int fd = inroot_open(p, target, O_PATH, m->f[6]);
	if (fd < 0)
		die_errno("mount %s (%s) on %s", src, kind, disp(p, target));
	fd_path(p, fd, target, tp, sizeof(tp));
	/* tmpcopyup: keep the image's directory, which the new mount is about to hide. */
	int copyup = m->n > 7 && !strcmp(m->f[7], "tmpcopyup");
	int below = copyup ? open(tp, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (copyup && below < 0)
		die_errno("mount %s (%s) on %s: tmpcopyup", src, kind, disp(p, target));
	/* "idmap:<slot>": the id-mapped tree the parent made (idmap.c) goes there instead. */
	int idmapped = m->n > 7 && !strncmp(m->f[7], "idmap:", 6);
	if (idmapped ? idmap_attach(m->f[7] + 6, fd) < 0
		     : mount(*src ? src : NULL, tp, *type ? type : NULL, flags, *data ? data : NULL) < 0)
		die_errno("mount %s (%s%s) on %s", src, kind, idmapped ? ", id-mapped" : "", disp(p, target));
	close(fd);
	if (copyup) {
		int above = inroot_open(p, target, O_RDONLY | O_DIRECTORY, NULL);
		if (above < 0)
			die_errno("mount %s: reopen %s", src, disp(p, target));
		copy_tree(below, above);
		close(above);
		close(below);
	}
	if (!(flags & MS_BIND) && !prop)
		return;
	/* Reopen: the old fd names the directory under the new mount, not the mount itself. */
	fd = inroot_open(p, target, O_PATH, NULL);
	if (fd < 0)
		die_errno("mount %s: reopen %s", src, disp(p, target));
	if ((flags & MS_BIND) && (flags & ~(MS_BIND | MS_REC)) &&
	    remount_bind(p, fd, target, flags, *data ? data : NULL) < 0)
		die_errno("mount %s: remount %s with flags %lu", src, disp(p, target), flags);
	fd_path(p, fd, target, tp, sizeof(tp));
	if (prop && mount(NULL, tp, NULL, prop, NULL) < 0)
		die_errno("mount %s: propagation %lu on %s", src, prop, disp(p, target));
	close(fd);
}

void op_propagation(struct plan *p, struct msg *m)
{
	char tp[PATH_MAX];
	unsigned long flags = (unsigned long)parse_num("propagation", m->f[2], 10);
	int fd = inroot_open(p, m->f[1], O_PATH, NULL);
	if (fd < 0)
		die_errno("propagation %lu on %s", flags, disp(p, m->f[1]));
	fd_path(p, fd, m->f[1], tp, sizeof(tp));
	if (mount(NULL, tp, NULL, flags, NULL) < 0)
		die_errno("propagation %lu on %s", flags, disp(p, m->f[1]));
	close(fd);
}

/*
 * `mountattr` <target> <set> <clear>: the recursive mount options of the spec (rro, rnosuid,
 * rnoexec …, Linux 5.12+) set MOUNT_ATTR_* bits on the mount at target and every mount below it;
 * MS_REMOUNT cannot (it ignores MS_REC). TypeScript computed both masks (oci/mountopts.ts).
 */
void op_mountattr(struct plan *p, struct msg *m)
{
	struct mount_attr attr = {
		.attr_set = (uint64_t)parse_num("mountattr", m->f[2], 10),
		.attr_clr = (uint64_t)parse_num("mountattr", m->f[3], 10),
	};
	int fd = inroot_open(p, m->f[1], O_PATH, NULL);
	if (fd < 0)
		die_errno("mountattr on %s", disp(p, m->f[1]));
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		die_errno("mount_setattr(set %#llx, clear %#llx, recursive) on %s", (unsigned long long)attr.attr_set,
			  (unsigned long long)attr.attr_clr, disp(p, m->f[1]));
	close(fd);
}

static void after_root_change(struct plan *p)
{
	p->pivoted = 1;
	close(p->root_fd);
	p->root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (p->root_fd < 0)
		die_errno("open / after root change");
	seal_fds(p); /* fds.c: nothing of the host is needed from here on */
}

/*
 * pivot_root(".", ".") stacks the old root on top of the new one at "/"; we then detach it. The
 * old root is made rslave first so the detach cannot propagate to the host's mounts.
 */
void op_pivot(struct plan *p, struct msg *m)
{
	int old = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (old < 0 || fchdir(plan_root(p)) < 0)
		die_errno("pivot: chdir %s", p->root);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		die_errno("pivot_root %s", p->root);
	if (fchdir(old) < 0)
		die_errno("pivot: chdir old root");
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		die_errno("pivot: make old root rslave");
	if (umount2(".", MNT_DETACH) < 0)
		die_errno("pivot: detach old root");
	if (chdir("/") < 0)
		die_errno("pivot: chdir /");
	close(old);
	after_root_change(p);
}

/* --no-pivot (e.g. on a ramfs root where pivot_root fails): move ROOT over / and chroot. */
void op_chroot(struct plan *p, struct msg *m)
{
	if (fchdir(plan_root(p)) < 0)
		die_errno("chroot: chdir %s", p->root);
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		die_errno("chroot: move %s to /", p->root);
	if (chroot(".") < 0)
		die_errno("chroot %s", p->root);
	if (chdir("/") < 0)
		die_errno("chroot: chdir /");
	after_root_change(p);
}

void op_mask(struct plan *p, struct msg *m)
{
	char tp[PATH_MAX];
	struct stat st;
	int fd = inroot_open(p, m->f[1], O_PATH, NULL);
	if (fd < 0 && errno == ENOENT)
		return;
	if (fd < 0 || fstat(fd, &st) < 0)
		die_errno("mask %s", m->f[1]);
	fd_path(p, fd, m->f[1], tp, sizeof(tp));
	int r = S_ISDIR(st.st_mode) ? mount("tmpfs", tp, "tmpfs", MS_RDONLY, NULL)
				    : mount("/dev/null", tp, NULL, MS_BIND, NULL);
	if (r < 0)
		die_errno("mask %s", m->f[1]);
	close(fd);
}

void op_readonly(struct plan *p, struct msg *m)
{
	char tp[PATH_MAX];
	int fd = inroot_open(p, m->f[1], O_PATH, NULL);
	if (fd < 0 && errno == ENOENT)
		return;
	if (fd < 0)
		die_errno("readonly %s", m->f[1]);
	fd_path(p, fd, m->f[1], tp, sizeof(tp));
	if (mount(tp, tp, NULL, MS_BIND | MS_REC, NULL) < 0)
		die_errno("readonly %s: bind", m->f[1]);
	close(fd);
	fd = inroot_open(p, m->f[1], O_PATH, NULL);
	if (fd < 0 || remount_bind(p, fd, m->f[1], MS_RDONLY | MS_REC, NULL) < 0)
		die_errno("readonly %s: remount", m->f[1]);
	close(fd);
}

void op_remount(struct plan *p, struct msg *m)
{
	unsigned long flags = (unsigned long)parse_num("remount", m->f[2], 10);
	int fd = inroot_open(p, m->f[1], O_PATH, NULL);
	if (fd < 0 || remount_bind(p, fd, m->f[1], flags, NULL) < 0)
		die_errno("remount %s with flags %lu", disp(p, m->f[1]), flags);
	close(fd);
}
