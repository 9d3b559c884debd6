/**
 * Berth's error type. Every error a user can see is a `BerthError` with a stable `code`
 * (like undici's `UND_ERR_*` or Node's `ERR_*`), a one-line lower-case message that names the
 * value, field, path or id involved, and optionally the underlying cause.
 *
 * The codes are the type ErrorCode below: a code that is not listed there does not compile.
 */

/**
 * Every code a BerthError can carry (add one here, with its meaning, when adding one). The strings
 * are stable: clients and tests match them.
 */
export type ErrorCode =
  /** config.json is malformed or a field is invalid (message names the field) */
  | 'EINVALID_CONFIG'
  /** a command-line argument or API option is invalid */
  | 'EINVALID_ARG'
  /** no container (image, …) with that id or name */
  | 'ENOT_FOUND'
  /** a container with that id or name exists already */
  | 'EEXISTS'
  /** the container is in the wrong state for the command */
  | 'EBAD_STATE'
  /** a start was called off: its condition no longer held under the container's lock */
  | 'ECANCELLED'
  /** a container's lock stayed held by a live process past the wait (names it) */
  | 'ELOCKED'
  /** a cgroup operation failed (message names the file and value) */
  | 'ECGROUP'
  /** the host lacks what was asked for (message says what to use instead) */
  | 'EUNSUPPORTED'
  /** the native helper failed (message is the helper's) */
  | 'EHELPER'
  /** a hook failed or timed out */
  | 'EHOOK'
  /** a digest string is malformed */
  | 'EINVALID_DIGEST'
  /** content does not match its digest or size */
  | 'EDIGEST_MISMATCH'
  /** a tar stream is malformed */
  | 'ETAR'
  /** a layer entry would write outside the target (message names the entry) */
  | 'EUNSAFE_LAYER'
  /** unpacking a layer failed */
  | 'EUNPACK'
  /** an image manifest, index or config is invalid */
  | 'EINVALID_IMAGE'
  /** a registry request failed */
  | 'EREGISTRY'
  /** registry authentication failed */
  | 'EAUTH'
  /** the image store is damaged or locked */
  | 'ESTORE';

/** The code of `err` when it is a BerthError, else undefined (an fs error's `code` is an errno: see errnoCode). */
export function berthCode(err: unknown): ErrorCode | undefined {
  return err instanceof BerthError ? err.code : undefined;
}

export class BerthError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BerthError';
    this.code = code;
  }
}

/** Shorthand for an invalid config.json field: `invalidConfig('process.cwd', 'must be absolute')`. */
export function invalidConfig(field: string, problem: string): BerthError {
  return new BerthError('EINVALID_CONFIG', `config.json: ${field} ${problem}`);
}

/** The errno code of a Node fs error (`ENOENT` …), or undefined. */
export function errnoCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return undefined;
}
