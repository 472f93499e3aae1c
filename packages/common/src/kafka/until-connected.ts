// Retries a connection step until it succeeds or the process is stopping, with capped
// exponential backoff: a service whose broker is down at start comes up degraded (readiness
// says so) and connects when the broker does, instead of crash-looping.
import type { FastifyBaseLogger as Logger } from 'fastify'
import { backoffDelay, sleep } from '../retry.ts'

export async function untilConnected (
  step: () => Promise<void>, options: { what: string, logger: Logger, signal: AbortSignal }
): Promise<boolean> {
  for (let attempt = 1; !options.signal.aborted; attempt++) {
    try {
      await step()
      if (attempt > 1) options.logger.info(`${options.what}: connected`)
      return true
    } catch (err) {
      if (options.signal.aborted) return false
      if (attempt === 1) options.logger.warn({ err }, `${options.what}: Kafka unreachable; retrying in the background`)
      await sleep(backoffDelay(attempt, { initialMs: 500, maxMs: 10_000 }), options.signal).catch(() => {})
    }
  }
  return false
}
