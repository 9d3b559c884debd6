/*
 * `berth-helper spawner <address>`: a small process that forks helpers for a Node program that
 * starts many containers (src/native/spawner.ts, the TypeScript API's spare helpers).
 *
 * Why: Node's spawn is fork + exec, and fork copies the page tables of the whole Node process:
 * about 1.7 ms of the event loop's time per helper at 100 MB resident, plus copy-on-write faults
 * afterwards. This process is small, already runs from the sealed memfd copy, and forks on
 * request without an exec, away from Node's thread.
 *
 * stdin: one request per line, `<token> <stdio>`: token is 1-64 characters of [0-9a-f], stdio
 * three characters, for the child's stdin, stdout and stderr: `p` (a connection to Node) or `i`
 * (/dev/null). For each request a child connects to the AF_UNIX stream socket <address> (a
 * leading `@` means the abstract namespace) once per `p`, in fd order, then once more for the
 * sync channel (an abstract name is padded with NULs to the whole sun_path, as Node binds it). Each connection starts with one line, `<token> <role> <pid>\n`, role being `0`,
 * `1`, `2` or `sync`. The child then puts the connections (or /dev/null) on fds 0-2 and runs as
 * a helper in launch mode with the last connection as its sync fd (PROTOCOL.md).
 * stdout: one line per child that ended, `exit <token> <pid> <raw wait status>\n`; its helper was
 * not Node's child, so this is how Node learns its status.
 * EOF on stdin (the program exited, or closed the spawner): no more requests; the spawner exits
 * once every child has ended (an idle one sees EOF on its sync connection and exits, a monitor
 * ends with its container), so none is left to a parent that does not wait for it.
 */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_TOKEN 64

/* A live child and its request's token, to name it in its exit line. */
struct kid {
	pid_t pid;
	char token[MAX_TOKEN + 1];
	struct kid *next;
};

static struct kid *g_kids;
static int g_sfd = -1; /* the signalfd of SIGCHLD */
static struct sockaddr_un g_addr;
static socklen_t g_addrlen;
static pid_t g_program; /* the Node program that started us: the only peer a child may talk to */

/* Connect to the program's socket and say who we are; returns the fd. Dies on failure. */
static int connect_back(const char *token, const char *role)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die_errno("spawner: socket");
	if (connect(fd, (struct sockaddr *)&g_addr, g_addrlen) < 0)
		die_errno("spawner: connect");
	/*
	 * An abstract name is reachable by every process of the network namespace, a container run
	 * with the host's network included, and /proc/net/unix shows it. Once the program stops
	 * listening (it closed the spawner) another process could bind the name and would then
	 * receive this helper's sync channel, i.e. send a plan to a root helper. So the peer must be
	 * the program itself: SO_PEERCRED gives its pid as the kernel saw it at listen(2).
	 */
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) < 0)
		die_errno("spawner: SO_PEERCRED");
	if (cr.pid != g_program || cr.uid != getuid())
		die("spawner: the socket is held by pid %d uid %u, not by the program (pid %d)", (int)cr.pid, (unsigned)cr.uid, (int)g_program);
	char hello[MAX_TOKEN + 32];
	int n = snprintf(hello, sizeof(hello), "%s %s %d\n", token, role, (int)getpid());
	if (write_all(fd, hello, (size_t)n) < 0)
		die_errno("spawner: hello");
	return fd;
}

/* In the forked child: connect the stdio and the sync channel, then become a helper. */
static __attribute__((noreturn)) void child(const char *token, const char *stdio, const sigset_t *old)
{
	/* A helper spawned by Node starts with default dispositions and an empty mask: so does this one. */
	close(g_sfd);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, old, NULL);
	int fds[3];
	for (int i = 0; i < 3; i++) {
		if (stdio[i] == 'p') {
			char role[2] = { (char)('0' + i), 0 };
			fds[i] = connect_back(token, role);
		} else {
			fds[i] = open("/dev/null", O_RDWR | O_CLOEXEC);
			if (fds[i] < 0)
				die_errno("spawner: open /dev/null");
		}
	}
	int sync = connect_back(token, "sync");
	/* dup2 clears close-on-exec on 0-2; the originals (all >= 3 but maybe one) are closed. */
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], i) < 0)
			die_errno("spawner: dup2");
	for (int i = 0; i < 3; i++)
		if (fds[i] > 2)
			close(fds[i]);
	_exit(helper_run(sync, 0));
}

