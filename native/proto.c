/*
 * Framing on the sync socket: u32le body length, then fields of u32le length + bytes.
 * Reads loop on short reads because a SOCK_STREAM socket may deliver a message in pieces.
 */
#include "helper.h"
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_BODY (64u << 20)

int g_sync_fd = -1;

/* Read exactly n bytes. Returns 1, 0 on EOF before the first byte, -1 on error or short EOF. */
static int read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0) {
			errno = EPIPE;
			return got == 0 ? 0 : -1;
		}
		got += (size_t)r;
	}
	return 1;
}

/*
 * send(MSG_NOSIGNAL) so a runtime that went away gives EPIPE instead of killing us with SIGPIPE
 * (the exit status must stay ours); write() for a sync fd that is not a socket.
 */
static int write_full(int fd, const void *buf, size_t n)
{
	while (n > 0) {
		ssize_t r = send(fd, buf, n, MSG_NOSIGNAL);
		if (r < 0 && errno == ENOTSOCK)
			r = write(fd, buf, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		buf = (const char *)buf + r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * Write all of buf to fd (a pipe, a terminal, a file); 0 on success, -1 when the other side is
 * gone or on an error. A non-blocking fd that is full is waited for (poll, 100 ms at a time).
 * The helper's one copy of this loop: the client's relay, the tty proxy and the output tee.
 */
int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pf = { fd, POLLOUT, 0 };
			poll(&pf, 1, 100);
			continue;
		}
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static uint32_t le32(const unsigned char *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void put32(unsigned char *b, uint32_t v)
{
	b[0] = v & 0xff; b[1] = (v >> 8) & 0xff; b[2] = (v >> 16) & 0xff; b[3] = v >> 24;
}

/* Read one message into m (fields are NUL-terminated copies). */
int proto_read(int fd, struct msg *m)
{
	unsigned char hdr[4];
	int r = read_full(fd, hdr, 4);
	if (r <= 0)
		return r;
	uint32_t blen = le32(hdr);
	if (blen > MAX_BODY) {
		errno = EMSGSIZE;
		return -1;
	}
	unsigned char *body = malloc(blen ? blen : 1);
	if (!body || read_full(fd, body, blen) != 1) {
		free(body);
		return -1;
	}
	memset(m, 0, sizeof(*m));
	size_t off = 0;
	while (off < blen) {
		if (blen - off < 4)
			goto bad;
		uint32_t flen = le32(body + off);
		off += 4;
		if (flen > blen - off)
			goto bad;
		m->f = realloc(m->f, (m->n + 1) * sizeof(char *));
		m->len = realloc(m->len, (m->n + 1) * sizeof(size_t));
		char *s = malloc(flen + 1);
		if (!m->f || !m->len || !s)
			goto bad;
		memcpy(s, body + off, flen);
		s[flen] = 0;
		m->f[m->n] = s;
		m->len[m->n++] = flen;
		off += flen;
	}
	free(body);
	if (m->n == 0)
		goto bad2;
	return 1;
bad:
	free(body);
bad2:
	msg_free(m);
	errno = EPROTO;
	return -1;
}

void msg_free(struct msg *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->f[i]);
	free(m->f);
	free(m->len);
	memset(m, 0, sizeof(*m));
}

/* Send a message of one type field and an optional second field (a may be NULL). */
int proto_send(int fd, const char *type, const char *a, size_t alen)
{
	const char *f[2] = { type, a };
	size_t len[2] = { strlen(type), alen };
	return proto_sendv(fd, a ? 2 : 1, f, len);
}

/* Send a message of a type and two string fields. */
int proto_send2(int fd, const char *type, const char *a, const char *b)
{
	const char *f[3] = { type, a, b };
	size_t len[3] = { strlen(type), strlen(a), strlen(b) };
	return proto_sendv(fd, 3, f, len);
}

/* Send a message of n fields (binary-safe: lengths given). */
int proto_sendv(int fd, size_t n, const char *const *f, const size_t *len)
{
	size_t body = 0;
	for (size_t i = 0; i < n; i++)
		body += 4 + len[i];
	if (body > MAX_BODY)
		return -1;
	unsigned char *buf = malloc(4 + body);
	if (!buf)
		return -1;
	unsigned char *w = buf;
	put32(w, (uint32_t)body);
	w += 4;
	for (size_t i = 0; i < n; i++) {
		put32(w, (uint32_t)len[i]);
		memcpy(w + 4, f[i], len[i]);
		w += 4 + len[i];
	}
	int r = write_full(fd, buf, 4 + body);
	free(buf);
	return r;
}

/*
 * Report "error" <op> <errno> <message> on the sync fd (stderr when there is none) and exit 1.
 * The op (g_op, ops.c: empty outside one) and the errno (0: none) are fields of their own, so
 * the runtime branches on them, never on the text; `strerror` adds the errno's text to the
 * message (die_errno), `show` 0 leaves it to the message (die_with).
 */
static void vdie(const char *fmt, va_list ap, int err, int show)
{
	char buf[4096];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	if (err && show)
		n += snprintf(buf + n, sizeof(buf) - n, ": %s", strerror(err));
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	char num[16];
	snprintf(num, sizeof(num), "%d", err);
	const char *f[] = { "error", g_op, num, buf };
	size_t len[] = { 5, strlen(g_op), strlen(num), (size_t)n };
	if (g_sync_fd < 0 || proto_sendv(g_sync_fd, 4, f, len) < 0)
		fprintf(stderr, "berth-helper: %s\n", buf);
	else if (g_front_pid > 0 && g_front_pid == getpid())
		front_relay(g_sync_fd); /* front mode: the server answers with "err" and "done" */
	_exit(1);
}

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdie(fmt, ap, 0, 0);
	va_end(ap);
	_exit(1);
}

void die_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;
	va_start(ap, fmt);
	vdie(fmt, ap, err, 1);
	va_end(ap);
	_exit(1);
}

void die_with(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdie(fmt, ap, err, 0);
	va_end(ap);
	_exit(1);
}

/* Parse a whole-string number or fail naming the op and the value. */
long long parse_num(const char *op, const char *s, int base)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, base);
	if (errno || end == s || *end)
		die("%s: invalid number %s", op, s);
	return v;
}
