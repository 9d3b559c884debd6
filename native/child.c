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
static void op_wait_fifo(struct plan *p)
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

static void op_env(struct plan *p, struct msg *m)
{
	free(p->env);
	p->env = calloc(m->n, sizeof(char *));
	if (!p->env)
		die_errno("env");
	for (size_t i = 1; i < m->n; i++)
		p->env[i - 1] = m->f[i];
}

/* The ops that are one system call each. */
static void simple(struct plan *p, struct msg *m)
{
	const char *op = m->f[0];
	const char *a = m->n > 1 ? m->f[1] : "";
	if (!strcmp(op, "unshare")) {
		NEED(m, 1, op);
		if (unshare((int)parse_num(op, a, 10)) < 0)
			die_errno("unshare %s", a);
	} else if (!strcmp(op, "setsid")) {
		if (setsid() < 0)
			die_errno("setsid");
	} else if (!strcmp(op, "hostname")) {
		NEED(m, 1, op);
		if (sethostname(a, m->len[1]) < 0)
			die_errno("hostname %s", a);
	} else if (!strcmp(op, "domainname")) {
		NEED(m, 1, op);
		if (setdomainname(a, m->len[1]) < 0)
			die_errno("domainname %s", a);
	} else if (!strcmp(op, "umask")) {
		NEED(m, 1, op);
		umask((mode_t)parse_num(op, a, 8));
	} else if (!strcmp(op, "keepcaps")) {
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			die_errno("keepcaps");
	} else if (!strcmp(op, "no-new-privs")) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			die_errno("no-new-privs");
	} else if (!strcmp(op, "ready")) {
		if (proto_send(p->sync_fd, "ready", NULL, 0) < 0)
			die_errno("ready");
		front_ready(p); /* front.c: the parent may read the connection now */
	} else {
		die("unknown op %s", op);
	}
}

void run_child(struct plan *p, size_t first)
{
	/* Only the parent clones: the child never needs the cgroup v2 directory (fds.c says why it must go). */
	if (p->cgroup_fd >= 0) {
		close(p->cgroup_fd);
		p->cgroup_fd = -1;
	}
	wait_go(p);
	for (size_t i = first; i < p->nops; i++) {
		struct msg *m = &p->ops[i];
		const char *op = m->f[0];
		if (!strcmp(op, "rootfs")) op_rootfs(p, m);
		else if (!strcmp(op, "mount")) op_mount(p, m);
		else if (!strcmp(op, "propagation")) op_propagation(p, m);
		else if (!strcmp(op, "mknod")) op_mknod(p, m);
		else if (!strcmp(op, "bind-dev")) op_bind_dev(p, m);
		else if (!strcmp(op, "symlink")) op_symlink(p, m);
		else if (!strcmp(op, "console")) op_console(p, m);
		else if (!strcmp(op, "pivot")) op_pivot(p);
		else if (!strcmp(op, "chroot")) op_chroot(p);
		else if (!strcmp(op, "mask")) op_mask(p, m);
		else if (!strcmp(op, "readonly")) op_readonly(p, m);
		else if (!strcmp(op, "remount")) op_remount(p, m);
		else if (!strcmp(op, "sysctl")) op_sysctl(m);
		else if (!strcmp(op, "rlimit")) op_rlimit(m);
		else if (!strcmp(op, "bounding")) op_bounding(m);
		else if (!strcmp(op, "user")) op_user(m);
		else if (!strcmp(op, "caps")) op_caps(m);
		else if (!strcmp(op, "ambient")) op_ambient(m);
		else if (!strcmp(op, "seccomp")) op_seccomp(m);
		else if (!strcmp(op, "wait-fifo")) op_wait_fifo(p);
		else if (!strcmp(op, "hook")) op_hook(p, m);
		else if (!strcmp(op, "env")) op_env(p, m);
		else if (!strcmp(op, "exec")) op_exec(p, m);
		else if (!strcmp(op, "lookup")) op_lookup(p, m);
		else if (!strcmp(op, "chdir")) op_chdir(p, m); /* fds.c */
		else if (!strcmp(op, "cgroup-self")) op_cgroup_self(m);
		else if (!strcmp(op, "keyring")) op_keyring(m);
		else if (!strcmp(op, "personality")) op_personality(m);
		else if (!strcmp(op, "ioprio")) op_ioprio(m);
		else if (!strcmp(op, "sched")) op_sched(m);
		else if (!strcmp(op, "affinity")) op_affinity(m);
		else simple(p, m);
	}
	_exit(0);
}
