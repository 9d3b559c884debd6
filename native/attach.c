/*
 * What `berth attach` needs from a detached container's monitor (monitor.c): its stdin and its
 * terminal size. The attaching command is a separate, short-lived process; the monitor is the
 * container's only long-lived companion, so it owns both ends.
 *
 *   stdin-fifo PATH ONCE   without a terminal: the container's stdin is a pipe fed by the monitor
 *                          from the fifo PATH, which `attach` opens for writing. A fifo reader
 *                          opened O_NONBLOCK sees no POLLHUP until a writer has come and gone
 *                          (the kernel suppresses it until then, see fifo_open), so the monitor
 *                          can tell "an attached client closed its stdin" from "nobody attached
 *                          yet". ONCE "1" is Docker's StdinOnce: the first such close closes the
 *                          container's stdin (`cat` ends); "0" keeps it open for the next attach.
 *                          After a close the fifo is reopened, so the hangup is not reported again.
 *   winsize-file PATH      with a terminal: on SIGWINCH the monitor reads "<rows> <cols>" from
 *                          PATH and sets the pty's size (TIOCSWINSZ on the master; the kernel then
 *                          sends SIGWINCH to the container's foreground process group). `attach`
 *                          writes the file and signals the monitor. SIGWINCH is then not forwarded.
 *
 * The fifo and the size file are opened through an O_PATH fd of their directory taken at the op,
 * so a later `setns mnt` of the plan does not change which file is meant (as for exit-file).
 */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

struct dirfile {
	int dir;          /* O_PATH fd of the directory, or -1 */
	const char *name; /* the file's name in it */
};

static struct dirfile g_fifo = { -1, NULL };
static struct dirfile g_size = { -1, NULL };
static int g_once;                     /* StdinOnce */
static int g_in_fd = -1;               /* the fifo, read end (O_NONBLOCK) */
static int g_in_pipe[2] = { -1, -1 };  /* the container's stdin */
static int g_winch[2] = { -1, -1 };    /* self-pipe: SIGWINCH arrived */
static char g_buf[65536];              /* read from the fifo, not yet taken by the pipe */
static size_t g_off, g_len;

static void open_dirfile(struct dirfile *f, const char *op, char *path)
{
	char *slash = strrchr(path, '/');
	if (!slash || !slash[1])
		die("%s: %s is not an absolute file path", op, path);
	*slash = 0;
	f->dir = open(path[0] ? path : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (f->dir < 0)
		die_errno("%s: open directory %s", op, path);
	f->name = slash + 1;
}

/* `stdin-fifo`: the fifo `berth attach` writes to, and the pipe that becomes the child's stdin. */
void op_stdin_fifo(struct plan *p, struct msg *m)
{
	g_once = !strcmp(m->f[2], "1");
	open_dirfile(&g_fifo, "stdin-fifo", m->f[1]);
	g_in_fd = openat(g_fifo.dir, g_fifo.name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (g_in_fd < 0)
		die_errno("stdin-fifo: open %s", g_fifo.name);
	if (pipe2(g_in_pipe, O_CLOEXEC) < 0)
		die_errno("stdin-fifo: pipe");
}

/* `winsize-file`: where `berth attach` leaves the terminal's size before it sends SIGWINCH. */
void op_winsize_file(struct plan *p, struct msg *m)
{
	open_dirfile(&g_size, "winsize-file", m->f[1]);
}

/* In the container's init, right after the clone: stdin becomes the pipe's read end. */
void attach_child_stdio(void)
{
	if (g_in_pipe[0] < 0)
		return;
	if (dup2(g_in_pipe[0], 0) < 0)
		die_errno("stdin-fifo: dup2");
	close(g_in_pipe[0]);
	close(g_in_pipe[1]);
	close(g_in_fd);
}

static void on_winch(int sig)
{
	(void)sig;
	int saved = errno;
	if (write(g_winch[1], "w", 1) < 0) { /* full: a resize is pending anyway */ }
	errno = saved;
}

/* In the monitor after the clone (signal handlers installed): drop the child's ends, catch SIGWINCH. */
void attach_begin(void)
{
	if (g_in_pipe[0] >= 0) {
		close(g_in_pipe[0]);
		g_in_pipe[0] = -1;
		fcntl(g_in_pipe[1], F_SETFL, O_NONBLOCK); /* a container that never reads must not block the monitor */
	}
	if (g_size.dir >= 0 && pipe2(g_winch, O_CLOEXEC | O_NONBLOCK) == 0) {
		struct sigaction sa = { .sa_handler = on_winch };
		sigaction(SIGWINCH, &sa, NULL);
	}
}

/* The pollfds to wait on (at most 3): the fifo or the pipe (whichever is next), and the self-pipe. */
size_t attach_pollfds(struct pollfd *pf)
{
	size_t n = 0;
	if (g_in_pipe[1] >= 0 && g_len > g_off)
		pf[n++] = (struct pollfd){ g_in_pipe[1], POLLOUT, 0 };
	else if (g_in_fd >= 0)
		pf[n++] = (struct pollfd){ g_in_fd, POLLIN, 0 };
	if (g_winch[0] >= 0)
		pf[n++] = (struct pollfd){ g_winch[0], POLLIN, 0 };
	return n;
}

/* The writer of the fifo went away: StdinOnce closes the container's stdin; reopen the fifo. */
static void writer_gone(void)
{
	if (g_once && g_in_pipe[1] >= 0 && g_len == g_off) {
		close(g_in_pipe[1]);
		g_in_pipe[1] = -1;
	}
	close(g_in_fd);
	g_in_fd = openat(g_fifo.dir, g_fifo.name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
}

static void apply_size(int master)
{
	char text[64];
	int fd = openat(g_size.dir, g_size.name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	unsigned rows, cols;
	if (n <= 0)
		return;
	text[n] = 0;
	if (master >= 0 && sscanf(text, "%u %u", &rows, &cols) == 2 && rows && cols && rows < 65536 && cols < 65536) {
		struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
		ioctl(master, TIOCSWINSZ, &ws);
	}
}

/*
 * With `winsize-file`: the size written there goes to the pty `master`; returns 1 when the plan
 * has such a file (the terminal monitor then takes its size from it, not from its own stdio: an
 * Engine API exec, whose client resizes through the API).
 */
int attach_apply_size(int master)
{
	if (g_size.dir < 0)
		return 0;
	apply_size(master);
	return 1;
}

/* Act on what attach_pollfds' fds reported; `master` is the pty master or -1. */
void attach_handle(const struct pollfd *pf, size_t n, int master)
{
	for (size_t i = 0; i < n; i++) {
		if (!pf[i].revents)
			continue;
		int fd = pf[i].fd;
		if (fd == g_winch[0]) {
			char drain[64];
			while (read(g_winch[0], drain, sizeof(drain)) > 0)
				;
			apply_size(master);
		} else if (fd == g_in_fd) {
			ssize_t r = read(g_in_fd, g_buf, sizeof(g_buf));
			if (r > 0 && g_in_pipe[1] >= 0) {
				g_off = 0;
				g_len = (size_t)r;
			} else if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
				writer_gone();
			}
		} else if (fd == g_in_pipe[1]) {
			ssize_t w = write(g_in_pipe[1], g_buf + g_off, g_len - g_off);
			if (w > 0)
				g_off += (size_t)w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				close(g_in_pipe[1]); /* EPIPE: the container closed its stdin; drop what comes */
				g_in_pipe[1] = -1;
			}
			if (g_off == g_len)
				g_off = g_len = 0;
		}
	}
}
