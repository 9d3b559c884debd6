/*
 * tmpcopyup: a tmpfs mounted over a directory of the image starts with that directory's
 * contents (crun's extension, used by podman for --read-only containers' /tmp, /run ...).
 * The directory is opened before the mount, so its fd still names the image's directory once
 * the tmpfs hides it; the tree is then copied into the tmpfs with owners, modes and times.
 */
#include "helper.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static void copy_file(int from_dir, int to_dir, const char *name, const struct stat *st)
{
	int in = openat(from_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		die_errno("tmpcopyup: open %s", name);
	int out = openat(to_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st->st_mode & 07777);
	if (out < 0)
		die_errno("tmpcopyup: create %s", name);
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0)
			die_errno("tmpcopyup: read %s", name);
		if (n == 0)
			break;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0)
				die_errno("tmpcopyup: write %s", name);
			off += w;
		}
	}
	close(in);
	close(out);
}

/* Copy the entries of directory fd `from` into directory fd `to`, recursively. */
void copy_tree(int from, int to)
{
	int scan = dup(from);
	DIR *d = scan < 0 ? NULL : fdopendir(scan);
	if (!d)
		die_errno("tmpcopyup: read directory");
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(from, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			die_errno("tmpcopyup: stat %s", e->d_name);
		if (S_ISDIR(st.st_mode)) {
			if (mkdirat(to, e->d_name, st.st_mode & 07777) < 0)
				die_errno("tmpcopyup: mkdir %s", e->d_name);
			int a = openat(from, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int b = openat(to, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (a < 0 || b < 0)
				die_errno("tmpcopyup: open directory %s", e->d_name);
			copy_tree(a, b);
			close(a);
			close(b);
		} else if (S_ISREG(st.st_mode)) {
			copy_file(from, to, e->d_name, &st);
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(from, e->d_name, target, sizeof(target) - 1);
			if (n < 0)
				die_errno("tmpcopyup: readlink %s", e->d_name);
			target[n] = 0;
			if (symlinkat(target, to, e->d_name) < 0)
				die_errno("tmpcopyup: symlink %s", e->d_name);
		} else if (mknodat(to, e->d_name, st.st_mode, st.st_rdev) < 0) {
			die_errno("tmpcopyup: mknod %s", e->d_name);
		}
		if (fchownat(to, e->d_name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
			die_errno("tmpcopyup: chown %s", e->d_name);
		if (!S_ISLNK(st.st_mode) && fchmodat(to, e->d_name, st.st_mode & 07777, 0) < 0)
			die_errno("tmpcopyup: chmod %s", e->d_name);
		struct timespec times[2] = { st.st_atim, st.st_mtim };
		utimensat(to, e->d_name, times, AT_SYMLINK_NOFOLLOW);
	}
	closedir(d);
}
