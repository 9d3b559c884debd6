/*
 * The console op: allocate a pty inside the container's devpts, hand the master to the
 * runtime's console socket with SCM_RIGHTS, and make the slave our controlling terminal and stdio.
 */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

static void send_fd(int sock, int fd, const char *name)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { (void *)name, strlen(name) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	memset(cbuf, 0, sizeof(cbuf));
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	ssize_t r;
	do
		r = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		die_errno("console: send pty master");
}

void op_console(struct plan *p, struct msg *m)
{
	if (p->console_fd < 0)
		die("console: no console-socket in the plan");
	/*
	 * ROOT/dev/ptmx, normally a symlink to pts/ptmx of the container's own devpts instance. An
	 * exec plan has no `rootfs` op: its setns into the container's mount namespace has already
	 * made the container's root our own, so /dev/ptmx is the container's.
	 */
	int master = p->root_fd >= 0 ? inroot_open(p, "dev/ptmx", O_RDWR | O_NOCTTY, NULL)
				     : open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		die_errno("console: open /dev/ptmx");
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		die_errno("console: unlock pty");
	/* TIOCGPTPEER opens the slave from the master, with no path lookup that could be raced. */
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		die_errno("console: open pty slave");
	struct winsize ws = { .ws_row = (unsigned short)parse_num("console", m->f[1], 10),
			      .ws_col = (unsigned short)parse_num("console", m->f[2], 10) };
	if ((ws.ws_row || ws.ws_col) && ioctl(slave, TIOCSWINSZ, &ws) < 0)
		die_errno("console: set size %sx%s", m->f[1], m->f[2]);
	unsigned n = 0;
	char name[64] = "/dev/ptmx";
	if (ioctl(master, TIOCGPTN, &n) == 0)
		snprintf(name, sizeof(name), "/dev/pts/%u", n);
	send_fd(p->console_fd, master, name);
	close(master);
	close(p->console_fd);
	p->console_fd = -1;
	/* Needs a session leader without a controlling tty: the runtime puts `setsid` before. */
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		die_errno("console: make %s the controlling tty", name);
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0)
			die_errno("console: dup pty to fd %d", i);
	close(slave);
}
