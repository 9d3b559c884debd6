/*
 * berth-helper: shared declarations.
 *
 * The helper executes a launch plan received over the sync socket (see PROTOCOL.md). It is
 * single-threaded on purpose: setns(CLONE_NEWUSER), setns into a mount namespace and
 * unshare(CLONE_NEWUSER) all fail with EINVAL in a multi-threaded process, which is why Node
 * cannot do these steps itself.
 */
#ifndef BERTH_HELPER_H
#define BERTH_HELPER_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

/* One protocol message: fields[0] is the type. Every field is also NUL-terminated. */
struct msg {
	size_t n;
	char **f;
	size_t *len;
};

/* The whole plan as read before the clone, plus state the ops share. */
struct plan {
	struct msg *ops;
	size_t nops;
	int sync_fd;
	int preserve;
	int fifo_fd;     /* the exec fifo, open for reading and writing (`exec-fifo`), or -1 */
	int console_fd;  /* connected console socket, or -1 */
	int root_fd;     /* O_PATH fd of ROOT (of "/" after pivot), or -1 */
	int cgroup_fd;   /* O_PATH fd of the cgroup v2 dir for CLONE_INTO_CGROUP, or -1 */
	struct msg *cg_enter; /* `cgroup-enter`: v1 dirs the helper moved itself into, or NULL */
	struct msg *cg_leave; /* `cgroup-leave`: v1 dirs it moves back to after the clone, or NULL */
	int cg_entered;  /* 1 while the helper sits in the cg_enter dirs */
	int pivoted;     /* 1 after pivot/chroot: paths are container paths */
	int sealed;      /* 1 once seal_fds() ran in the child (fds.c) */
	char *root;      /* ROOT as given by `rootfs` */
	char *state;     /* state json from "go", or NULL */
	size_t state_len;
	char **env;      /* environment for `exec` (NULL-terminated), or NULL */
	int front;       /* front mode (front.c): the helper runs in the berth-runtime client */
	int front_rd;    /* front mode: the parent's end of the child's "ready" pipe, or -1 */
	int front_wr;    /* front mode: the child's end, or -1 */
	int monitor;     /* `monitor`: the parent stays as the child's parent */
	long clone_flags; /* `clone`'s CLONE_NEW* flags; -1 until the op */
};

/* ops.c: the dispatch table generated from src/native/ops.ts (build/ops.gen.h) */
#define OP_PARENT 1
#define OP_CHILD 2
struct op_def {
	const char *name;
	int side;  /* OP_PARENT, OP_CHILD or both */
	int min;   /* fields after the name, at least */
	int max;   /* at most; -1: a variadic list may follow */
	void (*run)(struct plan *p, struct msg *m);
};
#include "build/ops.gen.h"
extern const char *g_op;
const struct op_def *op_find(const char *name);
void op_check(const struct msg *m);
void op_run(struct plan *p, struct msg *m, int side);
int main_list_ops(void);

/* proto.c */
int write_all(int fd, const void *buf, size_t n); /* proto.c: 0, or -1 when the reader is gone */
int proto_read(int fd, struct msg *m);           /* 1 = message, 0 = EOF, -1 = error */
int proto_send(int fd, const char *type, const char *a, size_t alen);
int proto_send2(int fd, const char *type, const char *a, const char *b);
void msg_free(struct msg *m);
extern int g_sync_fd;
__attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...);
__attribute__((noreturn, format(printf, 1, 2))) void die_errno(const char *fmt, ...);
/* die() with an errno field but no strerror text appended (the message says it its own way) */
__attribute__((noreturn, format(printf, 2, 3))) void die_with(int err, const char *fmt, ...);
long long parse_num(const char *op, const char *s, int base);

int proto_sendv(int fd, size_t n, const char *const *f, const size_t *len);

/* main.c */
int helper_launch(char **argv);
int helper_run(int sync_fd, int preserve);

