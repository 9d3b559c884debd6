/*
 * The parent side: join namespaces, prepare the exec fifo and console socket, clone the
 * container's init, report its pid, and (in monitor mode) wait for it.
 */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct { const char *name; int flag; } ns_types[] = {
	{ "user", CLONE_NEWUSER }, { "mnt", CLONE_NEWNS }, { "pid", CLONE_NEWPID },
	{ "net", CLONE_NEWNET }, { "uts", CLONE_NEWUTS }, { "ipc", CLONE_NEWIPC },
	{ "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME },
};

/*
 * setns(CLONE_NEWPID) and setns(CLONE_NEWTIME) only affect children created afterwards, which
 * is exactly what the clone below gives us; the others take effect in this process at once.
 */
void op_setns(struct plan *p, struct msg *m)
{
	int flag = -1;
	for (size_t i = 0; i < sizeof(ns_types) / sizeof(ns_types[0]); i++)
		if (!strcmp(ns_types[i].name, m->f[1]))
			flag = ns_types[i].flag;
	if (flag < 0)
		die("setns: unknown namespace type %s", m->f[1]);
	int fd = open(m->f[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die_errno("setns %s: open %s", m->f[1], m->f[2]);
	if (setns(fd, flag) < 0)
		die_errno("setns %s %s", m->f[1], m->f[2]);
	close(fd);
}

void op_exec_fifo(struct plan *p, struct msg *m)
{
	if (mkfifo(m->f[1], 0622) < 0 && errno != EEXIST)
		die_errno("exec-fifo: mkfifo %s", m->f[1]);
	/* mkfifo's mode is masked by the umask (0022 makes it 0600), but the child opens the fifo
	 * for writing after it has switched to process.user: it must be writable by any uid. */
	if (chmod(m->f[1], 0622) < 0)
		die_errno("exec-fifo: chmod %s", m->f[1]);
	/*
	 * Read-write: on Linux that open never blocks, and it gives the child a fd it can wait on
	 * with a plain read(2) until `start` writes a byte, with no path to reopen later (the old
	 * way, reopening an O_PATH fd through the host's /proc, kept a host /proc fd in the
	 * container's process: CVE-2024-21626's class). The child, holding a writer itself, never
	 * sees EOF; `start` opens the fifo O_WRONLY|O_NONBLOCK, which fails with ENXIO once no
	 * reader is left, i.e. when the init died.
	 */
	p->fifo_fd = open(m->f[1], O_RDWR | O_CLOEXEC);
	if (p->fifo_fd < 0)
		die_errno("exec-fifo: open %s", m->f[1]);
}

/*
 * `stdin-null`: /dev/null becomes fd 0, so the child inherits it. For a helper that is the berth
 * client (front mode) of a container run without -i: the caller's stdin must not reach it, as it
 * would not had the runtime spawned the helper with stdin ignored.
 */
void op_stdin_null(struct plan *p, struct msg *m)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || dup2(fd, 0) < 0)
		die_errno("stdin-null: /dev/null");
	close(fd);
}

void op_console_socket(struct plan *p, struct msg *m)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(m->f[1]) >= sizeof(sa.sun_path))
		die("console-socket: path too long: %s", m->f[1]);
	strcpy(sa.sun_path, m->f[1]);
	p->console_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (p->console_fd < 0 || connect(p->console_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die_errno("console-socket: connect %s", m->f[1]);
}

static volatile pid_t g_child;

static void forward(int sig)
{
	if (g_child > 0)
		kill(g_child, sig);
}

static const int fwd_sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

/*
 * Monitor: forward the usual signals to the child, reap it, report its raw status. The signals
 * were blocked before the clone, so one sent between clone and here stays pending and is
 * forwarded as soon as the handlers are in place and the old mask comes back.
 */
static __attribute__((noreturn)) void monitor(struct plan *p, pid_t pid, const sigset_t *old)
{
	struct sigaction sa = { .sa_handler = forward }; /* no SA_RESTART: waitpid sees EINTR */
	g_child = pid;
	for (size_t i = 0; i < sizeof(fwd_sigs) / sizeof(fwd_sigs[0]); i++)
		sigaction(fwd_sigs[i], &sa, NULL);
	sigprocmask(SIG_SETMASK, old, NULL);
	int st;
	for (;;) {
		if (waitpid(pid, &st, 0) == pid)
			break;
		if (errno != EINTR)
			die_errno("monitor: waitpid %d", (int)pid);
	}
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%d", st);
	proto_send(p->sync_fd, "exit", buf, (size_t)n);
	if (p->front) {
		g_child = 0; /* reaped: its pid may be reused */
		front_relay(p->sync_fd);
	}
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

/* `monitor`: stay as the child's parent (the modes below, after "pid"). */
void op_monitor(struct plan *p, struct msg *m)
{
	p->monitor = 1;
}

/* `cgroup-leave`: the dirs the helper moves back to right after the clone (clone.c). */
void op_cgroup_leave(struct plan *p, struct msg *m)
{
	p->cg_leave = m;
}

/* `clone`: the last parent op; its flags end the parent's part of the plan. */
void op_clone(struct plan *p, struct msg *m)
{
	long flags = (long)parse_num("clone", m->f[1], 10);
	if (flags < 0)
		die("clone: invalid flags %s", m->f[1]);
	p->clone_flags = flags;
}

/*
 * Run the parent ops, then clone. A raw clone() with a NULL stack behaves like fork() (the child
 * runs on a copy-on-write copy of our stack) but takes CLONE_NEW* flags, so the child is born in
 * its new namespaces: with CLONE_NEWPID it is pid 1 there. See clone.c for CLONE_INTO_CGROUP.
 */
void run_parent(struct plan *p)
{
	size_t i;
	for (i = 0; i < p->nops && p->clone_flags < 0; i++)
		op_run(p, &p->ops[i], OP_PARENT); /* ops.c */
	long flags = p->clone_flags;
	int mon = p->monitor;
	if (flags < 0)
		die("plan has no clone op");
	sigset_t block, old;
	sigemptyset(&block);
	for (size_t k = 0; mon && k < sizeof(fwd_sigs) / sizeof(fwd_sigs[0]); k++)
		sigaddset(&block, fwd_sigs[k]);
	sigprocmask(SIG_BLOCK, &block, &old);
	front_before_clone(p, mon);
	handover_before_clone(); /* handover.c: the init dies with us until it has "go" */
	int born_in;
	pid_t pid = clone_child(p, flags, &born_in);
	if (pid < 0)
		die_errno("clone flags %ld", flags);
	if (pid == 0) {
		handover_in_child();
		/* The mask survives execve: the container must start with the mask we were given. */
		sigprocmask(SIG_SETMASK, &old, NULL);
		front_in_child(p);
		monitor_child_stdio();
		run_child(p, i);
	}
	idmap_parent_close();
	if (p->fifo_fd >= 0) { /* the init's alone: a second reader would hide the init's death from `start` */
		close(p->fifo_fd);
		p->fifo_fd = -1;
	}
	handover_in_parent();
	char buf[16];
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	if (proto_send2(p->sync_fd, "pid", buf, born_in ? "1" : "0") < 0) {
		kill(pid, SIGKILL);
		_exit(1);
	}
	if (mon && monitor_detached_mode())
		monitor_detached(p, pid, &old, fwd_sigs, sizeof(fwd_sigs) / sizeof(fwd_sigs[0]));
	if (mon && tty_local())
		monitor_tty(p, pid, fwd_sigs, sizeof(fwd_sigs) / sizeof(fwd_sigs[0]));
	if (mon && monitor_logging()) /* foreground with a log: the tee of monitor.c */
		monitor_detached(p, pid, &old, fwd_sigs, sizeof(fwd_sigs) / sizeof(fwd_sigs[0]));
	if (mon)
		monitor(p, pid, &old);
	if (p->front)
		front_wait_child(p, pid); /* front.c: stays to relay the server's answer */
	handover_wait(); /* our exit must not kill a child that has not been handed over yet */
	_exit(0);
}
