/**
 * The seccomp profile as the OCI runtime spec writes it (config.json `linux.seccomp`), which is
 * also the shape of Docker's profiles. Defined here, by the compiler that reads it, and
 * re-exported by oci/spec.ts as part of the spec: oci/ depends on seccomp/, never the reverse.
 */

export interface LinuxSeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

export interface LinuxSyscall {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: LinuxSeccompArg[];
}

export interface LinuxSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: LinuxSyscall[];
}
