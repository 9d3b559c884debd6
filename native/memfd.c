/*
 * CVE-2019-5736 defence and fd hygiene.
 *
 * A process inside the container can open /proc/<helper pid>/exe while the helper is running in
 * its namespaces; if that magic link pointed at the helper binary on the host, a root process in
 * the container could overwrite the host binary through it. So the helper runs from an anonymous,
 * sealed memfd copy of itself: writes to it fail with EPERM (F_SEAL_WRITE) and the copy vanishes
 * when the last process using it exits.
 */
#include "helper.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
#define REEXEC_ENV "_BERTH_HELPER_REEXEC"

extern char **environ;

/*
 * Re-execute from a sealed memfd unless /proc/self/exe already is one. The check reads the seals
 * of the running executable itself (seals live on the inode), so an environment variable cannot
 * be forged to skip the defence; the variable set before fexecve only stops a loop should the
 * check ever fail on the copy.
 */
void ensure_sealed_exe(char **argv)
{
	int again = getenv(REEXEC_ENV) != NULL;
	unsetenv(REEXEC_ENV);
	int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (exe < 0)
		die_errno("open /proc/self/exe");
	int seals = fcntl(exe, F_GET_SEALS);
	if (seals >= 0 && (seals & SEALS) == SEALS) {
		close(exe);
		return;
	}
	if (again)
		die("re-exec: /proc/self/exe is not a sealed memfd after re-executing from one");
	int mfd = memfd_create("berth-helper", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		die_errno("memfd_create");
	struct stat st;
	if (fstat(exe, &st) < 0)
		die_errno("stat /proc/self/exe");
	off_t left = st.st_size;
	while (left > 0) {
		ssize_t n = sendfile(mfd, exe, NULL, (size_t)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die_errno("copy /proc/self/exe to memfd");
		left -= n;
	}
	close(exe);
	if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0)
		die_errno("seal memfd");
	/* fexecve uses execveat(AT_EMPTY_PATH); MFD_CLOEXEC is fine for an ELF binary. */
	setenv(REEXEC_ENV, "1", 1);
	fexecve(mfd, argv, environ);
	die_errno("fexecve memfd");
}

static void cloexec_loop(int first, int keep)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		die_errno("open /proc/self/fd");
	int self = dirfd(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		int fd = atoi(e->d_name);
		if (fd < first || fd == keep || fd == self)
			continue;
		int fl = fcntl(fd, F_GETFD);
		if (fl >= 0)
			fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
	}
	closedir(d);
}

/*
 * Mark every fd >= first except keep close-on-exec, so nothing the runtime leaked reaches the
 * container. close_range(CLOSE_RANGE_CLOEXEC) (Linux 5.11) does it in one call; older kernels get
 * a walk over /proc/self/fd.
 */
void cloexec_from(int first, int keep)
{
	int ok = 0;
	if (keep >= first) {
		ok = (keep == first || syscall(SYS_close_range, first, keep - 1, CLOSE_RANGE_CLOEXEC) == 0) &&
		     syscall(SYS_close_range, keep + 1, ~0U, CLOSE_RANGE_CLOEXEC) == 0;
	} else {
		ok = syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) == 0;
	}
	if (!ok)
		cloexec_loop(first, keep);
}
