/*
 * A terminal in the foreground: `berth-runtime run` of a container with process.terminal and no
 * --console-socket, as `runc run` in a shell. The pty still comes from the container's own devpts
 * (the child's `console` op opens ROOT/dev/ptmx); only the receiver of the master changes: the
 * `console-local` parent op makes a socketpair before the clone instead of connecting to a console
 * socket, and the monitor receives the master on its end and proxies between its own stdin/stdout
 * (the user's terminal) and the master.
 *
 * While proxying, the user's terminal is in raw mode (the container's pty does the line editing
 * and turns ^C into SIGINT for the container's foreground process group); it is restored before
 * the monitor exits. SIGWINCH on the monitor copies its terminal's size to the pty (TIOCSWINSZ on
 * the master makes the kernel send SIGWINCH to the container's foreground process group).
 */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static int g_peer = -1; /* our end of the socketpair; the child's end is p->console_fd */

/* `console-local`: a socketpair whose far end takes the place of a connected console socket. */
void op_console_local(struct plan *p, struct msg *m)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		die_errno("console-local: socketpair");
	if (p->console_fd >= 0)
		close(p->console_fd);
	p->console_fd = sv[1];
	g_peer = sv[0];
}

/** 1 when the plan had `console-local`: the monitor must proxy the terminal. */
int tty_local(void)
{
	return g_peer >= 0;
}

/* Receive the pty master the child's `console` op sends (SCM_RIGHTS); -1 at EOF or error. */
int recv_pty_master(int sock)
{
	char name[64];
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { name, sizeof(name) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	ssize_t r;
	do
		r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int fd;
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
			return fd;
		}
	}
	return -1;
}

/* Copy one read's worth from `from` to `to`: 1 copied, 0 EOF/EIO (slave side closed), -1 error.
 * With `log`, what was read also goes to the json-file log (a `log-file` plan, monitor.c). */
static int pump(int from, int to, int log)
{
	char buf[8192];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0)
		return 0;
	if (log)
		monitor_log_tty(buf, (size_t)n, 0);
	return write_all(to, buf, (size_t)n) < 0 ? -1 : 1;
}

/*
 * Copy the user's input to the master, watching for the detach keys (Docker's escape proxy): bytes
 * that may start the sequence are held back and passed on with the byte that breaks the match, so
 * a lone ctrl-p still reaches the container. 1 copied, 0 EOF/error, 2 the whole sequence was read.
 */
static int pump_in(int master, const unsigned char *keys, size_t klen, size_t *matched)
{
	char buf[8192], out[8192 + 64];
	ssize_t n = read(0, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0)
		return 0;
	if (!keys)
		return write_all(master, buf, (size_t)n) < 0 ? 0 : 1;
	size_t k = 0;
	for (ssize_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c == keys[*matched]) {
			if (++*matched == klen)
				return write_all(master, out, k) < 0 ? 0 : 2;
			continue;
		}
		if (*matched) {
			memcpy(out + k, keys, *matched);
			k += *matched;
			*matched = 0;
			if (c == keys[0]) {
				*matched = 1;
				continue;
			}
		}
		out[k++] = (char)c;
	}
	return write_all(master, out, k) < 0 ? 0 : 1;
}

/*
 * The user's terminal size to the pty (fd 0, else fd 1, when it is a terminal); with a
 * `winsize-file`, the size written there instead (attach.c).
 */
