/**
 * Output shared by the image commands: pull/push/load progress on stderr (bars on a terminal,
 * plain lines otherwise, see image/progress.ts), Docker's status lines, sizes and the image
 * options every command passes (the data root of the engine, so images and containers share it).
 */
import { progressPrinter } from '../../image/progress.js';
import type { ImageOptions } from '../../image/index.js';
import type { PullOutput } from '../../engine/image-rootfs.js';
import type { BerthContext } from './context.js';
import type { CommandOutput } from '../io.js';

/**
 * Progress and status lines of a pull: on stderr for `run`/`create` (the container owns stdout),
 * on stdout for `berth pull` (as Docker prints them).
 */
export function pullOutput(out: CommandOutput, quiet = false): PullOutput {
  if (quiet) return {};
  return { progress: progressPrinter(out), say: (line) => out.write(`${line}\n`) };
}

/**
 * The image options of a berth invocation: the engine's data root, and the caller's credentials
 * directory, insecure registries and retry policy (engine/caller.ts).
 */
export function imageOptions(ctx: BerthContext, extra: Partial<ImageOptions> = {}): ImageOptions {
  return { root: ctx.paths.dataRoot, ...ctx.caller.image, ...extra };
}

/** go-units HumanSize as `docker images` prints sizes: "4.26MB", "1.2GB", "512B" (powers of 1000). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}
