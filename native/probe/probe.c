/*
 * berth-probe: a static program placed inside test containers to check limits and settings
 * from the inside (crun's tests/init.c and youki's runtimetest do the same).
 *
 * Usage: probe <subcommand> [args...]; see the table at the bottom of this file.
 *
 * Output is for machines: one record per line, `key=value` pairs separated by single spaces.
 * A value that may contain spaces (a path, an fd target) is always the last pair on its line and
 * runs to the end of the line. `open` and `syscall` print the single token `ok` or an errno name
 * (`EACCES`); `cgroup`, `mountinfo` and `env` print the kernel's text unchanged.
 * stdout is line buffered, so progress lines reach a pipe even if the process is killed later
 * (memhog under a memory limit is expected to die by SIGKILL part way).
 *
 * Exit status: 0 when the probe reported (a refused open still exits 0), 2 for a usage error,
 * 3 for an unexpected failure (message on stderr); `exit` and `kill-self` are the exceptions.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024L * 1024L)

static int usage_error(const char *what) {
    fprintf(stderr, "probe: %s\n", what);
    return 2;
}

static int fail(const char *what) {
    fprintf(stderr, "probe: %s: %s\n", what, strerror(errno));
    return 3;
}

/* strerrorname_np (glibc >= 2.32) gives "EACCES"; fall back to the number elsewhere. */
static const char *errname(int err) {
    static char buf[16];
    const char *name = err ? strerrorname_np(err) : "ok";
    if (name) return name;
    snprintf(buf, sizeof buf, "E%d", err);
    return buf;
}

static long parse_long(const char *s, long min, long max, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) return -1;
    *out = v;
    return 0;
}

static double now(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_seconds(double s) {
    struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

static int cat(const char *path) {
    char buf[8192];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(path);
    while ((n = read(fd, buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)n, stdout);
    close(fd);
    return n < 0 ? fail(path) : 0;
}

/* memhog <MiB> [hold-seconds]: touch every page so the memory is charged to the cgroup (an
 * untouched malloc is only address space). Prints `mib=<n>` after each MiB, `memhog=done`. */
static int cmd_memhog(int argc, char **argv) {
    long mib, hold = 0;
    if (argc < 1 || parse_long(argv[0], 0, 1L << 30, &mib) || (argc > 1 && parse_long(argv[1], 0, 1L << 30, &hold)))
        return usage_error("usage: memhog <MiB> [hold-seconds]");
    long page = sysconf(_SC_PAGESIZE);
    for (long i = 0; i < mib; i++) {
        /* one mapping per MiB: no single huge allocation that could fail up front */
        char *p = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            printf("memhog=failed mib=%ld errno=%s\n", i, errname(errno));
            return 0;
        }
        for (long off = 0; off < MIB; off += page) p[off] = (char)(off | 1);
        printf("mib=%ld\n", i + 1);
    }
    printf("memhog=done mib=%ld\n", mib);
    if (hold) sleep_seconds((double)hold);
    return 0;
}

/* forkbomb <n> [hold-seconds]: children pause until the parent exits. PR_SET_PDEATHSIG kills a
 * child when its parent thread dies; the getppid check closes the race where the parent died
 * before prctl ran. Prints `forked=<k> errno=<first error or ok>`. */
static int cmd_forkbomb(int argc, char **argv) {
    long n, hold = 0, forked = 0;
    int first_err = 0;
    if (argc < 1 || parse_long(argv[0], 0, 1000000, &n) || (argc > 1 && parse_long(argv[1], 0, 1L << 30, &hold)))
        return usage_error("usage: forkbomb <n> [hold-seconds]");
    pid_t parent = getpid();
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) _exit(0);
            for (;;) pause();
        }
        if (pid < 0) {
            if (!first_err) first_err = errno;
            continue;
        }
        forked++;
    }
    printf("forked=%ld errno=%s\n", forked, errname(first_err));
    if (hold) sleep_seconds((double)hold);
    return 0;
}

