/*
 * Process attributes that are one system call each but need a little marshalling: the session
 * keyring, the execution domain (personality), the I/O priority, the scheduling policy, and CPU
 * affinity. All are inherited across execve, so setting them in the helper's child before the
 * exec is how they reach the container's process.
 */
#include "helper.h"
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KEYCTL_JOIN_SESSION_KEYRING 1
#define KEYCTL_SETPERM 5
#define IOPRIO_WHO_PROCESS 1

/*
 * `keyring` <name>: join a new session keyring of that name. Without it the container would share
 * the runtime's session keyring (and every key in it) with the host. ENOSYS (a kernel without
 * keys) is not an error, as in runc. The new keyring is created with the caller's credentials;
 * it is set to "possessor: all, user: view|read|search|link" (runc's permission) so the
 * process still holds it fully after the switch to process.user.
 */
void op_keyring(struct plan *p, struct msg *m)
{
	long id = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, m->f[1], 0, 0, 0);
	if (id < 0) {
		if (errno == ENOSYS)
			return;
		die_errno("keyring: join session keyring %s", m->f[1]);
	}
	if (syscall(SYS_keyctl, KEYCTL_SETPERM, id, 0x3f1b0000UL, 0, 0) < 0 && errno != ENOSYS)
		die_errno("keyring: set permissions of session keyring %s", m->f[1]);
}

/* `personality` <persona (decimal: domain | flags)>: personality(2). */
void op_personality(struct plan *p, struct msg *m)
{
	unsigned long persona = (unsigned long)parse_num("personality", m->f[1], 10);
	if (personality(persona) < 0)
		die_errno("personality %s", m->f[1]);
}

/* `ioprio` <class> <level>: ioprio_set(IOPRIO_WHO_PROCESS, 0, class << 13 | level). */
void op_ioprio(struct plan *p, struct msg *m)
{
	long cls = (long)parse_num("ioprio", m->f[1], 10);
	long lvl = (long)parse_num("ioprio", m->f[2], 10);
	if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, (int)(cls << 13 | lvl)) < 0)
		die_errno("ioprio class %s level %s", m->f[1], m->f[2]);
}

/* The kernel's struct sched_attr (SCHED_ATTR_SIZE_VER0, 48 bytes); glibc has no wrapper. */
struct sched_attr0 {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
};

static uint64_t parse_u64(const char *op, const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-')
		die("%s: invalid number %s", op, s);
	return v;
}

/* `sched` <policy> <flags> <nice> <priority> <runtime> <deadline> <period>: sched_setattr(2). */
void op_sched(struct plan *p, struct msg *m)
{
	struct sched_attr0 a = {
		.size = sizeof(a),
		.sched_policy = (uint32_t)parse_num("sched", m->f[1], 10),
		.sched_flags = parse_u64("sched", m->f[2]),
		.sched_nice = (int32_t)parse_num("sched", m->f[3], 10),
		.sched_priority = (uint32_t)parse_num("sched", m->f[4], 10),
		.sched_runtime = parse_u64("sched", m->f[5]),
		.sched_deadline = parse_u64("sched", m->f[6]),
		.sched_period = parse_u64("sched", m->f[7]),
	};
	if (syscall(SYS_sched_setattr, 0, &a, 0) < 0) {
		/* With CONFIG_RT_GROUP_SCHED a cgroup v1 cpu group has no realtime budget by default. */
		if (errno == EPERM && (a.sched_policy == 1 || a.sched_policy == 2))
			die_errno("sched policy %s priority %s (a realtime policy needs a cpu.rt_runtime_us budget: "
				  "linux.resources.cpu.realtimeRuntime)", m->f[1], m->f[4]);
		die_errno("sched policy %s flags %s nice %s priority %s", m->f[1], m->f[2], m->f[3], m->f[4]);
	}
}

/*
 * `affinity` <cpus (comma separated numbers)>: sched_setaffinity(2) of this process. Used on
 * both sides of an exec: before the clone for execCPUAffinity.initial (the child inherits it),
 * and in the child after it was placed in its cgroup for execCPUAffinity.final (joining a v1
 * cpuset resets the affinity to the cpuset's CPUs, so final must come after that).
 */
void op_affinity(struct plan *p, struct msg *m)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	char *list = strdup(m->f[1]), *save = NULL;
	if (!list)
		die_errno("affinity");
	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		long long cpu = parse_num("affinity", tok, 10);
		if (cpu < 0 || cpu >= CPU_SETSIZE)
			die("affinity: cpu %s out of range", tok);
		CPU_SET((int)cpu, &set);
	}
	free(list);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		die_errno("affinity %s", m->f[1]);
}
