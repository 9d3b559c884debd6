/*
 * The detached monitor: what the helper's parent does for a container that outlives the command
 * that started it (`berth run -d`, `berth start`). Podman's conmon and Docker's shim do this job;
 * here it is the same small static helper, so no Node process stays resident per container.
 *
 * Parent ops (before `clone`, all optional, see PROTOCOL.md):
 *   daemon            setsid(): leave the starting command's session and process group, so a
 *                     Ctrl-C or hangup on its terminal does not reach the monitor
 *   log-file PATH     the container's stdout and stderr become pipes held here; every line is
 *                     appended to PATH as Docker's json-file line
 *                     {"log":"...\n","stream":"stdout","time":"<RFC3339Nano>"}
 *   exit-file PATH    when the container's init exits, its raw wait status and the time are written
 *                     to PATH atomically (temp file + rename): {"status":N,"time":"<RFC3339Nano>"}
 *   exit-exec ARGS…   after that, execve(ARGS) in place of the monitor (a short-lived cleanup)
 *
 * With a terminal (`console-local` in the plan, process.terminal), the container's output is the
 * pty: the monitor receives the master from the child's `console` op, logs what it reads from it
 * as stdout (with the pty's \r\n, as Docker does) and feeds its own stdin (the -i fifo) into it.
 *
 * `log-file` without `exit-file` is the foreground monitor of `berth run` (docker logs works for
 * a container run in the foreground): the same pipes and log, and every byte read is also copied
 * to the monitor's own fd 1 or 2 (a tee; the streams stay apart). Once the init is reaped and its
 * output drained, "exit" goes to the sync socket as from the plain monitor. With a terminal the
 * foreground proxy of tty.c does the copying and hands what it reads to monitor_log_tty().
 *
 * The monitor removes nothing: the cgroup's OOM and usage counters must survive until the engine
 * has read them, so deleting the container is the engine's job once it sees the exit file.
 */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Docker's json-file splits lines longer than 16 KiB into several entries. */
#define LINE_MAX_BYTES 16384

struct stream {
	const char *name;
	int pipe[2];
	int tee;        /* the foreground monitor's fd 1 or 2 that also gets every byte, or -1 */
	size_t len;
	char buf[LINE_MAX_BYTES];
};

static struct stream g_out = { "stdout", { -1, -1 }, -1, 0, { 0 } };
static struct stream g_err = { "stderr", { -1, -1 }, -1, 0, { 0 } };
static int g_log_fd = -1;
static int g_exit_dir = -1;     /* O_PATH fd of the exit file's directory (paths may change with setns mnt) */
static const char *g_exit_name; /* the exit file's name in that directory */
static char **g_exit_exec;      /* NULL-terminated argv, or NULL */
static volatile pid_t g_mon_child;
/* `detach-keys`: the foreground terminal proxy's detach sequence, and what the monitor becomes. */
static const unsigned char *g_detach_keys;
static size_t g_detach_len;
static int g_detach_dir = -1;
static const char *g_detach_name;
static const char *g_detach_stdin; /* the -i fifo for a later attach, or "" */

/* The detach sequence of a foreground terminal (tty.c), or NULL. */
const unsigned char *monitor_detach_keys(size_t *len)
{
	*len = g_detach_len;
	return g_detach_len ? g_detach_keys : NULL;
}

/* `daemon`: leave the starting command's session (a Ctrl-C on its terminal must not reach us). */
void op_daemon(struct plan *p, struct msg *m)
{
	if (setsid() < 0)
		die_errno("daemon: setsid");
}

