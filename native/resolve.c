/*
 * In-root path resolution.
 *
 * A container image is untrusted: its /etc may be a symlink to the host's /etc. Resolving
 * "ROOT/etc" with the host's root would follow it out. openat2(RESOLVE_IN_ROOT) resolves a path
 * as if ROOT were "/" (absolute symlinks and ".." stay inside), and RESOLVE_NO_MAGICLINKS refuses
 * /proc/<pid>/fd style links. The mount ops then mount onto "/proc/self/fd/<n>" of the resolved
 * O_PATH fd: mount(2) follows that magic link to exactly the object we resolved, so nothing can
 * be swapped in between (runc and crun do the same).
 */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int openat2_root(int root, const char *path, int flags)
{
	struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC),
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	for (int i = 0; i < 16; i++) { /* EAGAIN: a concurrent rename raced with ".." */
		int fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			return fd;
	}
	return -1;
}

/* ROOT's fd; an in-root path before the `rootfs` op is a plan error. */
int plan_root(struct plan *p)
{
	if (p->root_fd < 0)
		die("no rootfs op before an in-root path");
	return p->root_fd;
}

/*
 * Open the parent directory of path below ROOT, creating missing directories one component at
 * a time (mkdirat on the already-resolved parent fd, so a symlink planted in the image cannot
 * redirect the creation). *last points at the final component. Returns an O_PATH fd or -1.
 */
int inroot_parent(struct plan *p, const char *path, int create, const char **last)
{
	static char buf[PATH_MAX];
	if (strlen(path) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(buf, path);
	size_t n = strlen(buf);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = 0;
	char *slash = strrchr(buf, '/');
	*last = slash ? slash + 1 : buf;
	if (!**last || !strcmp(*last, ".") || !strcmp(*last, "..")) {
		errno = EINVAL;
		return -1;
	}
	int cur = openat2_root(plan_root(p), "", O_PATH | O_DIRECTORY);
	if (!slash || cur < 0)
		return cur;
	*slash = 0;
	/* Walk the prefixes "a", "a/b", ... each resolved from ROOT again. */
	for (char *c = buf;;) {
		while (*c == '/')
			c++;
		if (!*c)
			break;
		char *end = strchr(c, '/');
		if (end)
			*end = 0;
		int fd = openat2_root(p->root_fd, buf, O_PATH | O_DIRECTORY);
		if (fd < 0 && errno == ENOENT && create) {
			if (mkdirat(cur, c, 0755) < 0 && errno != EEXIST)
				goto fail;
			fd = openat2_root(p->root_fd, buf, O_PATH | O_DIRECTORY);
		}
		if (fd < 0)
			goto fail;
		close(cur);
		cur = fd;
		if (!end)
			break;
		*end = '/';
		c = end + 1;
	}
	*slash = '/';
	return cur;
fail:;
	int e = errno;
	close(cur);
	errno = e;
	return -1;
}

/* Open path below ROOT; when missing, create it as mkdir_mode ("dir", "file"; NULL/"none": no). */
int inroot_open(struct plan *p, const char *path, int flags, const char *mkdir_mode)
{
	int fd = openat2_root(plan_root(p), path, flags);
	int create = mkdir_mode && strcmp(mkdir_mode, "none");
	if (fd >= 0 || errno != ENOENT || !create)
		return fd;
	const char *last;
	int dir = inroot_parent(p, path, 1, &last);
	if (dir < 0)
		return -1;
	int r = !strcmp(mkdir_mode, "file") ? mknodat(dir, last, S_IFREG | 0644, 0) : mkdirat(dir, last, 0755);
	int e = errno;
	close(dir);
	if (r < 0 && e != EEXIST) {
		errno = e;
		return -1;
	}
	return openat2_root(p->root_fd, path, flags);
}

/*
 * The string to pass to mount(2) for a resolved fd: its /proc/self/fd magic link. After pivot a
 * container without /proc gets the plain path, which is safe then: "/" is already the container's
 * root, so no symlink can lead out of it.
 */
void fd_path(struct plan *p, int fd, const char *plain, char *buf, size_t n)
{
	if (access("/proc/self/fd", F_OK) == 0)
		snprintf(buf, n, "/proc/self/fd/%d", fd);
	else
		snprintf(buf, n, "%s%s%s", p->pivoted ? "" : p->root, *plain == '/' ? "" : "/", plain);
}
