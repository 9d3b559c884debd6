/*
 * The hook op: run an OCI hook with the container state json on its stdin, and fail if it exits
 * non-zero or outlives its timeout (it is then killed with SIGKILL).
 */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void op_hook(struct plan *p, struct msg *m)
{
	const char *path = m->f[1];
	long timeout = (long)parse_num("hook", m->f[2], 10);
	long argc = (long)parse_num("hook", m->f[3], 10);
	if (argc < 0 || (size_t)argc > m->n - 4)
		die("hook %s: argc %ld exceeds the %zu fields given", path, argc, m->n - 4);
	/* args are f[4 .. 4+argc-1], env the rest; both need a NULL terminator. */
	char **args = calloc((size_t)argc + 2, sizeof(char *));
	char **env = calloc(m->n - 4 - (size_t)argc + 1, sizeof(char *));
	if (!args || !env)
		die_errno("hook %s", path);
	memcpy(args, m->f + 4, (size_t)argc * sizeof(char *));
	if (argc == 0)
		args[0] = (char *)path;
	memcpy(env, m->f + 4 + argc, (m->n - 4 - (size_t)argc) * sizeof(char *));

	/*
	 * errpipe is close-on-exec: a successful execve closes it (we read EOF), a failed one leaves
	 * the child to send us its errno, so the one error message names the real cause.
	 */
	int pipefd[2], errpipe[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0 || pipe2(errpipe, O_CLOEXEC) < 0)
		die_errno("hook %s: pipe", path);
	pid_t pid = fork();
	if (pid < 0)
		die_errno("hook %s: fork", path);
	if (pid == 0) {
		/* Its own process group: a timeout kills what the hook started as well. */
		setpgid(0, 0);
		dup2(pipefd[0], 0);
		execve(path, args, env);
		int e = errno;
		if (write(errpipe[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(pipefd[0]);
	close(errpipe[1]);
	int err = 0;
	ssize_t n;
	while ((n = read(errpipe[0], &err, sizeof(err))) < 0 && errno == EINTR)
		;
	close(errpipe[0]);
	if (n == sizeof(err)) {
		waitpid(pid, NULL, 0);
		errno = err;
		die_errno("hook %s: exec", path);
	}
	/* A hook that ignores stdin and exits would make our write raise SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	for (size_t off = 0; p->state && off < p->state_len;) {
		ssize_t w = write(pipefd[1], p->state + off, p->state_len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break; /* EPIPE: the hook did not read its state; its exit status decides */
		off += (size_t)w;
	}
	close(pipefd[1]);
	signal(SIGPIPE, SIG_DFL);

	/* Poll every 10ms: simple, and no SIGALRM handler to leak into the container process. */
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	long ticks = timeout * 100;
	int st;
	for (;;) {
		pid_t r = waitpid(pid, &st, timeout > 0 ? WNOHANG : 0);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			die_errno("hook %s: wait", path);
		if (r == 0 && ticks-- <= 0) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			die("hook %s: timed out after %ld seconds", path, timeout);
		}
		if (r == 0)
			nanosleep(&tick, NULL);
	}
	if (WIFSIGNALED(st))
		die("hook %s: killed by signal %d", path, WTERMSIG(st));
	if (WEXITSTATUS(st) != 0)
		die("hook %s: exited with status %d", path, WEXITSTATUS(st));
	free(args);
	free(env);
}
