/*
 * Front mode: the helper runs inside the `berth-runtime` client process (client.c), its sync fd
 * is the client's connection to the warm runtime server, and after its parent work it stays to
 * relay the server's last messages ("out", "err", "done") to the caller. See PROTOCOL.md,
 * "Front mode".
 *
 * The parent and the container's child share the connection. The child reads exactly one
 * message from it ("go"); the parent must not read before that, or it could swallow the "go".
 * A non-monitor parent therefore waits on a pipe made before the clone: the child writes one byte
 * after it has sent "ready" and closes its end (the end is close-on-exec, and a dying child closes
 * it too). A byte means "ready" is on the wire; EOF without one means the child is gone, and the
 * parent reports its wait status as "exit" so the server is not left waiting for a "ready" that
 * will never come. A monitor parent needs no pipe: it reads only after the child has exited.
 */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t g_front_pid;

/* The `front` op (read with the plan, see main.c): this process is the front parent. */
void front_begin(struct plan *p)
{
	p->front = 1;
	g_front_pid = getpid();
}

/* Before the clone: the "ready" pipe, for a parent that does not monitor. */
void front_before_clone(struct plan *p, int mon)
{
	if (!p->front || mon)
		return;
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		die_errno("front: pipe");
	p->front_rd = fds[0];
	p->front_wr = fds[1];
}

/* In the child right after the clone: it is not the front parent and keeps only the write end. */
void front_in_child(struct plan *p)
{
	g_front_pid = 0;
	if (p->front_rd >= 0) {
		close(p->front_rd);
		p->front_rd = -1;
	}
}

/* In the child after it sent "ready": tell the parent the connection is free. */
void front_ready(struct plan *p)
{
	if (p->front_wr < 0)
		return;
	ssize_t r;
	do
		r = write(p->front_wr, "r", 1);
	while (r < 0 && errno == EINTR);
	close(p->front_wr);
	p->front_wr = -1;
}

/* A waitid() result as the raw wait status waitpid() would have given. */
static int raw_status(const siginfo_t *si)
{
	if (si->si_code == CLD_EXITED)
		return (si->si_status & 0xff) << 8;
	return (si->si_status & 0x7f) | (si->si_code == CLD_DUMPED ? 0x80 : 0);
}

/*
 * Non-monitor parent after "pid": wait until the child sent "ready" or died, then relay. The
 * child is not reaped (WNOWAIT): it stays a zombie for whoever adopts it when we exit, as it
 * would have been had the parent exited right after "pid".
 */
void front_wait_child(struct plan *p, pid_t pid)
{
	close(p->front_wr);
	p->front_wr = -1;
	char c;
	ssize_t r;
	do
		r = read(p->front_rd, &c, 1);
	while (r < 0 && errno == EINTR);
	close(p->front_rd);
	p->front_rd = -1;
	if (r != 1) {
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		int w;
		do
			w = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
		while (w < 0 && errno == EINTR);
		if (w == 0 && si.si_pid == pid) {
			char buf[16];
			int n = snprintf(buf, sizeof(buf), "%d", raw_status(&si));
			proto_send(p->sync_fd, "exit", buf, (size_t)n);
		}
	}
	front_relay(p->sync_fd);
}

/*
 * Relay the server's messages until "done": from here on this process is the caller's
 * berth-runtime again, so the usual signals get their default action back.
 */
void front_relay(int fd)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
	g_front_pid = 0; /* a failure from here on must not come back here through die() */
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		signal(sigs[i], SIG_DFL);
		sigaddset(&set, sigs[i]);
	}
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	for (;;) {
		struct msg m;
		int r = proto_read(fd, &m);
		if (r <= 0) {
			fprintf(stderr, "berth-runtime: the runtime server closed the connection\n");
			_exit(1);
		}
		client_message(&m);
		msg_free(&m);
	}
}
