// Test aid for test/cgroup-v2: loads raw BPF_PROG_TYPE_CGROUP_DEVICE bytes (argv[1]) the way the
// native helper must (BPF_PROG_LOAD, license "Apache"; BPF_PROG_ATTACH with BPF_F_ALLOW_MULTI) onto
// the cgroup dir argv[2], then forks a child into that cgroup which opens argv[3..] O_RDWR and prints
// "<path>: allowed|denied". Built by scripts/test-cgroup-v2.sh into dist/test/cgroup-v2/bpf-load.
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static char logbuf[65536];
int main(int argc, char **argv) {
  FILE *f = fopen(argv[1], "rb"); static unsigned char buf[65536]; size_t n = fread(buf, 1, sizeof buf, f);
  union bpf_attr a; memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE; a.insns = (unsigned long)buf; a.insn_cnt = n / 8;
  a.license = (unsigned long)"Apache"; a.log_buf = (unsigned long)logbuf; a.log_size = sizeof logbuf; a.log_level = 1;
  a.expected_attach_type = BPF_CGROUP_DEVICE;
  int fd = syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof a);
  if (fd < 0) { perror("BPF_PROG_LOAD"); fprintf(stderr, "%s\n", logbuf); return 1; }
  int dfd = open(argv[2], O_DIRECTORY | O_RDONLY);
  memset(&a, 0, sizeof a); a.target_fd = dfd; a.attach_bpf_fd = fd; a.attach_type = BPF_CGROUP_DEVICE; a.attach_flags = BPF_F_ALLOW_MULTI;
  if (syscall(SYS_bpf, BPF_PROG_ATTACH, &a, sizeof a) < 0) { perror("BPF_PROG_ATTACH"); return 1; }
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    char path[512]; snprintf(path, sizeof path, "%s/cgroup.procs", argv[2]);
    int c = open(path, O_WRONLY); dprintf(c, "%d", getpid()); close(c);
    for (int i = 3; i < argc; i++) { int o = open(argv[i], O_RDWR); printf("%s: %s\n", argv[i], o >= 0 ? "allowed" : "denied"); if (o >= 0) close(o); }
    fflush(stdout); _exit(0);
  }
  waitpid(p, NULL, 0);
  return 0;
}
