/*
 * berth-runtime and berth, the C front ends: the same static binary as the helper, entered when it
 * is run under one of these names (hard links in native/build made by the Makefile).
 *
 * They make no decisions. They tell the warm runtime server (src/server/, a Node process that
 * runs berth-runtime commands in-process, and berth commands in a pre-started worker process)
 * over a unix socket what they are and see (send_caller), hand it their command line, and do
 * what the server says: print "out" and "err" data,
 * exit with "done"'s code, or, on "launch", become the helper itself, with the same connection as
 * the helper's sync fd. The container's stdio and preserved fds are then this process's own, i.e.
 * exactly what the caller (containerd's shim, podman's conmon, a shell) gave the command, and the
 * container's init is this process's child, as runc's is runc's. With no server (or a stale one)
 * they run the TypeScript CLI instead: `node <repo>/bin/berth-runtime.js ARGS` (or bin/berth.js),
 * which starts a server for next time. See PROTOCOL.md, "The runtime server".
 */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/berth/runtime.sock"

extern char **environ;

/* The program's name (berth-runtime or berth), for messages and the cold path's script. */
static const char *g_prog = "berth-runtime";

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
 * <repo>/native/build/berth-helper, of which the clients are hard links), bin/<prog>.js. `start`
 * says whether the CLI should start a server.
 */
static __attribute__((noreturn)) void cold(int argc, char **argv, int start)
{
	char exe[PATH_MAX];
	if (!realpath("/proc/self/exe", exe)) {
		fprintf(stderr, "%s: cannot resolve /proc/self/exe: %s\n", g_prog, strerror(errno));
		_exit(1);
	}
	char script[PATH_MAX + 32];
	char *repo = dirname(dirname(dirname(exe)));
	snprintf(script, sizeof(script), "%s/bin/%s.js", strcmp(repo, "/") ? repo : "", g_prog);
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
	fprintf(stderr, "%s: cannot run %s %s: %s\n", g_prog, node, script, strerror(errno));
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
			fprintf(stderr, "%s: dup connection: %s\n", g_prog, strerror(errno));
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

/* The "caller" message's files, in field order: PROTOCOL.md, "Who is served". */
static const char *const CALLER_FILES[] = {
	"/proc/self/exe", "/", "/proc/self/ns/mnt", "/proc/self/ns/pid", "/proc/self/ns/net",
	"/proc/self/ns/cgroup", "/proc/self/ns/user", "/proc/self/ns/ipc", "/proc/self/ns/uts",
};
#define NCALLER (sizeof(CALLER_FILES) / sizeof(CALLER_FILES[0]))

/*
 * The first message: what this process is and sees, measured here because only the caller can
 * see it: "<st_dev>:<st_ino>" of its own executable (the build: every client is a hard link of
 * one checkout's berth-helper), of its root directory and of each of its namespaces, or "-" for
 * a file it cannot stat (no /proc, or a /proc of another pid namespace: the server treats "-" as
 * different). The server compares them with its own and decides; this client only measures.
 */
static int send_caller(int fd)
{
	char buf[NCALLER][48];
	const char *f[NCALLER + 1];
	size_t len[NCALLER + 1];
	f[0] = "caller";
	for (size_t i = 0; i < NCALLER; i++) {
		struct stat st;
		if (stat(CALLER_FILES[i], &st) < 0)
			snprintf(buf[i], sizeof(buf[i]), "-");
		else
			snprintf(buf[i], sizeof(buf[i]), "%llu:%llu", (unsigned long long)st.st_dev,
				 (unsigned long long)st.st_ino);
		f[i + 1] = buf[i];
	}
	for (size_t i = 0; i <= NCALLER; i++)
		len[i] = strlen(f[i]);
	return proto_sendv(fd, NCALLER + 1, f, len) < 0 ? -1 : 0;
}

/*
 * The request, the second message. berth-runtime: "request" <cwd> <pid> <args...>. berth:
 * "engine" <cwd> <pid> <umask> <ttys> <cols> <rows> <argc> <args...> <environment...>, where ttys
 * says for fds 0, 1, 2 whether each is a terminal ("010": only stdout) and cols/rows are the
 * terminal's size (0 when none): the engine's worker runs the command with the caller's
 * environment, directory and umask, and draws progress bars only for a terminal.
 */
static int send_request(int fd, int argc, char **argv, int engine)
{
	char cwd[PATH_MAX], pid[16], mask[8], ttys[4], cols[8], rows[8], nargs[16];
	if (!getcwd(cwd, sizeof(cwd)))
		return -2;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	size_t nenv = 0;
	for (char **e = environ; engine && e && *e; e++)
		nenv++;
	size_t n = (size_t)argc + 2 + (engine ? 5 + nenv : 0);
	const char **f = calloc(n, sizeof(char *));
	size_t *len = calloc(n, sizeof(size_t));
	if (!f || !len)
		_exit(1);
	size_t k = 0;
	f[k++] = engine ? "engine" : "request";
	f[k++] = cwd;
	f[k++] = pid;
	if (engine) {
		mode_t um = umask(022);
		umask(um);
		snprintf(mask, sizeof(mask), "%o", (unsigned)um);
		for (int i = 0; i < 3; i++)
			ttys[i] = isatty(i) ? '1' : '0';
		ttys[3] = 0;
		struct winsize ws = { 0 };
		if (ioctl(1, TIOCGWINSZ, &ws) < 0 && ioctl(2, TIOCGWINSZ, &ws) < 0)
			memset(&ws, 0, sizeof(ws));
		snprintf(cols, sizeof(cols), "%u", ws.ws_col);
		snprintf(rows, sizeof(rows), "%u", ws.ws_row);
		snprintf(nargs, sizeof(nargs), "%d", argc - 1);
		f[k++] = mask;
		f[k++] = ttys;
		f[k++] = cols;
		f[k++] = rows;
		f[k++] = nargs;
	}
	for (int i = 1; i < argc; i++)
		f[k++] = argv[i];
	for (size_t i = 0; engine && i < nenv; i++)
		f[k++] = environ[i];
	for (size_t i = 0; i < n; i++)
		len[i] = strlen(f[i]);
	int r = proto_sendv(fd, n, f, len);
	free(f);
	free(len);
	return r < 0 ? -1 : 0;
}

int client_main(int argc, char **argv, int engine)
{
	g_prog = engine ? "berth" : "berth-runtime";
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
	int sent = send_caller(fd) < 0 ? -1 : send_request(fd, argc, argv, engine);
	if (sent == -2)
		cold(argc, argv, 0);
	if (sent < 0)
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
			fprintf(stderr, "%s: the runtime server closed the connection\n", g_prog);
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
		fprintf(stderr, "%s: unexpected message %s from the runtime server\n", g_prog, m.f[0]);
		_exit(1);
	}
}