/* Handle one request line; a malformed one is ignored (it names no child to report). */
static void request(char *line, const sigset_t *old)
{
	char *sp = strchr(line, ' ');
	if (!sp || sp - line > MAX_TOKEN || sp == line || strlen(sp + 1) != 3)
		return;
	*sp = 0;
	const char *token = line, *stdio = sp + 1;
	if (strspn(token, "0123456789abcdef") != strlen(token) || strspn(stdio, "pi") != 3)
		return;
	struct kid *k = calloc(1, sizeof(*k));
	if (!k)
		die_errno("spawner: calloc");
	strcpy(k->token, token);
	pid_t pid = fork();
	if (pid < 0) {
		free(k);
		return; /* no line: the program falls back to spawning one itself */
	}
	if (pid == 0)
		child(token, stdio, old);
	k->pid = pid;
	k->next = g_kids;
	g_kids = k;
}

/* Reap every child that ended and report it. */
static void reap(void)
{
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (struct kid **pp = &g_kids; *pp; pp = &(*pp)->next) {
			struct kid *k = *pp;
			if (k->pid != pid)
				continue;
			char line[MAX_TOKEN + 64];
			int n = snprintf(line, sizeof(line), "exit %s %d %d\n", k->token, (int)pid, st);
			(void)write_all(1, line, (size_t)n); /* the program may be gone: nothing to tell */
			*pp = k->next;
			free(k);
			break;
		}
	}
}

int main_spawner(const char *address, char **argv)
{
	ensure_sealed_exe(argv);
	g_program = getppid();
	size_t len = strlen(address);
	if (len == 0 || len >= sizeof(g_addr.sun_path))
		die("spawner: invalid socket address %s", address);
	g_addr.sun_family = AF_UNIX;
	memcpy(g_addr.sun_path, address, len);
	g_addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if (address[0] == '@') {
		/* Node (libuv) binds an abstract name as the whole sun_path, padded with NULs. */
		g_addr.sun_path[0] = 0;
		g_addrlen = sizeof(g_addr);
	}
	signal(SIGPIPE, SIG_IGN);

	sigset_t chld, old;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, &old) < 0)
		die_errno("spawner: sigprocmask");
	int sfd = g_sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		die_errno("spawner: signalfd");
	if (fcntl(0, F_SETFD, FD_CLOEXEC) < 0 || fcntl(1, F_SETFD, FD_CLOEXEC) < 0)
		die_errno("spawner: fcntl");

	char buf[4096];
	size_t have = 0;
	int eof = 0;
	while (!eof || g_kids) {
		/* After EOF stdin is no longer polled (fd -1); the children's exits still are. */
		struct pollfd pf[2] = { { .fd = eof ? -1 : 0, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die_errno("spawner: poll");
		}
		if (pf[1].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				;
			reap();
		}
		if (!pf[0].revents)
			continue;
		ssize_t n = read(0, buf + have, sizeof(buf) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			eof = 1;
			continue;
		}
		have += (size_t)n;
		char *start = buf, *nl;
		while ((nl = memchr(start, '\n', have - (size_t)(start - buf)))) {
			*nl = 0;
			request(start, &old);
			start = nl + 1;
		}
		have -= (size_t)(start - buf);
		memmove(buf, start, have);
		if (have == sizeof(buf))
			have = 0; /* a line longer than any request: drop it */
	}
	return 0;
}