/* busy <seconds>: spin for that wall time; under a CPU quota cpu_ms ends up below wall_ms. */
static int cmd_busy(int argc, char **argv) {
    double secs;
    char *end;
    if (argc < 1 || (secs = strtod(argv[0], &end)) < 0 || *end || end == argv[0])
        return usage_error("usage: busy <seconds>");
    double start = now(CLOCK_MONOTONIC), cpu0 = now(CLOCK_PROCESS_CPUTIME_ID);
    volatile uint64_t x = 0;
    while (now(CLOCK_MONOTONIC) - start < secs)
        for (int i = 0; i < 10000; i++) x += (uint64_t)i;
    double wall = now(CLOCK_MONOTONIC) - start, cpu = now(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("wall_ms=%.0f cpu_ms=%.0f user_ms=%ld sys_ms=%ld\n", wall * 1e3, cpu * 1e3,
           ru.ru_utime.tv_sec * 1000 + ru.ru_utime.tv_usec / 1000, ru.ru_stime.tv_sec * 1000 + ru.ru_stime.tv_usec / 1000);
    return 0;
}

static int cmd_isatty(int argc, char **argv) {
    (void)argc, (void)argv;
    printf("fd0=%d fd1=%d fd2=%d\n", isatty(0), isatty(1), isatty(2));
    return 0;
}

/* caps: the kernel's own view, as hex masks (decode in TypeScript, where the names live). */
static int cmd_caps(int argc, char **argv) {
    (void)argc, (void)argv;
    static const char *keys[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "Seccomp_filters" };
    char line[512];
    FILE *f = fopen("/proc/self/status", "re");
    if (!f) return fail("/proc/self/status");
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!colon) continue;
        *colon = 0;
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            if (strcmp(line, keys[i])) continue;
            char *v = colon + 1;
            v += strspn(v, " \t");
            printf("%s=%s", line, v); /* v keeps its newline */
        }
    }
    fclose(f);
    return 0;
}

static int cmd_ids(int argc, char **argv) {
    (void)argc, (void)argv;
    gid_t groups[1024];
    int n = getgroups(1024, groups);
    if (n < 0) return fail("getgroups");
    printf("uid=%u gid=%u euid=%u egid=%u groups=", getuid(), getgid(), geteuid(), getegid());
    for (int i = 0; i < n; i++) printf(i ? ",%u" : "%u", groups[i]);
    printf("\n");
    return 0;
}

static int cmd_fds(int argc, char **argv) {
    (void)argc, (void)argv;
    DIR *d = opendir("/proc/self/fd");
    if (!d) return fail("/proc/self/fd");
    struct dirent *e;
    char path[300], target[4096];
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d)) continue;
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(path, target, sizeof target - 1);
        target[n < 0 ? 0 : n] = 0;
        printf("fd=%s target=%s\n", e->d_name, target);
    }
    closedir(d);
    return 0;
}

static int cmd_rlimits(int argc, char **argv) {
    (void)argc, (void)argv;
#define R(x) { RLIMIT_##x, "RLIMIT_" #x }
    static const struct { int res; const char *name; } table[] = {
        R(CPU), R(FSIZE), R(DATA), R(STACK), R(CORE), R(RSS), R(NPROC), R(NOFILE),
        R(MEMLOCK), R(AS), R(LOCKS), R(SIGPENDING), R(MSGQUEUE), R(NICE), R(RTPRIO), R(RTTIME),
    };
#undef R
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        struct rlimit rl;
        if (getrlimit(table[i].res, &rl) < 0) return fail(table[i].name);
        char soft[24] = "unlimited", hard[24] = "unlimited";
        if (rl.rlim_cur != RLIM_INFINITY) snprintf(soft, sizeof soft, "%llu", (unsigned long long)rl.rlim_cur);
        if (rl.rlim_max != RLIM_INFINITY) snprintf(hard, sizeof hard, "%llu", (unsigned long long)rl.rlim_max);
        printf("rlimit=%s soft=%s hard=%s\n", table[i].name, soft, hard);
    }
    return 0;
}

