/**
 * Docker's default seccomp profile (moby profiles/seccomp/default.json) as an OCI LinuxSeccomp,
 * for `berth run`. Default action: fail with EPERM. A base list of syscalls is always allowed;
 * other groups are allowed only when the container holds a capability, or only on some
 * architectures, exactly as Docker decides when it builds a container's spec:
 *   - `caps`: included only if the container's (bounding) set holds every listed capability;
 *   - `notCaps`: left out if the container holds any listed capability;
 *   - `arches` / `notArches`: included only on / left out on these architectures (Go GOARCH
 *     names, as Docker uses).
 * Docker also gates ptrace & co. on kernel ≥ 4.8 (before 4.8 ptrace could bypass seccomp);
 * Berth needs a newer kernel anyway, so that group is always in.
 */
import type { LinuxSeccomp, LinuxSyscall } from './profile.js';

/** Syscalls allowed in every container. */
const BASE = `
accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32 clock_adjtime
clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep
clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2 dup3 epoll_create
epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd
eventfd2 execve execveat exit exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate
fanotify_mark fchdir fchmod fchmodat fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr
flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync
ftruncate ftruncate64 futex futex_time64 futex_waitv futimesat getcpu getcwd getdents getdents64
getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer getpeername
getpgid getpgrp getpid getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32
getrlimit get_robust_list getrusage getsid getsockname getsockopt get_thread_area gettid
gettimeofday getuid getuid32 getxattr inotify_add_watch inotify_init inotify_init1 inotify_rm_watch
io_cancel ioctl io_destroy io_getevents io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set
io_setup io_submit io_uring_enter io_uring_register io_uring_setup ipc kill landlock_add_rule
landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link linkat listen
listxattr llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64 madvise membarrier
memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2
mprotect mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend
mq_timedsend_time64 mq_unlink mremap msgctl msgget msgrcv msgsnd msync munlock munlockall munmap
name_to_handle_at nanosleep newfstatat _newselect open openat openat2 pause pidfd_open
pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl
pread64 preadv preadv2 prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64 pwritev
pwritev2 read readahead readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg
remap_file_pages removexattr rename renameat renameat2 restart_syscall rmdir rseq rt_sigaction
rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait
rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam
sched_get_priority_max sched_get_priority_min sched_getscheduler sched_rr_get_interval
sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam sched_setscheduler
sched_yield seccomp select semctl semget semop semtimedop semtimedop_time64 send sendfile
sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32
setgroups setgroups32 setitimer setpgid setpriority setregid setregid32 setresgid setresgid32
setresuid setresuid32 setreuid setreuid32 setrlimit set_robust_list setsid setsockopt
set_thread_area set_tid_address setuid setuid32 setxattr shmat shmctl shmdt shmget shutdown
sigaltstack signalfd signalfd4 sigprocmask sigreturn socketcall socketpair splice stat stat64
statfs statfs64 statx symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time
timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime
timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64
times tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat utime utimensat
utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write writev
process_vm_readv process_vm_writev ptrace`;

/** CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET: clone without CAP_SYS_ADMIN may set none. */
const CLONE_NAMESPACE_FLAGS = 0x7e020000;

/**
 * personality(2) personas a container may switch to: PER_LINUX (0), PER_LINUX32 (8),
 * UNAME26 (0x20000), UNAME26|PER_LINUX32, and 0xffffffff, which only queries the current one.
 */
const PERSONAS = [0, 8, 0x20000, 0x20008, 0xffffffff];

interface Group {
  names: string;
  caps?: string[];
  notCaps?: string[];
  arches?: string[];
  notArches?: string[];
  /** Default: SCMP_ACT_ALLOW. */
  action?: string;
  errnoRet?: number;
  args?: LinuxSyscall['args'];
}

