/*
 * The init dies with the helper that cloned it until the runtime has taken it over (issue 10).
 *
 * Between the clone and "go" the init belongs to nobody but its parent: the runtime does not know
 * its pid before "pid", and a parent killed right after the clone would leave it blocked for ever
 * in its read of "go" (it holds its own copy of the sync socket, so the runtime never sees end of
 * stream). So the child asks for SIGKILL when its parent dies (PR_SET_PDEATHSIG) until the
 * hand-over point, the receipt of "go": from there on the runtime knows the pid and its cgroup,
 * and the container must outlive a parent that exits normally (a cold `create`).
 *
 * PR_SET_PDEATHSIG only covers a parent that dies after the prctl. The usual check against the
 * race, getppid() != the parent, does not work in a new pid namespace (getppid() is 0 there), so
 * a socketpair made before the clone stands in: the parent keeps one end, the child the other.
 * A parent that died before the prctl has closed its end, and the child's end then polls POLLHUP
 * (unix_poll: the peer is gone). The same pair carries the child's word back at "go": one byte,
 * or EOF when the child died first. A parent that does not stay (non-monitor, non-front) waits for
 * it before it exits, otherwise its normal exit would be the death that kills the child.
 */
#include "helper.h"
#include <errno.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int g_ends[2] = { -1, -1 }; /* [0]: the parent's end, [1]: the child's */

/* Before the clone. Close-on-exec: no hook, monitor command or container process inherits them. */
void handover_before_clone(void)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, g_ends) < 0)
		die_errno("handover: socketpair");
}

/* In the child right after the clone: die with the parent, and make sure it was alive at the prctl. */
void handover_in_child(void)
{
	close(g_ends[0]); /* else our own copy would keep the parent's end open */
	g_ends[0] = -1;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		die_errno("handover: PR_SET_PDEATHSIG");
	struct pollfd pf = { .fd = g_ends[1], .events = POLLIN };
	if (poll(&pf, 1, 0) > 0 && (pf.revents & (POLLHUP | POLLERR)))
		_exit(1); /* the parent died before the prctl took effect: nobody will ever send "go" */
}

/*
 * In the child on "go": the runtime has the pid, the container now outlives its parent. (A uid
 * change, commit_creds, would clear the death signal later anyway; this makes it explicit and
 * early.) A write that fails means the parent is gone already: nothing to tell.
 */
void handover_done(void)
{
	if (g_ends[1] < 0)
		return;
	if (prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) < 0)
		die_errno("handover: clear PR_SET_PDEATHSIG");
	ssize_t r;
	do
		r = send(g_ends[1], "g", 1, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	close(g_ends[1]);
	g_ends[1] = -1;
}

/* In the parent after the clone: the child's end is the child's alone. */
void handover_in_parent(void)
{
	close(g_ends[1]);
	g_ends[1] = -1;
}

/*
 * In a parent about to exit while the child may still wait for "go": block until the child took
 * the hand-over (a byte) or died (EOF). The runtime sends "go" or gives up (then it kills the
 * init, or ends the stream and the child leaves on EOF), so this ends; a runtime that itself dies
 * closes the sync socket with the same effect.
 */
void handover_wait(void)
{
	if (g_ends[0] < 0)
		return;
	char c;
	ssize_t r;
	do
		r = read(g_ends[0], &c, 1);
	while (r < 0 && errno == EINTR);
	close(g_ends[0]);
	g_ends[0] = -1;
}
