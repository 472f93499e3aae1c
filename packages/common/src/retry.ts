// Exponential backoff with full jitter (AWS architecture blog's "full jitter"): spreads retries
// of many clients over the whole window instead of synchronising them into waves.

export interface BackoffOptions {
  initialMs: number
  maxMs: number
}

/** Delay before retry number `attempt` (1-based): uniform in [0, min(max, initial·2^(attempt-1))]. */
export function backoffDelay (attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.max(0, attempt - 1))
  return Math.floor(random() * ceiling)
}

export function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(signal.reason); return }
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve() }, ms)
    function onAbort () { clearTimeout(timer); reject(signal?.reason) }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
