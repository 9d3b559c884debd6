/*
 * `berth-helper oom-watch <memory cgroup dir>`: cgroup v1 OOM notifications.
 *
 * The v1 memory controller signals an eventfd registered by writing "<eventfd> <fd of
 * memory.oom_control>" to cgroup.event_control; it is signalled each time the cgroup runs out of
 * memory (whether or not the OOM killer then kills) and once more when the cgroup is removed
 * (cgroup_event_remove). Node cannot create an eventfd, hence this mode. Output: one line "oom"
 * per event on stdout; exit 0 when the cgroup is gone.
 */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* The removal signal and an OOM can arrive together in one counter value; the file tells them apart. */
static int cgroup_exists(const char *file)
{
	struct stat st;
	return stat(file, &st) == 0;
}

int main_oom_watch(const char *dir)
{
	/* The watcher belongs to the runtime that started it: end with it, even if it crashed. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	signal(SIGPIPE, SIG_IGN);
	char ctl[PATH_MAX], ev[PATH_MAX], line[64];
	snprintf(ctl, sizeof(ctl), "%s/memory.oom_control", dir);
	snprintf(ev, sizeof(ev), "%s/cgroup.event_control", dir);
	int efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0)
		die_errno("oom-watch: eventfd");
	int cfd = open(ctl, O_RDONLY | O_CLOEXEC);
	if (cfd < 0)
		die_errno("oom-watch: open %s", ctl);
	int wfd = open(ev, O_WRONLY | O_CLOEXEC);
	if (wfd < 0)
		die_errno("oom-watch: open %s", ev);
	int n = snprintf(line, sizeof(line), "%d %d", efd, cfd);
	if (write(wfd, line, (size_t)n) != n)
		die_errno("oom-watch: register eventfd in %s", ev);
	close(wfd);
	/* Tell the reader the registration is in place, so an OOM after this line is not missed. */
	if (write(1, "ready\n", 6) != 6)
		return 0;
	for (;;) {
		uint64_t count;
		ssize_t r = read(efd, &count, sizeof(count));
		if (r < 0 && errno == EINTR)
			continue;
		if (r != sizeof(count))
			die_errno("oom-watch: read eventfd");
		int gone = !cgroup_exists(ctl);
		if (gone)
			count--; /* one of the signals was the removal */
		for (uint64_t i = 0; i < count; i++)
			if (write(1, "oom\n", 4) != 4)
				return 0; /* nobody reads any more */
		if (gone)
			return 0;
	}
}