/* spawner.c: forks helpers for a Node program (PROTOCOL.md, "The spawner") */
int main_spawner(const char *address, char **argv);

/* client.c: berth-runtime and berth (engine != 0), the clients of the runtime server */
int client_main(int argc, char **argv, int engine);
int client_message(struct msg *m);

/* front.c: the helper inside the client ("front" mode, PROTOCOL.md) */
extern pid_t g_front_pid;
void front_begin(struct plan *p);
void front_before_clone(struct plan *p, int mon);
void front_in_child(struct plan *p);
void front_ready(struct plan *p);
__attribute__((noreturn)) void front_wait_child(struct plan *p, pid_t pid);
__attribute__((noreturn)) void front_relay(int fd);

/* handover.c: the init dies with its parent until "go" (issue 10) */
void handover_before_clone(void);
void handover_in_child(void);
void handover_in_parent(void);
void handover_done(void);
void handover_wait(void);

/* memfd.c */
void ensure_sealed_exe(char **argv);
void cloexec_from(int first, int keep);

/* parent.c */
void run_parent(struct plan *p);

/* monitor.c: the detached monitor (log file, exit file, cleanup command) */
int monitor_detached_mode(void);
int monitor_logging(void);
const unsigned char *monitor_detach_keys(size_t *len);
__attribute__((noreturn)) void monitor_become_detached(struct plan *p, pid_t pid, int master, const int *sigs, size_t nsigs);
int main_delay_exec(const char *ms, char **args);
int main_netns(const char *verb, const char *path); /* netns.c */

/* attach.c: the detached monitor's stdin fifo and terminal size, for `berth attach` */
struct pollfd;
void attach_child_stdio(void);
void attach_begin(void);
size_t attach_pollfds(struct pollfd *pf);
void attach_handle(const struct pollfd *pf, size_t n, int master);
int attach_apply_size(int master);
void monitor_log_tty(const char *buf, size_t n, int end);
void monitor_child_stdio(void);
__attribute__((noreturn)) void monitor_detached(struct plan *p, pid_t pid, const sigset_t *old, const int *sigs, size_t nsigs);

/* clone.c */
pid_t clone_child(struct plan *p, long flags, int *born_in);

/* bpf.c */
void bpf_devices(const char *dir, const void *insns, size_t len);
int main_bpf_devices(const char *dir);

/* oom.c */
int main_oom_watch(const char *dir);

/* fds.c: what the container's process may hold when the config's paths come into play */
void seal_fds(struct plan *p);

/* child.c */
__attribute__((noreturn)) void run_child(struct plan *p, size_t first_op);

/* resolve.c */
int plan_root(struct plan *p);
int inroot_open(struct plan *p, const char *path, int flags, const char *mkdir_mode);
int inroot_parent(struct plan *p, const char *path, int create, const char **last);
void fd_path(struct plan *p, int fd, const char *plain, char *buf, size_t n);

/* mount.c */

/* idmap.c: id-mapped mounts (detached trees made by the parent, attached by the child) */
void idmap_parent_close(void);
int idmap_attach(const char *slot, int target_fd);
int main_idmapped_overlay(const char *layers, const char *uidmap, const char *gidmap, const char *target, const char *options);

/* copyup.c */
void copy_tree(int from, int to);

/* nodes.c */

/* process.c */

/* tty.c: receive the pty master sent by the child's `console` op (SCM_RIGHTS); -1 if none */
int recv_pty_master(int sock);

/* console.c */

/* hook.c */

/* attrs.c: session keyring, personality, I/O priority, scheduler, CPU affinity */

/* tty.c: a terminal in the foreground (console-local + the proxying monitor) */
int tty_local(void);
int tty_take_peer(void); /* the console-local peer for the detached monitor (monitor.c), or -1 */
__attribute__((noreturn)) void monitor_tty(struct plan *p, pid_t pid, const int *fwd, size_t nfwd);


#endif