static void copy_size(int master)
{
	if (attach_apply_size(master))
		return;
	struct winsize ws;
	if (ioctl(0, TIOCGWINSZ, &ws) == 0 || ioctl(1, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

/*
 * The monitor with a terminal. Every signal it handles (the forwarded ones, SIGWINCH, SIGCHLD) is
 * blocked and read from a signalfd, so one poll waits for the child, the terminal, the master and
 * the signals alike. `fwd` lists the signals forwarded to the child (SIGWINCH is not among them:
 * the resize makes the kernel send it).
 */
void monitor_tty(struct plan *p, pid_t pid, const int *fwd, size_t nfwd)
{
	close(p->console_fd); /* the child has its copy: EOF on g_peer if it dies before sending */
	p->console_fd = -1;
	monitor_log_tty(NULL, 0, 0); /* with `log-file`: close the unused log pipes */
	/* A reader of our stdout that went away must not kill the monitor (and orphan the child):
	 * the write fails with EPIPE instead and the output is dropped. The child is already cloned,
	 * so the container keeps the default disposition. */
	signal(SIGPIPE, SIG_IGN);
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < nfwd; i++)
		sigaddset(&set, fwd[i]);
	sigaddset(&set, SIGWINCH);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		kill(pid, SIGKILL);
		die_errno("monitor: signalfd");
	}
	int master = -1, in_open = 1, out_open = 1, raw = 0, st = 0, exited = 0;
	size_t klen = 0, matched = 0;
	/* Detaching needs the monitor to outlive this command: not in front mode, where it is the
	 * caller's own berth-runtime process. */
	const unsigned char *keys = p->front ? NULL : monitor_detach_keys(&klen);
	if (klen > 64)
		keys = NULL;
	struct termios orig;
	for (;;) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			exited = 1;
			break;
		}
		struct pollfd pf[4];
		int n = 0, i_sig = -1, i_peer = -1, i_in = -1, i_master = -1;
		pf[i_sig = n++] = (struct pollfd){ sfd, POLLIN, 0 };
		if (master < 0 && g_peer >= 0)
			pf[i_peer = n++] = (struct pollfd){ g_peer, POLLIN, 0 };
		if (master >= 0 && in_open)
			pf[i_in = n++] = (struct pollfd){ 0, POLLIN, 0 };
		if (master >= 0 && out_open)
			pf[i_master = n++] = (struct pollfd){ master, POLLIN, 0 };
		if (poll(pf, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[i_sig].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGWINCH && master >= 0)
					copy_size(master);
				else if (si.ssi_signo != SIGCHLD && si.ssi_signo != SIGWINCH)
					kill(pid, (int)si.ssi_signo);
			}
		}
		if (i_peer >= 0 && pf[i_peer].revents) {
			master = recv_pty_master(g_peer);
			close(g_peer);
			g_peer = -1;
			if (master >= 0) {
				copy_size(master);
				if (tcgetattr(0, &orig) == 0) {
					struct termios t = orig;
					cfmakeraw(&t);
					raw = tcsetattr(0, TCSANOW, &t) == 0;
				}
			}
		}
		if (i_in >= 0 && pf[i_in].revents) {
			int r = pump_in(master, keys, klen, &matched);
			if (r == 0)
				in_open = 0; /* stdin ended: the container keeps its terminal, we stop feeding it */
			if (r == 2) {
				if (raw)
					tcsetattr(0, TCSANOW, &orig);
				monitor_become_detached(p, pid, master, fwd, nfwd); /* monitor.c */
			}
		}
		if (i_master >= 0 && pf[i_master].revents && pump(master, 1, 1) <= 0)
			out_open = 0; /* EIO: every slave fd is closed; the child is about to be reaped */
	}
	if (exited && master >= 0 && out_open) {
		/* What the container wrote just before it exited is still in the pty's buffer. */
		fcntl(master, F_SETFL, O_NONBLOCK);
		while (pump(master, 1, 1) > 0) {
			struct pollfd pf = { master, POLLIN, 0 };
			if (poll(&pf, 1, 0) <= 0)
				break;
		}
	}
	monitor_log_tty(NULL, 0, 1); /* a partial last line */
	if (raw)
		tcsetattr(0, TCSANOW, &orig);
	if (!exited) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", st);
	proto_send(p->sync_fd, "exit", buf, (size_t)len);
	if (p->front)
		front_relay(p->sync_fd); /* front.c: the runtime server has the last word */
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

/* The detached monitor (monitor.c) takes the socketpair end to receive the master itself. */
int tty_take_peer(void)
{
	int fd = g_peer;
	g_peer = -1;
	return fd;
}
