/*
 * cgroup v2 device control: load a BPF_PROG_TYPE_CGROUP_DEVICE program and attach it to a cgroup
 * directory. cgroup v2 has no devices.allow; the kernel runs every program attached to the
 * cgroup (and its ancestors) on each open/mknod of a device node and denies the access when one
 * returns 0. The program itself is generated in TypeScript (src/cgroups/devices-bpf.ts).
 *
 * Replacing a program Berth attached before (update): attach the new one first, then detach the
 * old ones, so there is never a moment without a filter. That needs BPF_F_ALLOW_MULTI, which lets
 * several programs sit on one cgroup (all must allow). A program attached without it by someone
 * else makes the kernel refuse a second one; then, and only then, the old one goes first.
 */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_PROGS 64 /* the kernel's limit of programs per cgroup and attach type */

static int sys_bpf(int cmd, union bpf_attr *a)
{
	return (int)syscall(SYS_bpf, cmd, a, sizeof(*a));
}

static char verifier_log[16384];

static int load(const void *insns, size_t len)
{
	if (len == 0 || len % sizeof(struct bpf_insn) || len / sizeof(struct bpf_insn) > 1000000)
		die("bpf-devices: program of %zu bytes is not a whole number of 8-byte instructions", len);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.expected_attach_type = BPF_CGROUP_DEVICE;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = (uint32_t)(len / sizeof(struct bpf_insn));
	a.license = (uint64_t)(uintptr_t)"Apache";
	int fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0)
		return fd;
	/* Load again with the verifier's log only on failure: logging slows every load down. */
	int err = errno;
	a.log_buf = (uint64_t)(uintptr_t)verifier_log;
	a.log_size = sizeof(verifier_log);
	a.log_level = 1;
	verifier_log[0] = 0;
	if (sys_bpf(BPF_PROG_LOAD, &a) < 0 && verifier_log[0]) {
		/* The reason is the last line before the statistics ("processed N insns ..."). */
		char *why = NULL;
		for (char *line = strtok(verifier_log, "\n"); line; line = strtok(NULL, "\n"))
			if (strncmp(line, "processed ", 10) && strncmp(line, "verification time", 17))
				why = line;
		if (why)
			die("bpf-devices: load program of %u instructions: %s (verifier: %s)", a.insn_cnt, strerror(err), why);
	}
	errno = err;
	die_errno("bpf-devices: load program of %u instructions", a.insn_cnt);
}

/* Ids of the device programs attached directly to this cgroup (not inherited), and their flags. */
static uint32_t query(int dirfd, const char *dir, uint32_t *ids, uint32_t *flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)dirfd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uint64_t)(uintptr_t)ids;
	a.query.prog_cnt = MAX_PROGS;
	if (sys_bpf(BPF_PROG_QUERY, &a) < 0)
		die_errno("bpf-devices: query programs of %s", dir);
	*flags = a.query.attach_flags;
	return a.query.prog_cnt;
}

static int attach_op(int cmd, int dirfd, int progfd, uint32_t flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)dirfd;
	a.attach_bpf_fd = (uint32_t)progfd;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = flags;
	return sys_bpf(cmd, &a);
}

/* Detach the programs with these ids (a program detached meanwhile is not an error). */
static void detach_ids(int dirfd, const char *dir, const uint32_t *ids, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.prog_id = ids[i];
		int fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			die_errno("bpf-devices: get program %u of %s", ids[i], dir);
		}
		if (attach_op(BPF_PROG_DETACH, dirfd, fd, 0) < 0 && errno != ENOENT)
			die_errno("bpf-devices: detach program %u from %s", ids[i], dir);
		close(fd);
	}
}

void bpf_devices(const char *dir, const void *insns, size_t len)
{
	int progfd = load(insns, len);
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		die_errno("bpf-devices: open %s", dir);
	uint32_t ids[MAX_PROGS], flags = 0;
	uint32_t n = query(dirfd, dir, ids, &flags);
	if (n > 0 && !(flags & BPF_F_ALLOW_MULTI)) {
		/* An exclusive program (not ours: Berth always attaches with ALLOW_MULTI) blocks a second. */
		detach_ids(dirfd, dir, ids, n);
		n = 0;
	}
	if (attach_op(BPF_PROG_ATTACH, dirfd, progfd, BPF_F_ALLOW_MULTI) < 0)
		die_errno("bpf-devices: attach program to %s", dir);
	detach_ids(dirfd, dir, ids, n);
	/* The attachment holds its own reference: the program stays after we close ours. */
	close(progfd);
	close(dirfd);
}

void op_bpf_devices(struct plan *p, struct msg *m)
{
	bpf_devices(m->f[1], m->f[2], m->len[2]);
}

/* `berth-helper bpf-devices <dir>`: the program on stdin (for `update` of a running container). */
int main_bpf_devices(const char *dir)
{
	static unsigned char buf[8 << 20];
	size_t len = 0;
	for (;;) {
		ssize_t r = read(0, buf + len, sizeof(buf) - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die_errno("bpf-devices: read program from stdin");
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == sizeof(buf))
			die("bpf-devices: program on stdin is larger than %zu bytes", sizeof(buf));
	}
	bpf_devices(dir, buf, len);
	return 0;
}