/* `log-file`: the json-file log and the two pipes that become the child's stdout and stderr. */
void op_log_file(struct plan *p, struct msg *m)
{
	g_log_fd = open(m->f[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (g_log_fd < 0)
		die_errno("log-file: open %s", m->f[1]);
	if (pipe2(g_out.pipe, O_CLOEXEC) < 0 || pipe2(g_err.pipe, O_CLOEXEC) < 0)
		die_errno("log-file: pipe");
}

/* `exit-file`: its directory is opened now, so a later `setns mnt` does not change it. */
void op_exit_file(struct plan *p, struct msg *m)
{
	char *slash = strrchr(m->f[1], '/');
	if (!slash || !slash[1])
		die("exit-file: %s is not an absolute file path", m->f[1]);
	*slash = 0;
	g_exit_dir = open(m->f[1][0] ? m->f[1] : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (g_exit_dir < 0)
		die_errno("exit-file: open directory %s", m->f[1]);
	g_exit_name = slash + 1;
}

/* `exit-exec`: the command that replaces the detached monitor once the exit file is written. */
void op_exit_exec(struct plan *p, struct msg *m)
{
	g_exit_exec = calloc(m->n, sizeof(char *));
	if (!g_exit_exec)
		die_errno("exit-exec");
	for (size_t i = 1; i < m->n; i++)
		g_exit_exec[i - 1] = m->f[i];
}

/* `detach-keys`: the foreground terminal proxy may become the detached monitor. */
void op_detach_keys(struct plan *p, struct msg *m)
{
	g_detach_keys = (const unsigned char *)m->f[1];
	g_detach_len = m->len[1];
	char *slash = strrchr(m->f[2], '/');
	if (!slash || !slash[1])
		die("detach-keys: %s is not an absolute file path", m->f[2]);
	*slash = 0;
	g_detach_dir = open(m->f[2][0] ? m->f[2] : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (g_detach_dir < 0)
		die_errno("detach-keys: open directory %s", m->f[2]);
	g_detach_name = slash + 1;
	g_detach_stdin = m->f[3];
}

/* True when the plan asked for the detached monitor (it then replaces the foreground one). */
int monitor_detached_mode(void)
{
	return g_exit_dir >= 0;
}

/* True when a foreground monitor must also log (`log-file` without `exit-file`). */
int monitor_logging(void)
{
	return g_log_fd >= 0;
}

/* In the container's init, right after the clone: stdout and stderr become the log pipes. */
void monitor_child_stdio(void)
{
	attach_child_stdio();
	if (g_log_fd < 0)
		return;
	if (dup2(g_out.pipe[1], 1) < 0 || dup2(g_err.pipe[1], 2) < 0)
		die_errno("log-file: dup2");
	close(g_out.pipe[0]);
	close(g_err.pipe[0]);
	close(g_out.pipe[1]);
	close(g_err.pipe[1]);
	close(g_log_fd);
}

/* Go's time.RFC3339Nano in UTC (trailing zeros of the fraction dropped), as Docker writes it. */
static void rfc3339nano(char *buf, size_t n)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t k = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
	if (ts.tv_nsec) {
		char frac[16];
		snprintf(frac, sizeof(frac), ".%09ld", ts.tv_nsec);
		size_t fl = strlen(frac);
		while (frac[fl - 1] == '0')
			frac[--fl] = 0;
		snprintf(buf + k, n - k, "%sZ", frac);
	} else {
		snprintf(buf + k, n - k, "Z");
	}
}

/* Length of a valid UTF-8 sequence at s (at most n bytes), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned min;
	unsigned c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) { len = 2; min = 0x80; }
	else if (c >= 0xe0 && c <= 0xef) { len = 3; min = 0x800; }
	else if (c >= 0xf0 && c <= 0xf4) { len = 4; min = 0x10000; }
	else return 0;
	if (len > n)
		return 0;
	unsigned cp = c & (0xff >> (len + 1));
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * Append one entry. Like Go's encoding/json: `"`, `\` and control characters are escaped, `<`,
 * `>`, `&` become \u003c… (Go's HTML-safe default), invalid UTF-8 becomes U+FFFD. One write(2)
 * on an O_APPEND fd, so a reader never sees half an entry.
 */
static void log_entry(struct stream *s, const char *data, size_t len)
{
	static char out[LINE_MAX_BYTES * 6 + 128];
	static const char hex[] = "0123456789abcdef";
	size_t k = 0;
	k += (size_t)snprintf(out, sizeof(out), "{\"log\":\"");
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)data[i];
		size_t u = utf8_len((const unsigned char *)data + i, len - i);
		if (u == 0) {
			memcpy(out + k, "\\ufffd", 6);
			k += 6;
			i++;
			continue;
		}
		if (u > 1) {
			memcpy(out + k, data + i, u);
			k += u;
			i += u;
			continue;
		}
		i++;
		if (c == '"' || c == '\\') {
			out[k++] = '\\';
			out[k++] = (char)c;
		} else if (c == '\n') {
			out[k++] = '\\'; out[k++] = 'n';
		} else if (c == '\r') {
			out[k++] = '\\'; out[k++] = 'r';
		} else if (c == '\t') {
			out[k++] = '\\'; out[k++] = 't';
		} else if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7f) {
			memcpy(out + k, "\\u00", 4);
			out[k + 4] = hex[c >> 4];
			out[k + 5] = hex[c & 15];
			k += 6;
		} else {
			out[k++] = (char)c;
		}
	}
	char ts[64];
	rfc3339nano(ts, sizeof(ts));
	k += (size_t)snprintf(out + k, sizeof(out) - k, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", s->name, ts);
	for (size_t off = 0; off < k;) {
		ssize_t w = write(g_log_fd, out + off, k - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* a full disk loses log lines, never the container */
		off += (size_t)w;
	}
}

/* Add bytes to a stream's line buffer; write each complete line (and a full 16 KiB buffer). */
static void absorb(struct stream *s, const char *data, size_t n)
{
	while (n > 0) {
		size_t take = sizeof(s->buf) - s->len;
		if (take > n)
			take = n;
		memcpy(s->buf + s->len, data, take);
		s->len += take;
		data += take;
		n -= take;
		size_t start = 0;
		for (size_t i = 0; i < s->len; i++) {
			if (s->buf[i] == '\n') {
				log_entry(s, s->buf + start, i + 1 - start);
				start = i + 1;
			}
		}
		if (start == 0 && s->len == sizeof(s->buf)) {
			log_entry(s, s->buf, s->len);
			start = s->len;
		}
		memmove(s->buf, s->buf + start, s->len - start);
		s->len -= start;
	}
}

/* A partial last line is written as it is (Docker does the same at the end of a stream). */
static void flush_stream(struct stream *s)
{
	if (s->len)
		log_entry(s, s->buf, s->len);
	s->len = 0;
}

/* Read what the pipe has: copy it to the tee fd, log it. 0 at EOF (the pipe is then closed). */
static int pump(struct stream *s)
{
	char buf[8192];
	ssize_t r;
	do
		r = read(s->pipe[0], buf, sizeof(buf));
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		flush_stream(s);
		close(s->pipe[0]);
		s->pipe[0] = -1;
		return 0;
	}
	if (s->tee >= 0 && write_all(s->tee, buf, (size_t)r) < 0)
		s->tee = -1; /* the caller's reader went away: keep logging, stop copying */
	absorb(s, buf, (size_t)r);
	return 1;
}

/* The terminal of a container with a tty: its master is read like a pipe and logged as stdout. */
static struct stream g_tty = { "stdout", { -1, -1 }, -1, 0, { 0 } };

/*
 * The foreground terminal proxy (tty.c) with `log-file`: the log pipes are not used (the pty is
 * the child's stdio), so the monitor closes them; what the proxy reads from the master is logged
 * as stdout, and `end` writes a partial last line.
 */
void monitor_log_tty(const char *buf, size_t n, int end)
{
	if (g_log_fd < 0)
		return;
	for (struct stream *s = &g_out; s; s = s == &g_out ? &g_err : NULL)
		for (int k = 0; k < 2; k++)
			if (s->pipe[k] >= 0) {
				close(s->pipe[k]);
				s->pipe[k] = -1;
			}
	if (n)
		absorb(&g_tty, buf, n);
	if (end)
		flush_stream(&g_tty);
}

/* Copy what the stdin fd has into the master; 0 when stdin ended (the container keeps its pty). */
static int feed(int in, int master)
{
	char buf[4096];
	ssize_t n = read(in, buf, sizeof(buf));
	if (n < 0 && errno == EINTR)
		return 1;
	if (n <= 0)
		return 0;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(master, buf + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return 0;
		off += w;
	}
	return 1;
}

static void forward_sig(int sig)
{
	if (g_mon_child > 0)
		kill(g_mon_child, sig);
}

/* Write the exit file: temp file, then rename, so a reader sees all of it or nothing. */
static void write_exit_file(int status)
{
	if (g_exit_dir < 0)
		return;
	char tmp[300], ts[64], text[128];
	snprintf(tmp, sizeof(tmp), ".%s.tmp", g_exit_name);
	rfc3339nano(ts, sizeof(ts));
	int n = snprintf(text, sizeof(text), "{\"status\":%d,\"time\":\"%s\"}\n", status, ts);
	int fd = openat(g_exit_dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return;
	ssize_t w = write(fd, text, (size_t)n);
	close(fd);
	if (w == n)
		renameat(g_exit_dir, tmp, g_exit_dir, g_exit_name);
}

/*
 * Stay as the init's parent: forward signals, log its output, reap it, record the status. The
 * forwarded signals were blocked before the clone (see parent.c); installing the handlers and
 * restoring the mask delivers one that arrived meanwhile. Waiting uses a pidfd in the same poll
 * as the pipes, so the monitor sleeps in one poll(2) and costs no CPU while the container runs.
 *
 * Without an exit file this is the foreground monitor with a log (see the top of this file): it
 * keeps its stdio and the sync socket, copies the output to its fd 1/2 as well, and ends like the
 * plain monitor ("exit" <status>, then front mode's relay) once the output is drained.
 */
__attribute__((noreturn)) void monitor_detached(struct plan *p, pid_t pid, const sigset_t *old, const int *sigs, size_t nsigs)
{
	struct sigaction sa = { .sa_handler = forward_sig };
	int fg = g_exit_dir < 0;
	g_mon_child = pid;
	/* Detached: our output and the sync socket lead to a command that is about to exit.
	 * Foreground: a reader of our stdout that went away must not kill the monitor. */
	signal(SIGPIPE, SIG_IGN);
	int peer = fg ? -1 : tty_take_peer();
	/* the -i fifo, or /dev/null; g_tty is open already when a foreground proxy detached */
	int in = peer >= 0 || g_tty.pipe[0] >= 0 ? fcntl(0, F_DUPFD_CLOEXEC, 3) : -1;
	if (p->console_fd >= 0) {
		close(p->console_fd); /* the child has its copy: EOF on peer if it dies before sending */
		p->console_fd = -1;
	}
	if (fg) {
		g_out.tee = 1;
		g_err.tee = 2;
	} else {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
			close(null);
		}
		if (chdir("/") < 0) { /* never fails for "/" */ }
	}
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (g_log_fd >= 0) {
		close(g_out.pipe[1]);
		close(g_err.pipe[1]);
	}
	for (size_t i = 0; i < nsigs; i++)
		sigaction(sigs[i], &sa, NULL);
	attach_begin(); /* after the handlers: it takes SIGWINCH over for winsize-file */
	sigprocmask(SIG_SETMASK, old, NULL);
	if (!fg) {
		close(p->sync_fd);
		g_sync_fd = -1;
	}

	int st = 0, exited = 0;
	for (;;) {
		struct pollfd fds[9] = {
			{ .fd = exited ? -1 : pidfd, .events = POLLIN },
			{ .fd = g_out.pipe[0], .events = POLLIN },
			{ .fd = g_err.pipe[0], .events = POLLIN },
			{ .fd = peer, .events = POLLIN },
			{ .fd = g_tty.pipe[0], .events = POLLIN },
			{ .fd = g_tty.pipe[0] >= 0 ? in : -1, .events = POLLIN },
		};
		if (exited && fds[1].fd < 0 && fds[2].fd < 0 && fds[4].fd < 0)
			break;
		size_t na = exited ? 0 : attach_pollfds(fds + 6);
		/* After the init exited, wait briefly for the rest of its output: a process that
		 * escaped the container's pid namespace (--pid host) could hold the pipe forever.
		 * Without a pidfd (not expected on a kernel with clone3), poll the child every 100 ms. */
		int r = poll(fds, (nfds_t)(6 + na), exited ? 200 : pidfd < 0 ? 100 : -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (r == 0 && exited))
			break;
		if (!exited && (pidfd < 0 || fds[0].revents) && waitpid(pid, &st, WNOHANG) == pid)
			exited = 1;
		if (fds[1].revents)
			pump(&g_out);
		if (fds[2].revents)
			pump(&g_err);
		if (fds[3].revents) {
			g_tty.pipe[0] = recv_pty_master(peer);
			close(peer);
			peer = -1;
		}
		/* EIO from the master once every slave fd is closed: pump treats it as the end. */
		if (fds[4].revents)
			pump(&g_tty);
		if (fds[5].revents && !feed(in, g_tty.pipe[0])) {
			close(in);
			in = -1;
		}
		attach_handle(fds + 6, na, g_tty.pipe[0]);
	}
	if (fg) {
		char buf[16];
		int len = snprintf(buf, sizeof(buf), "%d", st);
		proto_send(p->sync_fd, "exit", buf, (size_t)len);
		if (p->front) {
			g_mon_child = 0; /* reaped: its pid may be reused */
			front_relay(p->sync_fd); /* front.c: the runtime server has the last word */
		}
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
	write_exit_file(st);
	if (g_exit_exec) {
		/* The cleanup must not be killed by a signal meant for the container. */
		signal(SIGPIPE, SIG_DFL);
		for (size_t i = 0; i < nsigs; i++)
			signal(sigs[i], SIG_DFL);
		extern char **environ;
		execve(g_exit_exec[0], g_exit_exec, environ);
	}
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

/*
 * `berth-helper delay-exec MS ARGS…` (one-shot): sleep MS milliseconds, then execve(ARGS). The
 * restart back-off of a detached container (src/engine/reap.ts): the wait costs a sleeping static
 * process of a few hundred KiB instead of a resident Node process, and `berth stop`/`rm -f` cancel
 * the restart by killing it (its pid is in the record; exec keeps the pid and the start time).
 */
int main_delay_exec(const char *ms, char **args)
{
	char *end;
	long long v = strtoll(ms, &end, 10);
	if (*ms == 0 || *end || v < 0) {
		fprintf(stderr, "berth-helper: delay-exec: invalid delay %s: milliseconds, a number >= 0\n", ms);
		return 1;
	}
	struct timespec ts = { (time_t)(v / 1000), (long)(v % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	extern char **environ;
	execve(args[0], args, environ);
	fprintf(stderr, "berth-helper: delay-exec: exec %s: %s\n", args[0], strerror(errno));
	return 127;
}

/*
 * The foreground terminal proxy read the detach keys (`detach-keys`): tell the runtime
 * ("detached": it records this process as the container's monitor and exits 0), then carry on as
 * the detached monitor: own session, stdio on /dev/null (stdin on the -i fifo for a later
 * attach), the pty logged, the exit file and the cleanup at the end. The proxy's signals were
 * blocked for its signalfd; they are unblocked here for monitor_detached's handlers.
 */
__attribute__((noreturn)) void monitor_become_detached(struct plan *p, pid_t pid, int master, const int *sigs, size_t nsigs)
{
	proto_send(p->sync_fd, "detached", NULL, 0);
	if (setsid() < 0) { /* already a group leader: the session stays, SIGHUP is handled below */ }
	signal(SIGHUP, SIG_IGN); /* the terminal we leave may hang up before setsid took effect */
	int fifo = g_detach_stdin && g_detach_stdin[0] ? open(g_detach_stdin, O_RDWR | O_CLOEXEC) : -1;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(fifo >= 0 ? fifo : null, 0);
		close(null);
	}
	if (fifo >= 0)
		close(fifo);
	g_exit_dir = g_detach_dir;
	g_exit_name = g_detach_name;
	g_tty.pipe[0] = master;
	sigset_t old;
	sigprocmask(SIG_BLOCK, NULL, &old);
	for (size_t i = 0; i < nsigs; i++)
		sigdelset(&old, sigs[i]);
	sigdelset(&old, SIGWINCH);
	sigdelset(&old, SIGCHLD);
	monitor_detached(p, pid, &old, sigs, nsigs);
}
