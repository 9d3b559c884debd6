/*
 * The floor of runtime-run: the least a container start can cost on this kernel. No config, no
 * cgroups, no state: new mount, pid, ipc, uts and network namespaces, a private bind mount of the
 * rootfs, /proc, pivot_root, exec /bin/true, wait. Built static by bench/runtime-run.ts:
 *   gcc -O2 -static -o floor bench/floor.c && ./floor ROOTFS
 * unshare(2) + fork(2) is what clone(2) with the same flags does (the pid namespace applies to
 * the children of the caller of unshare).
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what) { perror(what); _exit(120); }

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: floor ROOTFS\n"); return 2; }
  const char *root = argv[1];
  if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET) < 0) die("unshare");
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("make / private");
    if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0) die("bind rootfs");
    if (chdir(root) < 0) die("chdir rootfs");
    if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) die("mount proc");
    if (syscall(SYS_pivot_root, ".", ".") < 0) die("pivot_root");
    if (umount2(".", MNT_DETACH) < 0) die("detach old root");
    if (chdir("/") < 0) die("chdir /");
    char *args[] = { "/bin/true", NULL };
    char *env[] = { "PATH=/bin", NULL };
    execve(args[0], args, env);
    die("execve /bin/true");
  }
  int status;
  if (waitpid(pid, &status, 0) < 0) die("waitpid");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
