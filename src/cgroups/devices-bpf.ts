/**
 * The cgroup v2 device filter: an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE generated from
 * the OCI device rules. cgroup v2 has no devices.allow file; the kernel runs this program on every
 * open/mknod of a device node by a process in the cgroup and denies the access when it returns 0.
 *
 * Node cannot call bpf(2), so this module only produces the raw instructions; the native helper
 * loads and attaches them (the exact syscalls are in the note at the end of this file).
 *
 * Semantics (close to runc's devices emulator + devicefilter.go):
 * - an "all devices" rule (type 'a' or absent, no major/minor, access rwm or absent) resets the
 *   default: rules before the last such rule no longer matter; with none, the default is allow
 *   (like a new v1 cgroup, which inherits its parent's "a *:* rwm");
 * - the remaining rules are checked last-to-first and the first that matches decides (so later
 *   rules win, as with successive devices.allow/deny writes);
 * - an allow rule matches when the requested access is a subset of its access; a deny rule
 *   matches when the request shares any access bit with it (denying "w" denies "rw").
 *
 * Program context (struct bpf_cgroup_dev_ctx): u32 access_type = (access << 16) | type;
 * u32 major; u32 minor. type: 1 block, 2 char. access: 1 mknod, 2 read, 4 write.
 */
import type { LinuxDeviceCgroup } from '../oci/spec.js';

/** bpf_cgroup_dev_ctx device types. */
export const BPF_DEVCG_DEV_BLOCK = 1;
export const BPF_DEVCG_DEV_CHAR = 2;
/** bpf_cgroup_dev_ctx access bits. */
export const BPF_DEVCG_ACC_MKNOD = 1;
export const BPF_DEVCG_ACC_READ = 2;
export const BPF_DEVCG_ACC_WRITE = 4;

/** Opcodes emitted (a subset of the eBPF ISA; test/unit/cgroups interprets exactly these). */
export const OP = {
  LDXW: 0x61, // dst = *(u32 *)(src + off)
  AND32_K: 0x54, // dst = (u32)(dst & imm)
  RSH32_K: 0x74, // dst = (u32)dst >> imm
  MOV32_X: 0xbc, // dst = (u32)src
  MOV32_K: 0xb4, // dst = (u32)imm
  JNE_K: 0x55, // if dst != imm goto pc + 1 + off
  JNE_X: 0x5d, // if dst != src goto pc + 1 + off
  JEQ_K: 0x15, // if dst == imm goto pc + 1 + off
  EXIT: 0x95, // return r0
} as const;

/** One eBPF instruction before encoding. */
export interface BpfInsn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

const ins = (code: number, dst: number, src: number, off: number, imm: number): BpfInsn => ({ code, dst, src, off, imm });

/** The access bits of an OCI access string ("rwm" when absent or empty). */
export function accessBits(access: string | undefined): number {
  const a = access || 'rwm';
  return (a.includes('m') ? BPF_DEVCG_ACC_MKNOD : 0) | (a.includes('r') ? BPF_DEVCG_ACC_READ : 0) | (a.includes('w') ? BPF_DEVCG_ACC_WRITE : 0);
}

const isWild = (n: number | null | undefined): boolean => n === undefined || n === null || n === -1;

/** Whether the rule covers every device with every access. */
export function isAllDevicesRule(r: LinuxDeviceCgroup): boolean {
  return (r.type === undefined || r.type === 'a') && isWild(r.major) && isWild(r.minor) && accessBits(r.access) === 7;
}

