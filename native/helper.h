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
};

/* proto.c */
int write_all(int fd, const void *buf, size_t n); /* proto.c: 0, or -1 when the reader is gone */
int proto_read(int fd, struct msg *m);           /* 1 = message, 0 = EOF, -1 = error */
int proto_send(int fd, const char *type, const char *a, size_t alen);
int proto_send2(int fd, const char *type, const char *a, const char *b);
void msg_free(struct msg *m);
extern int g_sync_fd;
__attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...);
__attribute__((noreturn, format(printf, 1, 2))) void die_errno(const char *fmt, ...);
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
int monitor_parent_op(struct msg *m);
int monitor_detached_mode(void);
int monitor_logging(void);
const unsigned char *monitor_detach_keys(size_t *len);
__attribute__((noreturn)) void monitor_become_detached(struct plan *p, pid_t pid, int master, const int *sigs, size_t nsigs);
int main_delay_exec(const char *ms, char **args);

/* attach.c: the detached monitor's stdin fifo and terminal size, for `berth attach` */
struct pollfd;
int attach_parent_op(struct msg *m);
void attach_child_stdio(void);
void attach_begin(void);
size_t attach_pollfds(struct pollfd *pf);
void attach_handle(const struct pollfd *pf, size_t n, int master);
void monitor_log_tty(const char *buf, size_t n, int end);
void monitor_child_stdio(void);
__attribute__((noreturn)) void monitor_detached(struct plan *p, pid_t pid, const sigset_t *old, const int *sigs, size_t nsigs);

/* clone.c */
void op_cgroup_fd(struct plan *p, struct msg *m);
void op_cgroup_enter(struct plan *p, struct msg *m);
void op_cgroup_self(struct msg *m);
void op_timens(struct msg *m);
pid_t clone_child(struct plan *p, long flags, int *born_in);

/* bpf.c */
void bpf_devices(const char *dir, const void *insns, size_t len);
void op_bpf_devices(struct msg *m);
int main_bpf_devices(const char *dir);

/* oom.c */
int main_oom_watch(const char *dir);

/* fds.c: what the container's process may hold when the config's paths come into play */
void seal_fds(struct plan *p);
void op_chdir(struct plan *p, struct msg *m);

/* child.c */
__attribute__((noreturn)) void run_child(struct plan *p, size_t first_op);

/* resolve.c */
int plan_root(struct plan *p);
int inroot_open(struct plan *p, const char *path, int flags, const char *mkdir_mode);
int inroot_parent(struct plan *p, const char *path, int create, const char **last);
void fd_path(struct plan *p, int fd, const char *plain, char *buf, size_t n);

/* mount.c */
void op_rootfs(struct plan *p, struct msg *m);
void op_mount(struct plan *p, struct msg *m);
void op_propagation(struct plan *p, struct msg *m);
void op_pivot(struct plan *p);
void op_chroot(struct plan *p);
void op_mask(struct plan *p, struct msg *m);
void op_readonly(struct plan *p, struct msg *m);
void op_remount(struct plan *p, struct msg *m);

/* idmap.c: id-mapped mounts (detached trees made by the parent, attached by the child) */
void op_idmap_tree(struct msg *m);
void idmap_parent_close(void);
int idmap_attach(const char *slot, int target_fd);
int main_idmapped_overlay(const char *layers, const char *uidmap, const char *gidmap, const char *target, const char *options);

/* copyup.c */
void copy_tree(int from, int to);

/* nodes.c */
void op_mknod(struct plan *p, struct msg *m);
void op_bind_dev(struct plan *p, struct msg *m);
void op_symlink(struct plan *p, struct msg *m);

/* process.c */
void op_rlimit(struct msg *m);
void op_bounding(struct msg *m);
void op_user(struct msg *m);
void op_caps(struct msg *m);
void op_ambient(struct msg *m);
void op_seccomp(struct msg *m);
void op_sysctl(struct msg *m);
__attribute__((noreturn)) void op_exec(struct plan *p, struct msg *m);
void op_lookup(struct plan *p, struct msg *m);

/* tty.c: receive the pty master sent by the child's `console` op (SCM_RIGHTS); -1 if none */
int recv_pty_master(int sock);

/* console.c */
void op_console(struct plan *p, struct msg *m);

/* hook.c */
void op_hook(struct plan *p, struct msg *m);

/* attrs.c: session keyring, personality, I/O priority, scheduler, CPU affinity */
void op_keyring(struct msg *m);
void op_personality(struct msg *m);
void op_ioprio(struct msg *m);
void op_sched(struct msg *m);
void op_affinity(struct msg *m);

/* tty.c: a terminal in the foreground (console-local + the proxying monitor) */
void op_console_local(struct plan *p);
int tty_local(void);
int tty_take_peer(void); /* the console-local peer for the detached monitor (monitor.c), or -1 */
__attribute__((noreturn)) void monitor_tty(struct plan *p, pid_t pid, const int *fwd, size_t nfwd);

#define NEED(m, k, op) do { if ((m)->n < (size_t)(k) + 1) die("%s: expected %d fields, got %zu", op, k, (m)->n - 1); } while (0)

#endif
