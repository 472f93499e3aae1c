// Load from the test itself: a few workers each calling one step in a loop until stopped,
// every outcome counted by status (0 for a network error). Bounded: a load stops by itself
// after maxMs whatever happens to the test.
import type { Outcome } from './api.ts'

export interface LoadStats {
  sent: number
  /** Outcomes by status ("302", "503", "0 ECONNRESET"). */
  byStatus: Record<string, number>
}

export interface Load {
  stats: () => LoadStats
  /** Stops the workers after their current call and returns the final counts. */
  stop: () => Promise<LoadStats>
}

export function startLoad (options: { workers: number, step: (worker: number, iteration: number) => Promise<Outcome>, pauseMs?: number, maxMs?: number }): Load {
  const stats: LoadStats = { sent: 0, byStatus: {} }
  const stopping = new AbortController()
  const deadline = Date.now() + (options.maxMs ?? 300_000)
  const workers = Array.from({ length: options.workers }, async (_, worker) => {
    for (let i = 0; !stopping.signal.aborted && Date.now() < deadline; i++) {
      stats.sent++
      const outcome = await options.step(worker, i)
      const key = outcome.status === 0 ? `0 ${outcome.error ?? 'error'}` : String(outcome.status)
      stats.byStatus[key] = (stats.byStatus[key] ?? 0) + 1
      if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs))
    }
  })
  return {
    stats: () => ({ sent: stats.sent, byStatus: { ...stats.byStatus } }),
    async stop () {
      stopping.abort()
      await Promise.all(workers)
      return { sent: stats.sent, byStatus: { ...stats.byStatus } }
    }
  }
}

/** How many outcomes had one of these statuses. */
export function countOf (stats: LoadStats, ...statuses: number[]): number {
  return statuses.reduce((sum, s) => sum + (stats.byStatus[String(s)] ?? 0), 0)
}
