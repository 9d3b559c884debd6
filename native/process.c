/*
 * The process ops: limits, identity, capabilities, seccomp, sysctl and the final execve.
 * Their order is the runtime's: e.g. keepcaps, user, caps (setresuid away from 0 clears the
 * permitted set unless PR_SET_KEEPCAPS is on, and always clears the effective set), then
 * ambient (which needs the capability in permitted and inheritable), then seccomp last.
 */
#include <sys/stat.h>
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static uint64_t parse_mask(const char *op, const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 16);
	if (errno || end == s || *end)
		die("%s: invalid capability mask %s", op, s);
	return v;
}

static rlim_t parse_rlim(const char *s)
{
	if (!strcmp(s, "-1"))
		return RLIM_INFINITY;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-')
		die("rlimit: invalid value %s", s);
	return (rlim_t)v;
}

void op_rlimit(struct plan *p, struct msg *m)
{
	int res = (int)parse_num("rlimit", m->f[1], 10);
	struct rlimit rl = { parse_rlim(m->f[2]), parse_rlim(m->f[3]) };
	if (setrlimit(res, &rl) < 0)
		die_errno("rlimit %d %s %s", res, m->f[2], m->f[3]);
}

/* PR_CAPBSET_DROP each capability the kernel knows (EINVAL marks the end) that is not kept. */
void op_bounding(struct plan *p, struct msg *m)
{
	uint64_t keep = parse_mask("bounding", m->f[1]);
	for (int cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0)
			break;
		if (!(keep & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			die_errno("bounding: drop capability %d", cap);
	}
}

void op_user(struct plan *p, struct msg *m)
{
	uid_t uid = (uid_t)parse_num("user", m->f[1], 10);
	gid_t gid = (gid_t)parse_num("user", m->f[2], 10);
	gid_t groups[NGROUPS_MAX];
	size_t n = 0;
	for (char *s = m->f[3]; *s && n < NGROUPS_MAX;) {
		char *end;
		groups[n++] = (gid_t)strtoul(s, &end, 10);
		if (end == s || (*end && *end != ','))
			die("user: invalid additional gids %s", m->f[3]);
		s = *end ? end + 1 : end;
	}
	/*
	 * In a user namespace whose setgroups file says "deny", setgroups fails with EPERM; clearing
	 * an empty list there is harmless to skip (the process has only the groups of the map).
	 */
	if (setgroups(n, groups) < 0 && !(n == 0 && errno == EPERM))
		die_errno("user: setgroups %s", m->f[3]);
	if (setresgid(gid, gid, gid) < 0)
		die_errno("user: setresgid %u", gid);
	if (setresuid(uid, uid, uid) < 0)
		die_errno("user: setresuid %u", uid);
}

void op_caps(struct plan *p, struct msg *m)
{
	uint64_t e = parse_mask("caps", m->f[1]), pm = parse_mask("caps", m->f[2]), i = parse_mask("caps", m->f[3]);
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)e, (uint32_t)pm, (uint32_t)i },
		{ (uint32_t)(e >> 32), (uint32_t)(pm >> 32), (uint32_t)(i >> 32) },
	};
	if (syscall(SYS_capset, &hdr, d) < 0)
		die_errno("caps: capset effective %s permitted %s inheritable %s", m->f[1], m->f[2], m->f[3]);
}

void op_ambient(struct plan *p, struct msg *m)
{
	uint64_t mask = parse_mask("ambient", m->f[1]);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		die_errno("ambient: clear");
	for (int cap = 0; cap < 64; cap++)
		if ((mask & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			die_errno("ambient: raise capability %d", cap);
}

void op_seccomp(struct plan *p, struct msg *m)
{
	unsigned flags = (unsigned)parse_num("seccomp", m->f[1], 10);
	if (m->len[2] == 0 || m->len[2] % sizeof(struct sock_filter) || m->len[2] / sizeof(struct sock_filter) > 0xffff)
		die("seccomp: program of %zu bytes is not a whole number of 8-byte instructions", m->len[2]);
	struct sock_fprog prog = { (unsigned short)(m->len[2] / sizeof(struct sock_filter)), (struct sock_filter *)m->f[2] };
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) < 0)
		die_errno("seccomp: load filter of %u instructions with flags %u", prog.len, flags);
}

void op_sysctl(struct plan *p, struct msg *m)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "/proc/sys/%s", m->f[1]);
	for (char *c = path + 10; *c; c++)
		if (*c == '.')
			*c = '/';
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, m->f[2], m->len[2]) != (ssize_t)m->len[2])
		die_errno("sysctl %s=%s", m->f[1], m->f[2]);
	close(fd);
}

static const char *env_path(char **env)
{
	for (char **e = env; e && *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			return *e + 5;
	return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

/*
 * Check, before the container reports ready, that args[0] names an executable file (searched in
 * the container's PATH as exec will), so a missing binary fails `create` instead of surfacing
 * only after `start`, when nobody may be listening (runc checks the same way).
 */
void op_lookup(struct plan *p, struct msg *m)
{
	seal_fds(p); /* fds.c: the path is the config's */
	const char *name = m->f[1];
	struct stat st;
	if (strchr(name, '/')) {
		if (stat(name, &st) < 0)
			die_errno("exec: %s", name);
		if (!S_ISREG(st.st_mode) || access(name, X_OK) < 0)
			die_with(S_ISDIR(st.st_mode) ? EISDIR : EACCES, "exec: %s: %s", name, strerror(S_ISDIR(st.st_mode) ? EISDIR : EACCES));
		return;
	}
	static char *noenv[] = { NULL };
	const char *path = env_path(p->env ? p->env : noenv);
	char buf[PATH_MAX];
	while (*path) {
		const char *end = strchr(path, ':');
		size_t len = end ? (size_t)(end - path) : strlen(path);
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, len ? path : ".", name);
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0)
			return;
		path += len + (end ? 1 : 0);
	}
	die_with(ENOENT, "exec: %s: executable file not found in $PATH", name);
}

/*
 * execve, searching the container's PATH (not ours) when args[0] has no slash. As execvp does,
 * a later directory is tried after ENOENT/ENOTDIR/EACCES, and EACCES is reported if nothing ran.
 */
void op_exec(struct plan *p, struct msg *m)
{
	seal_fds(p); /* fds.c: the path is the config's */
	static char *noenv[] = { NULL };
	char **env = p->env ? p->env : noenv;
	/* The fields after the type are the argv; grow the array by one for the NULL terminator. */
	char **argv = realloc(m->f, (m->n + 1) * sizeof(char *));
	if (!argv)
		die_errno("exec: %s", m->f[1]);
	argv[m->n] = NULL;
	argv++;
	signal(SIGPIPE, SIG_DFL);
	/* The sync fd must not reach the container; the runtime sees EOF once execve succeeded. */
	fcntl(p->sync_fd, F_SETFD, FD_CLOEXEC);
	if (strchr(argv[0], '/')) {
		execve(argv[0], argv, env);
		die_errno("exec: %s", argv[0]);
	}
	const char *path = env_path(env);
	int err = ENOENT;
	char buf[PATH_MAX];
	while (*path) {
		const char *end = strchr(path, ':');
		size_t len = end ? (size_t)(end - path) : strlen(path);
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, len ? path : ".", argv[0]);
		execve(buf, argv, env);
		if (errno == EACCES)
			err = EACCES;
		else if (errno != ENOENT && errno != ENOTDIR) {
			err = errno;
			break;
		}
		path += len + (end ? 1 : 0);
	}
	errno = err;
	die_errno("exec: %s", argv[0]);
}