static int cmd_open(int argc, char **argv) {
    if (argc < 2 || (strcmp(argv[1], "r") && strcmp(argv[1], "w"))) return usage_error("usage: open <path> <r|w>");
    int fd = open(argv[0], (argv[1][0] == 'w' ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
    printf("%s\n", errname(fd < 0 ? errno : 0));
    if (fd >= 0) close(fd);
    return 0;
}

/* write <path> <MiB>: O_DIRECT bypasses the page cache so a blkio/io throttle applies to the
 * writes themselves; tmpfs and overlay refuse O_DIRECT (EINVAL), then we write buffered + fsync. */
static int cmd_write(int argc, char **argv) {
    long mib;
    if (argc < 2 || parse_long(argv[1], 0, 1L << 30, &mib)) return usage_error("usage: write <path> <MiB>");
    int direct = 1, flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
    int fd = open(argv[0], flags | O_DIRECT, 0644);
    if (fd < 0 && errno == EINVAL) direct = 0, fd = open(argv[0], flags, 0644);
    if (fd < 0) {
        printf("write=failed errno=%s\n", errname(errno));
        return 0;
    }
    void *buf;
    if (posix_memalign(&buf, 4096, MIB)) return fail("posix_memalign");
    memset(buf, 0x5a, MIB);
    double start = now(CLOCK_MONOTONIC);
    long long bytes = 0;
    for (long i = 0; i < mib; i++) {
        ssize_t n = write(fd, buf, MIB);
        if (n < 0) {
            printf("write=failed bytes=%lld errno=%s\n", bytes, errname(errno));
            close(fd);
            return 0;
        }
        bytes += n;
    }
    if (fsync(fd) < 0 && errno != EINVAL) return fail("fsync");
    close(fd);
    double secs = now(CLOCK_MONOTONIC) - start;
    printf("bytes=%lld seconds=%.3f bytes_per_sec=%.0f direct=%d\n", bytes, secs, secs > 0 ? (double)bytes / secs : 0.0, direct);
    free(buf);
    return 0;
}

static int cmd_sleep(int argc, char **argv) {
    char *end;
    double s;
    if (argc < 1 || (s = strtod(argv[0], &end)) < 0 || *end || end == argv[0]) return usage_error("usage: sleep <seconds>");
    sleep_seconds(s);
    return 0;
}

static int cmd_exit(int argc, char **argv) {
    long code;
    if (argc < 1 || parse_long(argv[0], 0, 255, &code)) return usage_error("usage: exit <0-255>");
    fflush(stdout);
    _exit((int)code);
}

/* kill-self <sig>: number or name (KILL, SIGKILL). The kernel drops signals with the default
 * action that a pid namespace's init sends itself (SIGNAL_UNKILLABLE), so as PID 1 only a real
 * fault kills: for SEGV, ILL, FPE and TRAP we cause one. Otherwise prints `kill-self=ignored`. */
static int cmd_kill_self(int argc, char **argv) {
    long sig;
    if (argc < 1) return usage_error("usage: kill-self <signal>");
    if (parse_long(argv[0], 1, 64, &sig)) {
        const char *name = strncmp(argv[0], "SIG", 3) ? argv[0] : argv[0] + 3;
        sig = 0;
        for (int s = 1; s < NSIG && !sig; s++)
            if (sigabbrev_np(s) && !strcmp(sigabbrev_np(s), name)) sig = s;
        if (!sig) return usage_error("kill-self: unknown signal");
    }
    fflush(stdout);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, (int)sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    signal((int)sig, SIG_DFL);
    kill(getpid(), (int)sig);
    volatile uintptr_t nowhere = 0; /* volatile: the compiler cannot see the faults coming */
    volatile int zero = 0, seven = 7;
    if (sig == SIGSEGV) *(volatile int *)nowhere = 1;
    if (sig == SIGILL) __builtin_trap();
    if (sig == SIGFPE) sig = seven / zero;
#if defined(__x86_64__) || defined(__i386__)
    if (sig == SIGTRAP) __asm__ volatile("int3");
#endif
    printf("kill-self=ignored sig=%ld pid=%d\n", sig, getpid());
    return 3;
}

static int cmd_hostname(int argc, char **argv) {
    (void)argc, (void)argv;
    struct utsname u;
    if (uname(&u) < 0) return fail("uname");
    printf("hostname=%s domainname=%s\n", u.nodename, u.domainname);
    return 0;
}

static int cmd_pid(int argc, char **argv) {
    (void)argc, (void)argv;
    printf("pid=%d ppid=%d\n", getpid(), getppid());
    return 0;
}

extern char **environ;
static int cmd_env(int argc, char **argv) {
    (void)argc, (void)argv;
    for (char **e = environ; *e; e++) printf("%s\n", *e);
    return 0;
}

static int cmd_cwd(int argc, char **argv) {
    (void)argc, (void)argv;
    char buf[4096];
    if (!getcwd(buf, sizeof buf)) return fail("getcwd");
    printf("cwd=%s\n", buf);
    return 0;
}

static int cmd_umask(int argc, char **argv) {
    (void)argc, (void)argv;
    mode_t m = umask(0);
    umask(m);
    printf("umask=%04o\n", (unsigned)m);
    return 0;
}

/* syscall <name> <path>: the raw syscall (not the libc wrapper, which may pick mkdirat), so a
 * seccomp rule on that exact syscall is what gets exercised. Prints `ok` or the errno name. */
static int cmd_syscall(int argc, char **argv) {
    if (argc < 2) return usage_error("usage: syscall <mkdir|mkdirat|rmdir> <path>");
    long r;
    if (!strcmp(argv[0], "mkdir")) r = syscall(SYS_mkdir, argv[1], 0755);
    else if (!strcmp(argv[0], "mkdirat")) r = syscall(SYS_mkdirat, AT_FDCWD, argv[1], 0755);
    else if (!strcmp(argv[0], "rmdir")) r = syscall(SYS_rmdir, argv[1]);
    else return usage_error("syscall: unknown syscall (mkdir, mkdirat, rmdir)");
    printf("%s\n", errname(r < 0 ? errno : 0));
    return 0;
}

/* argv: what the process was exec'd with, as the kernel recorded it (runtimetest compares
 * /proc/self/cmdline with process.args). Prints `argc=<n>`, then `arg=<value>` per argument. */
static int cmd_argv(int argc, char **argv) {
    (void)argc, (void)argv;
    char buf[8192];
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail("/proc/self/cmdline");
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0) return fail("/proc/self/cmdline");
    int count = 0;
    for (ssize_t i = 0; i < n; i++) count += buf[i] == 0;
    printf("argc=%d\n", count);
    for (char *a = buf; a < buf + n; a += strlen(a) + 1) printf("arg=%s\n", a);
    return 0;
}

/* stat <path>...: lstat each path. Prints `type=<c|b|p|d|f|l|s> mode=<perm octal> uid= gid=
 * major= minor= [target=<link>] path=<path>`, or `type=missing errno=<name> path=<path>`. The
 * rdev split is the kernel's new_decode_dev (12-bit major, 20-bit minor), i.e. major()/minor(). */
static int cmd_stat(int argc, char **argv) {
    if (argc < 1) return usage_error("usage: stat <path>...");
    for (int i = 0; i < argc; i++) {
        struct stat st;
        if (lstat(argv[i], &st) < 0) {
            printf("type=missing errno=%s path=%s\n", errname(errno), argv[i]);
            continue;
        }
        const char *type = S_ISCHR(st.st_mode) ? "c" : S_ISBLK(st.st_mode) ? "b" : S_ISFIFO(st.st_mode) ? "p"
            : S_ISDIR(st.st_mode) ? "d" : S_ISLNK(st.st_mode) ? "l" : S_ISSOCK(st.st_mode) ? "s" : "f";
        printf("type=%s mode=%04o uid=%u gid=%u major=%u minor=%u", type, (unsigned)(st.st_mode & 07777),
               st.st_uid, st.st_gid, major(st.st_rdev), minor(st.st_rdev));
        if (S_ISLNK(st.st_mode)) {
            char target[4096];
            ssize_t n = readlink(argv[i], target, sizeof target - 1);
            target[n < 0 ? 0 : n] = 0;
            printf(" target=%s", target);
        }
        printf(" path=%s\n", argv[i]);
    }
    return 0;
}

/* read <path>: open and read one byte (runtimetest's maskedPaths check: a masked file reads as
 * empty). Prints `eof`, `data`, or the errno name of the failing open or read. */
static int cmd_read(int argc, char **argv) {
    if (argc < 1) return usage_error("usage: read <path>");
    char c;
    int fd = open(argv[0], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        printf("%s\n", errname(errno));
        return 0;
    }
    ssize_t n = read(fd, &c, 1);
    printf("%s\n", n < 0 ? errname(errno) : n == 0 ? "eof" : "data");
    close(fd);
    return 0;
}

/* create <dir>: create and remove a new file in dir (runtimetest's write-access check for a
 * read-only root and readonlyPaths). Prints `ok` or the errno name (EROFS for a read-only mount). */
static int cmd_create(int argc, char **argv) {
    if (argc < 1) return usage_error("usage: create <dir>");
    char path[4096];
    snprintf(path, sizeof path, "%s/.probe-%d", argv[0], getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    printf("%s\n", errname(fd < 0 ? errno : 0));
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
    return 0;
}

/* keyring: the id of the session keyring (KEYCTL_GET_KEYRING_ID of KEY_SPEC_SESSION_KEYRING,
 * without creating one) and its description, from /proc/keys' point of view: `keyring=<id>`. */
static int cmd_keyring(int argc, char **argv) {
    (void)argc, (void)argv;
    long id = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* KEY_SPEC_SESSION_KEYRING */, 0);
    if (id < 0) { printf("keyring=%s\n", errname(errno)); return 0; }
    char desc[256] = "";
    long n = syscall(SYS_keyctl, 6 /* KEYCTL_DESCRIBE */, id, desc, sizeof desc - 1);
    if (n < 0) snprintf(desc, sizeof desc, "%s", errname(errno));
    /* "type;uid;gid;perm;description" */
    const char *name = strrchr(desc, ';');
    printf("keyring=%ld name=%s\n", id, name ? name + 1 : desc);
    return 0;
}

/* winsize: the terminal size of fd 0 (`rows= cols=`, or `winsize=<errno>`). */
static int cmd_winsize(int argc, char **argv) {
    (void)argc, (void)argv;
    struct winsize ws;
    if (ioctl(0, TIOCGWINSZ, &ws) < 0) { printf("winsize=%s\n", errname(errno)); return 0; }
    printf("rows=%u cols=%u\n", ws.ws_row, ws.ws_col);
    return 0;
}

/* sched: personality, I/O priority, scheduling policy, nice and allowed CPUs of this process. */
static int cmd_sched(int argc, char **argv) {
    (void)argc, (void)argv;
    int pers = personality(0xffffffff);
    long io = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, 0);
    cpu_set_t set;
    CPU_ZERO(&set);
    sched_getaffinity(0, sizeof set, &set);
    printf("personality=0x%x ioprio_class=%ld ioprio_level=%ld policy=%d nice=%d cpus=", pers,
           io < 0 ? -1 : io >> 13, io < 0 ? -1 : io & 0x1fff, sched_getscheduler(0), nice);
    for (int i = 0, first = 1; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &set)) { printf(first ? "%d" : ",%d", i); first = 0; }
    printf("\n");
    return 0;
}

