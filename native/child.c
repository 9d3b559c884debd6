/*
 * The child side: wait for "go", then run the child ops in plan order. Everything here runs in
 * the container's namespaces, between clone() and execve().
 */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Block on the sync socket for "go"; EOF means the runtime gave up, so leave quietly. */
static void wait_go(struct plan *p)
{
	struct msg m;
	int r = proto_read(p->sync_fd, &m);
	if (r == 0)
		_exit(1);
	if (r < 0)
		die_errno("read go");
	if (strcmp(m.f[0], "go"))
		die("expected go, got %s", m.f[0]);
	handover_done(); /* handover.c: the runtime has us now; outlive the parent */
	if (m.n > 1) {
		p->state = m.f[1];
		p->state_len = m.len[1];
		m.f[1] = NULL; /* keep it */
	}
	msg_free(&m);
}

/*
 * Wait for `start`: it writes one byte into the exec fifo, which we hold open (see `exec-fifo`).
 * The fd stays open (close-on-exec) until the execve: `start` waits for the last reader to go
 * before it runs the poststart hooks, which the spec orders after the startContainer hooks and
 * the exec of the user's process.
 */
void op_wait_fifo(struct plan *p, struct msg *m)
{
	if (p->fifo_fd < 0)
		die("wait-fifo: no exec-fifo in the plan");
	char c;
	ssize_t r;
	do
		r = read(p->fifo_fd, &c, 1);
	while (r < 0 && errno == EINTR);
	if (r != 1)
		die_errno("wait-fifo: read exec fifo");
}

void op_env(struct plan *p, struct msg *m)
{
	free(p->env);
	p->env = calloc(m->n, sizeof(char *));
	if (!p->env)
		die_errno("env");
	for (size_t i = 1; i < m->n; i++)
		p->env[i - 1] = m->f[i];
}

/* The ops that are one system call each. */

void op_unshare(struct plan *p, struct msg *m)
{
	if (unshare((int)parse_num("unshare", m->f[1], 10)) < 0)
		die_errno("unshare %s", m->f[1]);
}

void op_setsid(struct plan *p, struct msg *m)
{
	if (setsid() < 0)
		die_errno("setsid");
}

void op_hostname(struct plan *p, struct msg *m)
{
	if (sethostname(m->f[1], m->len[1]) < 0)
		die_errno("hostname %s", m->f[1]);
}

void op_domainname(struct plan *p, struct msg *m)
{
	if (setdomainname(m->f[1], m->len[1]) < 0)
		die_errno("domainname %s", m->f[1]);
}

void op_umask(struct plan *p, struct msg *m)
{
	umask((mode_t)parse_num("umask", m->f[1], 8));
}

void op_keepcaps(struct plan *p, struct msg *m)
{
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		die_errno("keepcaps");
}

void op_no_new_privs(struct plan *p, struct msg *m)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die_errno("no-new-privs");
}

void op_ready(struct plan *p, struct msg *m)
{
	if (proto_send(p->sync_fd, "ready", NULL, 0) < 0)
		die_errno("ready");
	front_ready(p); /* front.c: the parent may read the connection now */
}

void run_child(struct plan *p, size_t first)
{
	/* Only the parent clones: the child never needs the cgroup v2 directory (fds.c says why it must go). */
	if (p->cgroup_fd >= 0) {
		close(p->cgroup_fd);
		p->cgroup_fd = -1;
	}
	wait_go(p);
	for (size_t i = first; i < p->nops; i++)
		op_run(p, &p->ops[i], OP_CHILD); /* ops.c */
	_exit(0);
}
