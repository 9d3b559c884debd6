/*
 * Device nodes and symlinks below ROOT. Each is created with an *at() call on the resolved parent
 * directory fd; mknodat/symlinkat never follow a symlink in the final component, so a planted
 * link cannot redirect the creation out of the root.
 */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

void op_mknod(struct plan *p, struct msg *m)
{
	const char *path = m->f[1], *last;
	mode_t type;
	switch (m->f[2][0]) {
	case 'c': case 'u': type = S_IFCHR; break;
	case 'b': type = S_IFBLK; break;
	case 'p': type = S_IFIFO; break;
	default: die("mknod %s: invalid type %s (valid: c, b, p, u)", path, m->f[2]);
	}
	dev_t dev = makedev((unsigned)parse_num("mknod", m->f[3], 10), (unsigned)parse_num("mknod", m->f[4], 10));
	mode_t mode = (mode_t)parse_num("mknod", m->f[5], 8) & 07777;
	uid_t uid = (uid_t)parse_num("mknod", m->f[6], 10);
	gid_t gid = (gid_t)parse_num("mknod", m->f[7], 10);
	int dir = inroot_parent(p, path, 1, &last);
	if (dir < 0)
		die_errno("mknod %s", path);
	/* An O_PATH directory fd is a valid dirfd for the *at() calls. */
	if (mknodat(dir, last, type | mode, dev) < 0) {
		if (errno != EEXIST || unlinkat(dir, last, 0) < 0 || mknodat(dir, last, type | mode, dev) < 0)
			die_errno("mknod %s", path);
	}
	/* mknod applies the umask; set the exact mode, then the owner. */
	if (fchmodat(dir, last, mode, 0) < 0)
		die_errno("mknod %s: chmod %o", path, mode);
	if (fchownat(dir, last, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		die_errno("mknod %s: chown %u:%u", path, uid, gid);
	close(dir);
}

/* In a user namespace mknod is not allowed, so devices are bind-mounted from the host instead. */
void op_bind_dev(struct plan *p, struct msg *m)
{
	char tp[PATH_MAX];
	int fd = inroot_open(p, m->f[1], O_PATH, "file");
	if (fd < 0)
		die_errno("bind-dev %s", m->f[1]);
	fd_path(p, fd, m->f[1], tp, sizeof(tp));
	if (mount(m->f[2], tp, NULL, MS_BIND, NULL) < 0)
		die_errno("bind-dev %s on %s", m->f[2], m->f[1]);
	close(fd);
}

void op_symlink(struct plan *p, struct msg *m)
{
	const char *target = m->f[1], *path = m->f[2], *last;
	int dir = inroot_parent(p, path, 1, &last);
	if (dir < 0)
		die_errno("symlink %s -> %s", path, target);
	if (symlinkat(target, dir, last) < 0) {
		struct stat st;
		/* Replace an existing link, never a file or directory. */
		if (errno != EEXIST || fstatat(dir, last, &st, AT_SYMLINK_NOFOLLOW) < 0)
			die_errno("symlink %s -> %s", path, target);
		if (!S_ISLNK(st.st_mode)) {
			errno = EEXIST;
			die_errno("symlink %s -> %s", path, target);
		}
		if (unlinkat(dir, last, 0) < 0 || symlinkat(target, dir, last) < 0)
			die_errno("symlink %s -> %s", path, target);
	}
	close(dir);
}
