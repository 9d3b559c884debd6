/**
 * A sleep that ends early when its signal is aborted: the poll loops that follow something
 * outside (events, log lines, a container's end) wait with it, so a warm command whose client
 * went away (BerthContext.gone) ends at its next wait rather than polling on for nobody.
 */

/** Resolve after `ms` milliseconds, or at once when `signal` is (or becomes) aborted. Never rejects. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
