/*
 * berth-runtime, the C front end: the same static binary as the helper, entered when it is run
 * under the name `berth-runtime` (native/build/berth-runtime is a hard link made by the Makefile).
 *
 * It makes no decisions. It hands its command line to the warm runtime server (src/server/, a
 * Node process that runs berth-runtime commands in-process) over a unix socket and does what the
 * server says: print "out" and "err" data, exit with "done"'s code, or, on "launch", become the
 * helper itself, with the same connection as the helper's sync fd. The container's stdio and
 * preserved fds are then this process's own, i.e. exactly what the caller (containerd's shim,
 * podman's conmon, a shell) gave berth-runtime, and the container's init is this process's child,
 * as runc's is runc's. With no server (or a stale one) it runs the TypeScript CLI instead:
 * `node <repo>/bin/berth-runtime.js ARGS`, which starts a server for next time.
 * See PROTOCOL.md, "The runtime server".
 */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/berth/runtime.sock"

static int write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t r = write(fd, buf, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		buf += r;
		n -= (size_t)r;
	}
	return 0;
}

/* "out"/"err" data to fd 1/2, "done" code to exit. Returns 0 when handled, -1 otherwise. */
int client_message(struct msg *m)
{
	const char *t = m->f[0];
	if (!strcmp(t, "out") || !strcmp(t, "err")) {
		if (m->n > 1)
			write_all(t[0] == 'o' ? 1 : 2, m->f[1], m->len[1]);
		return 0;
	}
	if (!strcmp(t, "done")) {
		int code = m->n > 1 ? atoi(m->f[1]) : 1;
		_exit(code & 0xff);
	}
	return -1;
}

/*
 * The cold path: run the TypeScript CLI of the checkout this binary belongs to (its real path is
 * <repo>/native/build/berth-runtime). `start` says whether the CLI should start a server.
 */
static __attribute__((noreturn)) void cold(int argc, char **argv, int start)
{
	char exe[PATH_MAX];
	if (!realpath("/proc/self/exe", exe)) {
		fprintf(stderr, "berth-runtime: cannot resolve /proc/self/exe: %s\n", strerror(errno));
		_exit(1);
	}
	char script[PATH_MAX + 32];
	char *repo = dirname(dirname(dirname(exe)));
	snprintf(script, sizeof(script), "%s/bin/berth-runtime.js", strcmp(repo, "/") ? repo : "");
	const char *node = getenv("BERTH_NODE");
	if (!node || !*node)
		node = "node";
	char **nargv = calloc((size_t)argc + 2, sizeof(char *));
	if (!nargv)
		_exit(1);
	nargv[0] = (char *)node;
	nargv[1] = script;
	for (int i = 1; i < argc; i++)
		nargv[i + 1] = argv[i];
	if (start)
		setenv("_BERTH_FROM_CLIENT", "1", 1);
	else
		unsetenv("_BERTH_FROM_CLIENT");
	execvp(node, nargv);
	fprintf(stderr, "berth-runtime: cannot run %s %s: %s\n", node, script, strerror(errno));
	_exit(127);
}

/*
 * "launch" <preserve>: become the helper. The connection must not sit among the preserved fds
 * (3 .. 3+preserve-1), must survive the exec, and is named by _BERTH_SYNC_FD; the environment is
 * otherwise cleared, as when the runtime spawns the helper. helper_launch() re-executes from a
 * sealed memfd copy first (the CVE-2019-5736 defence), exactly as a spawned helper does.
 */
static __attribute__((noreturn)) void become_helper(int fd, struct msg *m)
{
	long preserve = m->n > 1 ? strtol(m->f[1], NULL, 10) : 0;
	if (preserve < 0 || preserve > 1 << 16)
		preserve = 0;
	int need = 3 + (int)preserve;
	if (fd < need) {
		int nfd = fcntl(fd, F_DUPFD, need);
		if (nfd < 0) {
			fprintf(stderr, "berth-runtime: dup connection: %s\n", strerror(errno));
			_exit(1);
		}
		close(fd);
		fd = nfd;
	}
	fcntl(fd, F_SETFD, 0);
	char sfd[16], spres[16];
	snprintf(sfd, sizeof(sfd), "%d", fd);
	snprintf(spres, sizeof(spres), "%ld", preserve);
	clearenv();
	setenv("_BERTH_SYNC_FD", sfd, 1);
	setenv("_BERTH_PRESERVE_FDS", spres, 1);
	static char name[] = "berth-helper";
	static char *hargv[] = { name, NULL };
	helper_launch(hargv);
	_exit(1);
}

int client_main(int argc, char **argv)
{
	const char *srv = getenv("BERTH_RUNTIME_SERVER");
	if (srv && !strcmp(srv, "0"))
		cold(argc, argv, 0);
	const char *path = getenv("BERTH_RUNTIME_SOCKET");
	if (!path || !*path)
		path = DEFAULT_SOCKET;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		cold(argc, argv, 0);
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		cold(argc, argv, 1);
	char cwd[PATH_MAX], pid[16];
	if (!getcwd(cwd, sizeof(cwd)))
		cold(argc, argv, 0);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	size_t n = (size_t)argc + 2;
	const char **f = calloc(n, sizeof(char *));
	size_t *len = calloc(n, sizeof(size_t));
	if (!f || !len)
		_exit(1);
	f[0] = "request";
	f[1] = cwd;
	f[2] = pid;
	for (int i = 1; i < argc; i++)
		f[i + 2] = argv[i];
	for (size_t i = 0; i < n; i++)
		len[i] = strlen(f[i]);
	if (proto_sendv(fd, n, f, len) < 0)
		cold(argc, argv, 1);
	int got = 0;
	for (;;) {
		struct msg m;
		int r = proto_read(fd, &m);
		if (r <= 0) {
			/* Nothing received: the server went away before taking the request (it was exiting
			 * when we connected); the cold path is safe. Otherwise the request may have run. */
			if (!got)
				cold(argc, argv, 1);
			fprintf(stderr, "berth-runtime: the runtime server closed the connection\n");
			_exit(1);
		}
		got = 1;
		if (client_message(&m) == 0) {
			msg_free(&m);
			continue;
		}
		if (!strcmp(m.f[0], "launch"))
			become_helper(fd, &m);
		if (!strcmp(m.f[0], "stale") || !strcmp(m.f[0], "cold")) {
			close(fd);
			cold(argc, argv, m.f[0][0] == 's');
		}
		fprintf(stderr, "berth-runtime: unexpected message %s from the runtime server\n", m.f[0]);
		_exit(1);
	}
}