static int cmd_cgroup(int argc, char **argv) { (void)argc, (void)argv; return cat("/proc/self/cgroup"); }
static int cmd_mountinfo(int argc, char **argv) { (void)argc, (void)argv; return cat("/proc/self/mountinfo"); }

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} commands[] = {
    { "memhog", cmd_memhog, "<MiB> [hold-s]  allocate and touch, print mib=<n> per MiB" },
    { "forkbomb", cmd_forkbomb, "<n> [hold-s]  fork n sleeping children, print forked= errno=" },
    { "busy", cmd_busy, "<s>  spin, print wall_ms= cpu_ms= user_ms= sys_ms=" },
    { "isatty", cmd_isatty, "print fd0= fd1= fd2=" },
    { "caps", cmd_caps, "print CapInh/Prm/Eff/Bnd/Amb, NoNewPrivs, Seccomp" },
    { "ids", cmd_ids, "print uid= gid= euid= egid= groups=" },
    { "fds", cmd_fds, "print fd=<n> target=<link> per open fd" },
    { "rlimits", cmd_rlimits, "print rlimit=<name> soft= hard= per resource" },
    { "open", cmd_open, "<path> <r|w>  print ok or errno name" },
    { "write", cmd_write, "<path> <MiB>  print bytes= seconds= bytes_per_sec= direct=" },
    { "sleep", cmd_sleep, "<s>  sleep" },
    { "exit", cmd_exit, "<code>  exit with code" },
    { "kill-self", cmd_kill_self, "<sig>  die by signal" },
    { "cgroup", cmd_cgroup, "print /proc/self/cgroup" },
    { "mountinfo", cmd_mountinfo, "print /proc/self/mountinfo" },
    { "hostname", cmd_hostname, "print hostname= domainname=" },
    { "pid", cmd_pid, "print pid= ppid=" },
    { "env", cmd_env, "print the environment" },
    { "cwd", cmd_cwd, "print cwd=" },
    { "umask", cmd_umask, "print umask=" },
    { "syscall", cmd_syscall, "<mkdir|mkdirat|rmdir> <path>  print ok or errno name" },
    { "argv", cmd_argv, "print argc=, then arg=<value> per argument" },
    { "stat", cmd_stat, "<path>...  print type= mode= uid= gid= major= minor= [target=] path=" },
    { "read", cmd_read, "<path>  read one byte, print eof, data or errno name" },
    { "create", cmd_create, "<dir>  create and remove a file in dir, print ok or errno name" },
    { "keyring", cmd_keyring, "print keyring=<session keyring id> name=<its description>" },
    { "winsize", cmd_winsize, "print rows= cols= of fd 0" },
    { "sched", cmd_sched, "print personality= ioprio_class= ioprio_level= policy= nice= cpus=" },
};

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 2) {
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 2, argv + 2);
    }
    fprintf(stderr, "usage: probe <subcommand> [args]\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(stderr, "  %-10s %s\n", commands[i].name, commands[i].help);
    return 2;
}
