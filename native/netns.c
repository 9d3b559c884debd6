/*
 * berth-helper netns add|del <path>: a network namespace that outlives its processes, as
 * `ip netns add` makes one (one-shot mode, PROTOCOL.md).
 *
 * The engine prepares a bridge-networked container's network namespace before the container
 * exists (the network backend puts the veth, address, routes in it), then the runtime joins it
 * by path. Node has no unshare(2) or mount(2), so this one step is native.
 *
 * add: <path> must not exist; it is created as an empty file, this process unshares a new network
 * namespace and bind-mounts /proc/self/ns/net on the file. The namespace lives as long as the
 * mount (or any process in it). On failure the file is removed again.
 * pin: bind-mounts this process's own network namespace on <path> (created if missing), as `ip
 * netns attach` does: the engine's namespace, for the detached monitor's cleanup to get back to.
 * del: lazily unmounts <path> (MNT_DETACH: a process still inside keeps the namespace alive,
 * as with `ip netns del`) and removes the file. A path that is not mounted is just removed; a
 * missing path is not an error (teardown runs again after a crash).
 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

int main_netns(const char *verb, const char *path)
{
	int pin = !strcmp(verb, "pin");
	if (!strcmp(verb, "add") || pin) {
		int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0444);
		if (fd < 0) {
			fprintf(stderr, "berth-helper: netns add %s: %s\n", path, strerror(errno));
			return 1;
		}
		close(fd);
		if ((!pin && unshare(CLONE_NEWNET) < 0) || mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0) {
			int e = errno;
			unlink(path);
			fprintf(stderr, "berth-helper: netns add %s: %s\n", path, strerror(e));
			return 1;
		}
		return 0;
	}
	if (!strcmp(verb, "del")) {
		if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT) {
			fprintf(stderr, "berth-helper: netns del %s: %s\n", path, strerror(errno));
			return 1;
		}
		if (unlink(path) < 0 && errno != ENOENT) {
			fprintf(stderr, "berth-helper: netns del %s: %s\n", path, strerror(errno));
			return 1;
		}
		return 0;
	}
	fprintf(stderr, "berth-helper: netns: unknown verb %s (use add, pin or del)\n", verb);
	return 2;
}