/** The instructions of one rule: checks that jump past the block on mismatch, then the verdict. */
function ruleBlock(r: LinuxDeviceCgroup): BpfInsn[] {
  const checks: Array<(skip: number) => BpfInsn[]> = [];
  if (r.type === 'b' || r.type === 'c') {
    const t = r.type === 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
    checks.push((skip) => [ins(OP.JNE_K, 2, 0, skip, t)]);
  }
  const bits = accessBits(r.access);
  if (bits !== 7) {
    if (r.allow) {
      // allow: (req & bits) == req  — use R1 as a scratch register (ctx is no longer needed)
      checks.push((skip) => [ins(OP.MOV32_X, 1, 3, 0, 0), ins(OP.AND32_K, 1, 0, 0, bits), ins(OP.JNE_X, 1, 3, skip, 0)]);
    } else {
      // deny: (req & bits) != 0
      checks.push((skip) => [ins(OP.MOV32_X, 1, 3, 0, 0), ins(OP.AND32_K, 1, 0, 0, bits), ins(OP.JEQ_K, 1, 0, skip, 0)]);
    }
  }
  if (!isWild(r.major)) checks.push((skip) => [ins(OP.JNE_K, 4, 0, skip, r.major!)]);
  if (!isWild(r.minor)) checks.push((skip) => [ins(OP.JNE_K, 5, 0, skip, r.minor!)]);
  // Lay out back to front so each jump knows how many instructions remain in the block.
  let tail: BpfInsn[] = [ins(OP.MOV32_K, 0, 0, 0, r.allow ? 1 : 0), ins(OP.EXIT, 0, 0, 0, 0)];
  // The jump is the last instruction of each check, so it skips exactly what follows it.
  for (const check of checks.reverse()) tail = [...check(tail.length), ...tail];
  return tail;
}

/** Builds the program for `rules` (see the module comment for the semantics). */
export function deviceFilterInsns(rules: LinuxDeviceCgroup[]): BpfInsn[] {
  let start = 0;
  let defaultAllow = true;
  rules.forEach((r, i) => {
    if (isAllDevicesRule(r)) {
      start = i + 1;
      defaultAllow = r.allow;
    }
  });
  const prog: BpfInsn[] = [
    ins(OP.LDXW, 2, 1, 0, 0), // r2 = ctx->access_type
    ins(OP.AND32_K, 2, 0, 0, 0xffff), // r2 = type
    ins(OP.LDXW, 3, 1, 0, 0), // r3 = ctx->access_type
    ins(OP.RSH32_K, 3, 0, 0, 16), // r3 = access
    ins(OP.LDXW, 4, 1, 4, 0), // r4 = ctx->major
    ins(OP.LDXW, 5, 1, 8, 0), // r5 = ctx->minor
  ];
  for (let i = rules.length - 1; i >= start; i--) {
    prog.push(...ruleBlock(rules[i]!));
  }
  prog.push(ins(OP.MOV32_K, 0, 0, 0, defaultAllow ? 1 : 0), ins(OP.EXIT, 0, 0, 0, 0));
  return prog;
}

/** Encodes instructions as the kernel's struct bpf_insn array (8 bytes each, little-endian). */
export function encodeInsns(insns: BpfInsn[]): Uint8Array {
  const buf = new Uint8Array(insns.length * 8);
  const view = new DataView(buf.buffer);
  insns.forEach((x, i) => {
    view.setUint8(i * 8, x.code);
    view.setUint8(i * 8 + 1, ((x.src & 0xf) << 4) | (x.dst & 0xf));
    view.setInt16(i * 8 + 2, x.off, true);
    view.setInt32(i * 8 + 4, x.imm | 0, true);
  });
  return buf;
}

/** The raw program bytes for the native helper. */
export function deviceFilterProgram(rules: LinuxDeviceCgroup[]): Uint8Array {
  return encodeInsns(deviceFilterInsns(rules));
}

/**
 * What the native helper must do with the bytes (documented here, next to the generator):
 *   fd = bpf(BPF_PROG_LOAD, { prog_type: BPF_PROG_TYPE_CGROUP_DEVICE (15), insns, insn_cnt: len/8,
 *            license: "Apache", expected_attach_type: BPF_CGROUP_DEVICE (6) })
 *   dirfd = open(<cgroup dir>, O_DIRECTORY | O_RDONLY)
 *   bpf(BPF_PROG_ATTACH, { target_fd: dirfd, attach_bpf_fd: fd, attach_type: BPF_CGROUP_DEVICE (6),
 *       attach_flags: BPF_F_ALLOW_MULTI (2) })
 * On update, query the attached programs (BPF_PROG_QUERY) and detach the old one after attaching
 * the new one (or use BPF_F_REPLACE with replace_bpf_fd), as runc does, so there is no window
 * without a filter.
 */
