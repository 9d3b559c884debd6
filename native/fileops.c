/*
 * `berth-helper fileops`: the file operations Node's fs lacks, for layer unpacking.
 *
 * Node has no mknod(2) and no setxattr(2). Unpacking a layer for overlayfs needs both: every
 * whiteout is a 0:0 character device, every opaque directory an xattr, and layers carry device
 * nodes and file capabilities (security.capability). A process per call costs milliseconds, so
 * the unpacker starts this mode once, lazily, and sends it one message per operation in the
 * helper's framing (PROTOCOL.md) on stdin; each gets one answer on stdout, in order:
 *
 *   mknod <path> <type c|b|p> <mode octal> <major> <minor>   ->  "ok" | "error" <message>
 *   setxattr <path> <name> <value bytes>                     ->  "ok" | "error" <message>
 *
 * TypeScript has checked every path (it is below the layer's staging directory, its parents are
 * real directories it made); this only executes. A failed op is answered, not fatal: the caller
 * decides. EOF on stdin ends the mode with status 0.
 */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Answer "error" "<op> <path>: <strerror>"; returns the send result. */
static int answer_errno(const char *what, const char *path, int err)
{
	char buf[4096 + 64];
	int n = snprintf(buf, sizeof(buf), "%s %s: %s", what, path, strerror(err));
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	return proto_send(1, "error", buf, (size_t)n);
}

/* Answer "error" <msg> for a message with the wrong fields. */
static int bad_fields(const char *msg)
{
	return proto_send(1, "error", msg, strlen(msg));
}

/* Parse a whole-string number; 0 on success. */
static int num(const char *s, int base, unsigned long long *out)
{
	char *end;
	errno = 0;
	*out = strtoull(s, &end, base);
	return errno || end == s || *end ? -1 : 0;
}

/*
 * mknod with exactly `mode` (umask is 0 in this mode). Whether mknod(2) keeps setuid, setgid and
 * sticky bits is up to the filesystem, so a mode with any of them gets a chmod after it (like
 * coreutils' `mknod -m`). The last component is new (the caller cleared it) and nothing else
 * writes in an unpack's staging directory, so neither call can be led through a symlink.
 */
static int op_fileops_mknod(struct msg *m)
{
	unsigned long long mode, major, minor;
	if (m->n != 6 || num(m->f[3], 8, &mode) || num(m->f[4], 10, &major) || num(m->f[5], 10, &minor) || mode > 07777)
		return bad_fields("mknod: want <path> <type c|b|p> <mode octal> <major> <minor>");
	const char *path = m->f[1], *t = m->f[2];
	mode_t type = !strcmp(t, "c") ? S_IFCHR : !strcmp(t, "b") ? S_IFBLK : !strcmp(t, "p") ? S_IFIFO : 0;
	if (!type)
		return answer_errno("mknod (type must be c, b or p)", path, EINVAL);
	if (mknod(path, type | (mode_t)mode, makedev(major, minor)) < 0)
		return answer_errno("mknod", path, errno);
	if ((mode & 07000) && fchmodat(AT_FDCWD, path, (mode_t)mode, 0) < 0)
		return answer_errno("mknod (chmod)", path, errno);
	return proto_send(1, "ok", NULL, 0);
}

/* lsetxattr: on a symlink itself, never on what it points to. The value is binary-safe. */
static int op_fileops_setxattr(struct msg *m)
{
	if (m->n != 4)
		return bad_fields("setxattr: want <path> <name> <value>");
	if (lsetxattr(m->f[1], m->f[2], m->f[3], m->len[3], 0) < 0) {
		char what[320];
		snprintf(what, sizeof(what), "setxattr %s on", m->f[2]);
		return answer_errno(what, m->f[1], errno);
	}
	return proto_send(1, "ok", NULL, 0);
}

int main_fileops(void)
{
	/* Belongs to the unpack that started it (the thread, for a worker thread's unpack). */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	signal(SIGPIPE, SIG_IGN);
	umask(0);
	for (;;) {
		struct msg m;
		int r = proto_read(0, &m);
		if (r == 0)
			return 0;
		if (r < 0)
			die_errno("fileops: read");
		int s;
		if (!strcmp(m.f[0], "mknod"))
			s = op_fileops_mknod(&m);
		else if (!strcmp(m.f[0], "setxattr"))
			s = op_fileops_setxattr(&m);
		else
			s = answer_errno("unknown op", m.f[0], EINVAL);
		msg_free(&m);
		if (s < 0)
			return 1; /* stdout gone: the caller went away */
	}
}
