/*
 * berth-init: the tiny init of `berth run --init` (Docker's docker-init, which is tini). Bind-
 * mounted read-only into the container at /dev/init and run as its pid 1 with the command after
 * `--`. pid 1 of a pid namespace has two jobs the usual commands do not do:
 *   - reap orphans: every process whose parent died is re-parented to pid 1; if pid 1 never
 *     waits for them they stay zombies and fill the pid limit;
 *   - pass signals on: the kernel drops signals sent to pid 1 for which it installed no handler
 *     (SIGTERM from `berth stop` would do nothing to a shell as pid 1).
 * It blocks every signal, forks the command (in its own process group, like tini) and then waits
 * in sigwaitinfo(): SIGCHLD means reap, anything else is forwarded to the command. When the
 * command exits, berth-init exits with its status (128 + the signal number when it was killed).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int first = 1;
	if (argc > 1 && !strcmp(argv[1], "--"))
		first = 2;
	if (first >= argc) {
		fprintf(stderr, "berth-init: usage: berth-init [--] COMMAND [ARG...]\n");
		return 2;
	}
	/* Not pid 1 (--pid host): become the subreaper, so orphans still come to us. */
	if (getpid() != 1)
		prctl(PR_SET_CHILD_SUBREAPER, 1);
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid_t child = fork();
	if (child < 0) {
		perror("berth-init: fork");
		return 1;
	}
	if (child == 0) {
		setpgid(0, 0);
		sigprocmask(SIG_SETMASK, &old, NULL);
		execvp(argv[first], argv + first);
		fprintf(stderr, "berth-init: exec %s: %s\n", argv[first], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			/* SIGKILL and SIGSTOP never arrive here; the rest go to the command. */
			kill(child, sig);
			continue;
		}
		int st;
		pid_t pid;
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			if (pid == child)
				return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
	}
}
