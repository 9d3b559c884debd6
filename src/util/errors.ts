/**
 * Berth's error type. Every error a user can see is a `BerthError` with a stable `code`
 * (like undici's `UND_ERR_*` or Node's `ERR_*`), a one-line lower-case message that names the
 * value, field, path or id involved, and optionally the underlying cause.
 *
 * Codes in use (add here when adding one):
 *   EINVALID_CONFIG   config.json is malformed or a field is invalid (message names the field)
 *   EINVALID_ARG      a command-line argument or API option is invalid
 *   ENOT_FOUND        no container with that id
 *   EEXISTS           a container with that id exists already
 *   EBAD_STATE        the container is in the wrong state for the command
 *   ELOCKED           a container's lock stayed held by a live process past the wait (names it)
 *   ECGROUP           a cgroup operation failed (message names the file and value)
 *   EUNSUPPORTED      the host lacks what was asked for (message says what to use instead)
 *   EHELPER           the native helper failed (message is the helper's)
 *   EHOOK             a hook failed or timed out
 *   EINVALID_DIGEST   a digest string is malformed
 *   EDIGEST_MISMATCH  content does not match its digest or size
 *   ETAR              a tar stream is malformed
 *   EUNSAFE_LAYER     a layer entry would write outside the target (message names the entry)
 *   EUNPACK           unpacking a layer failed
 *   EINVALID_IMAGE    an image manifest, index or config is invalid
 *   EREGISTRY         a registry request failed
 *   EAUTH             registry authentication failed
 *   ESTORE            the image store is damaged or locked
 */
export class BerthError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
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
