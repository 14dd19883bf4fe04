/**
 * Exponential backoff with full jitter, shared by every retry loop in the project.
 * attempt 0 -> up to base, 1 -> up to 2*base, ... capped at `max`.
 */
export function backoffDelay(attempt: number, baseMs = 1000, maxMs = 16_000, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  // Half fixed, half random: keeps the documented schedule (1 s, 2 s, 4 s...) recognisable
  // while spreading reconnect storms.
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
