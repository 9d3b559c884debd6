/*
 * seccomp-load: test helper that loads a compiled seccomp program and execs a command, the way
 * berth's native helper will.
 *   seccomp-load PROGRAM-FILE FLAGS COMMAND [ARG...]
 *   seccomp-load PROGRAM-FILE FLAGS @syscall NR [ARG...]
 * PROGRAM-FILE holds struct sock_filter entries (8 bytes each, native endianness); FLAGS is the
 * decimal seccomp() flags word. PR_SET_NO_NEW_PRIVS lets an unprivileged process install a filter.
 * The `@syscall` form makes one raw syscall with full 64-bit arguments (strtoull, 0x allowed) —
 * libc wrappers would truncate `int` arguments — and prints "ok" or the errno message.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: seccomp-load PROGRAM-FILE FLAGS COMMAND [ARG...]\n");
    return 125;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) { perror(argv[1]); return 125; }
  static struct sock_filter insns[4096 + 1];
  size_t n = fread(insns, sizeof insns[0], 4096 + 1, f);
  fclose(f);
  if (n == 0 || n > 4096) { fprintf(stderr, "seccomp-load: bad program size %zu\n", n); return 125; }
  struct sock_fprog prog = { .len = (unsigned short)n, .filter = insns };
  unsigned long flags = strtoul(argv[2], NULL, 10);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) { perror("prctl"); return 125; }
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) != 0) {
    fprintf(stderr, "seccomp-load: seccomp: %s\n", strerror(errno));
    return 125;
  }
  if (strcmp(argv[3], "@syscall") == 0 && argc >= 5) {
    unsigned long long a[6] = {0};
    for (int i = 0; i < 6 && 5 + i < argc; i++) a[i] = strtoull(argv[5 + i], NULL, 0);
    long r = syscall(strtol(argv[4], NULL, 0), a[0], a[1], a[2], a[3], a[4], a[5]);
    if (r == -1) { printf("%s\n", strerror(errno)); return 1; }
    printf("ok\n");
    return 0;
  }
  execv(argv[3], argv + 3);
  fprintf(stderr, "seccomp-load: exec %s: %s\n", argv[3], strerror(errno));
  return 127;
}
