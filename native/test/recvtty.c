/*
 * recvtty: a test tool like runc's recvtty. It listens on a unix socket, receives one pty
 * master sent with SCM_RIGHTS (Node cannot receive fds), and relays the pty to its stdio until
 * the container side closes (read on the master then fails with EIO).
 *
 *   recvtty SOCKET-PATH
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int recv_fd(int conn)
{
	char name[256], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { name, sizeof(name) - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	ssize_t n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
	struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	name[n] = 0;
	fprintf(stderr, "recvtty: got %s\n", name);
	return fd;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: recvtty SOCKET-PATH\n");
		return 2;
	}
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 1) < 0) {
		perror("recvtty: listen");
		return 1;
	}
	int conn = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	int master = conn < 0 ? -1 : recv_fd(conn);
	if (master < 0) {
		fprintf(stderr, "recvtty: no pty received\n");
		return 1;
	}
	close(conn);
	close(ls);
	unlink(argv[1]);
	struct pollfd fds[2] = { { master, POLLIN, 0 }, { 0, POLLIN, 0 } };
	char buf[4096];
	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (fds[0].revents) {
			ssize_t n = read(master, buf, sizeof(buf));
			if (n <= 0)
				return 0; /* EIO: every slave fd is closed, the container is gone */
			if (write(1, buf, (size_t)n) != n)
				return 1;
		}
		if (fds[1].revents) {
			ssize_t n = read(0, buf, sizeof(buf));
			if (n <= 0)
				fds[1].fd = -1; /* stdin ended; keep relaying output */
			else if (write(master, buf, (size_t)n) != n)
				return 1;
		}
	}
}
