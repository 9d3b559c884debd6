/**
 * Berth's seccomp compiler: OCI profiles to classic-BPF programs for the native helper, the
 * tables `features` reports, and Docker's default profile. See compile.ts for the semantics.
 */
export { compileSeccomp, BAD_ARCH_ACTION, type CompiledSeccomp } from './compile.js';
export { ACTIONS, OPERATORS, FLAGS, encodeAction, encodeFlags } from './actions.js';
export {
  ARCHITECTURES, AUDIT_ARCH_AARCH64, AUDIT_ARCH_ARM, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT,
  archByName, resolveHostArch, type ArchInfo,
} from './arch.js';
export { BPF_MAXINSNS, SOCK_FILTER_SIZE } from './bpf.js';
export { dockerDefaultProfile } from './docker-default.js';
