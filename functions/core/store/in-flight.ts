// Counts a backend's item calls in flight, so closing the table waits for writes still under way
// (background records, a job cut short by shutdown) instead of cutting them off mid-request.
import type { ItemBackend } from "./items.js";

export interface InFlight {
  /** The backend with every call counted. */
  backend: ItemBackend;
  count(): number;
  /** Resolves true once no call is in flight, false if `timeoutMs` passes first. */
  drained(timeoutMs: number): Promise<boolean>;
}

export function trackInFlight(inner: ItemBackend): InFlight {
  let count = 0;
  const waiters = new Set<() => void>();
  const track = async <T>(p: () => Promise<T>): Promise<T> => {
    count++;
    try {
      return await p();
    } finally {
      if (--count === 0) for (const wake of waiters) wake();
    }
  };
  const backend: ItemBackend = {
    get: (...a) => track(() => inner.get(...a)),
    put: (...a) => track(() => inner.put(...a)),
    update: (...a) => track(() => inner.update(...a)),
    delete: (...a) => track(() => inner.delete(...a)),
    query: (...a) => track(() => inner.query(...a)),
  };
  return {
    backend,
    count: () => count,
    drained: (timeoutMs) =>
      count === 0
        ? Promise.resolve(true)
        : new Promise<boolean>((resolve) => {
            const done = (ok: boolean) => {
              clearTimeout(timer);
              waiters.delete(wake);
              resolve(ok);
            };
            const wake = () => done(true);
            const timer = setTimeout(() => done(false), timeoutMs);
            waiters.add(wake);
          }),
  };
}