const GROUPS: Group[] = [
  { names: 'socket', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] }, // any family but AF_VSOCK
  ...PERSONAS.map((value): Group => ({ names: 'personality', args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }] })),
  { names: 'sync_file_range2 swapcontext', arches: ['ppc64le'] },
  { names: 'arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls', arches: ['arm', 'arm64'] },
  { names: 'arch_prctl', arches: ['amd64', 'x32'] },
  { names: 'modify_ldt', arches: ['amd64', 'x32', 'x86'] },
  { names: 's390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr', arches: ['s390', 's390x'] },
  { names: 'riscv_flush_icache', arches: ['riscv64'] },
  { names: 'open_by_handle_at', caps: ['CAP_DAC_READ_SEARCH'] },
  {
    names: 'bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount mount_setattr ' +
      'move_mount open_tree perf_event_open quotactl quotactl_fd setdomainname sethostname setns syslog umount umount2 unshare',
    caps: ['CAP_SYS_ADMIN'],
  },
  {
    names: 'clone', notCaps: ['CAP_SYS_ADMIN'], notArches: ['s390', 's390x'],
    args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, op: 'SCMP_CMP_MASKED_EQ' }],
  },
  { // s390 passes clone's flags second
    names: 'clone', notCaps: ['CAP_SYS_ADMIN'], arches: ['s390', 's390x'],
    args: [{ index: 1, value: CLONE_NAMESPACE_FLAGS, op: 'SCMP_CMP_MASKED_EQ' }],
  },
  // Without CAP_SYS_ADMIN clone3's flags (in a struct) cannot be checked: ENOSYS makes libcs fall back to clone.
  { names: 'clone3', notCaps: ['CAP_SYS_ADMIN'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
  { names: 'reboot', caps: ['CAP_SYS_BOOT'] },
  { names: 'chroot', caps: ['CAP_SYS_CHROOT'] },
  { names: 'delete_module init_module finit_module', caps: ['CAP_SYS_MODULE'] },
  { names: 'acct', caps: ['CAP_SYS_PACCT'] },
  { names: 'kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace', caps: ['CAP_SYS_PTRACE'] },
  { names: 'iopl ioperm', caps: ['CAP_SYS_RAWIO'] },
  { names: 'settimeofday stime clock_settime clock_settime64', caps: ['CAP_SYS_TIME'] },
  { names: 'vhangup', caps: ['CAP_SYS_TTY_CONFIG'] },
  { names: 'get_mempolicy mbind set_mempolicy set_mempolicy_home_node', caps: ['CAP_SYS_NICE'] },
  { names: 'syslog', caps: ['CAP_SYSLOG'] },
  { names: 'bpf', caps: ['CAP_BPF'] },
  { names: 'perf_event_open', caps: ['CAP_PERFMON'] },
];

/** Go GOARCH for a host architecture spelling, and the OCI architectures Docker lists for it. */
const ARCHES: Record<string, { goarch: string; architectures: string[] }> = {
  amd64: { goarch: 'amd64', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
  arm64: { goarch: 'arm64', architectures: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'] },
  arm: { goarch: 'arm', architectures: ['SCMP_ARCH_ARM'] },
  '386': { goarch: '386', architectures: ['SCMP_ARCH_X86'] },
};
const ALIASES: Record<string, string> = { x64: 'amd64', x86_64: 'amd64', aarch64: 'arm64', ia32: '386', i386: '386' };

/**
 * Docker's default profile for a container with capability set `caps` (e.g. its bounding set,
 * `CAP_*` names) on `arch` (`process.arch` by default; Go names also accepted).
 * @example compileSeccomp(dockerDefaultProfile(['CAP_CHOWN'], 'x64'), 'x64')
 */
export function dockerDefaultProfile(caps: readonly string[], arch: string = process.arch): LinuxSeccomp {
  const host = ARCHES[ALIASES[arch] ?? arch] ?? { goarch: arch, architectures: [] };
  const have = new Set(caps.map((c) => c.toUpperCase()));
  const syscalls: LinuxSyscall[] = [{ names: words(BASE), action: 'SCMP_ACT_ALLOW' }];
  for (const g of GROUPS) {
    if (g.caps && !g.caps.every((c) => have.has(c))) continue;
    if (g.notCaps && g.notCaps.some((c) => have.has(c))) continue;
    if (g.arches && !g.arches.includes(host.goarch)) continue;
    if (g.notArches && g.notArches.includes(host.goarch)) continue;
    const rule: LinuxSyscall = { names: words(g.names), action: g.action ?? 'SCMP_ACT_ALLOW' };
    if (g.errnoRet !== undefined) rule.errnoRet = g.errnoRet;
    if (g.args) rule.args = g.args.map((a) => ({ ...a }));
    syscalls.push(rule);
  }
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    architectures: [...host.architectures],
    syscalls,
  };
}

function words(s: string): string[] {
  return s.trim().split(/\s+/);
}
