/*
 * berth-helper entry point: environment, memfd re-exec, reading the plan, then the parent side.
 * See PROTOCOL.md for the contract.
 */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef BERTH_VERSION
#define BERTH_VERSION "0.1.0"
#endif

/* Read an fd number from the environment and remove the variable, so the container never sees it. */
static int env_fd(const char *name, int def)
{
	const char *v = getenv(name);
	int r = def;
	if (v) {
		char *end;
		long n = strtol(v, &end, 10);
		if (*v && !*end && n >= 0 && n < (1 << 20))
			r = (int)n;
		else
			die("invalid %s=%s", name, v);
		unsetenv(name);
	}
	return r;
}

int main_fileops(void); /* fileops.c: mknod/setxattr for the layer unpacker */

int main(int argc, char **argv)
{
	/* Run as `berth-runtime` or `berth` (hard links in native/build): the client, client.c. */
	const char *base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	if (!strcmp(base, "berth-runtime"))
		return client_main(argc, argv, 0);
	if (!strcmp(base, "berth"))
		return client_main(argc, argv, 1);
	if (argc > 1) {
		if (!strcmp(argv[1], "--version")) {
			printf("berth-helper %s\n", BERTH_VERSION);
			return 0;
		}
		if (!strcmp(argv[1], "--ops"))
			return main_list_ops(); /* ops.c: the table compiled in */
		/* One-shot modes: no plan, no container; errors go to stderr (there is no sync fd). */
		if (!strcmp(argv[1], "bpf-devices") && argc == 3)
			return main_bpf_devices(argv[2]);
		if (!strcmp(argv[1], "oom-watch") && argc == 3)
			return main_oom_watch(argv[2]);
		if (!strcmp(argv[1], "idmapped-overlay") && argc == 7)
			return main_idmapped_overlay(argv[2], argv[3], argv[4], argv[5], argv[6]);
		if (!strcmp(argv[1], "fileops") && argc == 2)
			return main_fileops();
		if (!strcmp(argv[1], "spawner") && argc == 3)
			return main_spawner(argv[2], argv); /* spawner.c */
		if (!strcmp(argv[1], "delay-exec") && argc >= 4)
			return main_delay_exec(argv[2], argv + 3); /* monitor.c */
		if (!strcmp(argv[1], "netns") && argc == 4)
			return main_netns(argv[2], argv[3]); /* netns.c */
		fprintf(stderr, "usage: berth-helper [--version | bpf-devices <cgroup dir> | oom-watch <memory cgroup dir> |\n"
				"                     idmapped-overlay <layers dir> <uid_map> <gid_map> <target> <options> | fileops |\n"
				"                     delay-exec <ms> <command>... | spawner <socket address> | netns add|pin|del <path>]\n");
		return 2;
	}
	return helper_launch(argv);
}

/* Launch mode (also entered by the client on "launch"): re-exec sealed, read the plan, run it. */
int helper_launch(char **argv)
{
	/* Re-exec first: the environment (sync fd number) must survive into the sealed copy. */
	ensure_sealed_exe(argv);
	int sync_fd = env_fd("_BERTH_SYNC_FD", -1);
	int preserve = env_fd("_BERTH_PRESERVE_FDS", 0);
	if (sync_fd < 0) {
		fprintf(stderr, "berth-helper: _BERTH_SYNC_FD is not set\n");
		return 2;
	}
	return helper_run(sync_fd, preserve);
}

/* Launch mode proper, running sealed: read the plan from sync_fd, run it. */
int helper_run(int sync_fd, int preserve)
{
	struct plan p = { .fifo_fd = -1, .console_fd = -1, .root_fd = -1, .cgroup_fd = -1,
			  .front_rd = -1, .front_wr = -1, .clone_flags = -1 };
	p.sync_fd = sync_fd;
	p.preserve = preserve;
	g_sync_fd = p.sync_fd;
	/*
	 * Not dumpable: /proc/<pid>/fd, /proc/<pid>/root and ptrace of the helper then need
	 * CAP_SYS_PTRACE, which a container's process does not have. The child inherits this, so a
	 * process already in the container (an `exec` joins its pid namespace) cannot reach the
	 * host fds the child holds between setns and the exec (the CVE-2016-9962 class; runc's init
	 * does the same). execve() makes the container's process dumpable again.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die_errno("prctl PR_SET_DUMPABLE");
	cloexec_from(3 + p.preserve, p.sync_fd);
	/* Neither a hook nor the container may inherit the sync socket; nothing we exec needs it. */
	if (fcntl(p.sync_fd, F_SETFD, FD_CLOEXEC) < 0)
		die_errno("sync fd %d", p.sync_fd);

	/* Read the whole plan up to "end"; the child inherits it with its copy of our memory. */
	for (;;) {
		struct msg m;
		int r = proto_read(p.sync_fd, &m);
		if (r == 0)
			_exit(1); /* the runtime went away before sending a plan */
		if (r < 0)
			die_errno("read plan");
		if (!strcmp(m.f[0], "end")) {
			msg_free(&m);
			break;
		}
		if (!strcmp(m.f[0], "front")) { /* front.c: not an op to run, a mode */
			front_begin(&p);
			msg_free(&m);
			continue;
		}
		op_check(&m); /* ops.c: a known op with its fields, or nothing is done */
		p.ops = realloc(p.ops, (p.nops + 1) * sizeof(*p.ops));
		if (!p.ops)
			die_errno("read plan");
		p.ops[p.nops++] = m;
	}
	run_parent(&p);
	return 0;
}
