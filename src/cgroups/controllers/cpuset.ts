/**
 * cpuset controller: cpuset.cpus and cpuset.mems, the same file names on v1 and v2.
 * On v1 a new cpuset cgroup starts with EMPTY cpus and mems, and the kernel refuses to add a task
 * to it (ENOSPC), so create() copies them from the parent (cpusetInheritV1, runc's ensureParent).
 */
import { dirname } from 'node:path';
import type { LinuxResources } from '../../oci/spec.js';
import { readOpt, writeValue } from '../files.js';
import { type Controller, invalid } from './controller.js';

/** Syntax of a cpu/node list: "0-3,7,9-11". */
const LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

function wants(r: LinuxResources): boolean {
  return !!r.cpu && (!!r.cpu.cpus || !!r.cpu.mems);
}

/** Expands a list ("0-2,5") into numbers. */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    if (part === '') continue;
    const [a, b] = part.split('-').map(Number);
    for (let i = a!; i <= (b ?? a!); i++) out.push(i);
  }
  return out;
}

function validateList(knob: string, value: string | undefined, dir: string, effectiveFile: string): void {
  if (!value) return;
  if (!LIST.test(value)) throw invalid(knob, `${JSON.stringify(value)} is not a list like "0-3,7"`);
  for (const part of value.split(',')) {
    const [a, b] = part.split('-').map(Number);
    if (b !== undefined && b < a!) throw invalid(knob, `${JSON.stringify(value)} has a descending range ${part}`);
  }
  // Check against what the parent can give: the kernel's EINVAL would not say which number.
  const avail = readOpt(dirname(dir), effectiveFile) ?? readOpt(dirname(dir), effectiveFile.replace('effective_', '').replace('.effective', ''));
  if (avail === undefined || avail.trim() === '') return;
  const ok = new Set(parseCpuList(avail));
  const bad = parseCpuList(value).filter((n) => !ok.has(n));
  if (bad.length) throw invalid(knob, `${JSON.stringify(value)} names ${bad.join(',')}, not available here (available: ${avail.trim()})`);
}

function make(effCpus: string, effMems: string): Controller {
  return {
    name: 'cpuset',
    wants,
    validate(dir, r) {
      validateList('cpu.cpus', r.cpu!.cpus, dir, effCpus);
      validateList('cpu.mems', r.cpu!.mems, dir, effMems);
    },
    apply(dir, r) {
      const c = r.cpu!;
      if (c.cpus) writeValue(dir, 'cpuset.cpus', c.cpus);
      if (c.mems) writeValue(dir, 'cpuset.mems', c.mems);
    },
  };
}

/** The cgroup v1 cpuset controller. */
export const cpusetV1: Controller = make('cpuset.effective_cpus', 'cpuset.effective_mems');
/** The cgroup v2 cpuset controller. */
export const cpusetV2: Controller = make('cpuset.cpus.effective', 'cpuset.mems.effective');

/**
 * Copies cpuset.cpus and cpuset.mems from the parent into `dir` when empty (v1 only). Called
 * for every level create() made, top down, so each level has what its child copies.
 */
export function cpusetInheritV1(dir: string): void {
  for (const file of ['cpuset.cpus', 'cpuset.mems']) {
    const own = readOpt(dir, file);
    if (own === undefined || own.trim() !== '') continue;
    const parent = readOpt(dirname(dir), file)?.trim();
    if (parent) writeValue(dir, file, parent);
  }
}
