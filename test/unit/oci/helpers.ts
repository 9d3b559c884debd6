/**
 * Shared helpers for the src/oci unit tests: a valid base spec to break one field at a time, and
 * an assertion on the exact EINVALID_CONFIG message.
 */
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { defaultSpec } from '../../../src/oci/defaults.js';
import { parseConfig } from '../../../src/oci/validate.js';
import type { Spec } from '../../../src/oci/spec.js';

/** Read a fixture under test/fixtures/oci (tests run from dist/test/unit/oci). */
export function fixture(name: string): string {
  return readFileSync(new URL(`../../../../test/fixtures/oci/${name}`, import.meta.url), 'utf8');
}

/** A valid spec: runc's template without host detection, as a mutable plain object. */
export function baseSpec(): Spec {
  return structuredClone(defaultSpec({ rootless: false, cgroupNamespace: false }));
}

/** Any-typed view of a spec, to write invalid values into it. */
export type Loose = any;

/** Apply `mutate` to a base spec, parse it, and expect exactly `message`. */
export function expectInvalid(mutate: (s: Loose) => void, message: string): void {
  const spec = baseSpec();
  mutate(spec);
  assert.throws(
    () => parseConfig(JSON.stringify(spec), '/bundle'),
    (e: unknown) => {
      const err = e as { code?: string; message?: string };
      assert.equal(err.message, message);
      assert.equal(err.code, 'EINVALID_CONFIG');
      return true;
    },
  );
}

/** Apply `mutate` to a base spec and expect it to parse; returns the parsed spec. */
export function expectValid(mutate: (s: Loose) => void): Spec {
  const spec = baseSpec();
  mutate(spec);
  return parseConfig(JSON.stringify(spec), '/bundle');
}
