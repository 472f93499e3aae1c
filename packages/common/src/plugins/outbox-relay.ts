// The outbox relay as a worker plugin: it starts with the app, in the background (start-up
// never waits for it), and stops when the app closes. One instance per database holds the
// relay's advisory lock (`lockKey`); the others stand by. Its backlog (rows written, not yet
// published) is observed on the service's gauge when asked for, so a stuck relay shows.
import type { ObservableGauge, ObservableResult } from '@opentelemetry/api'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { startOutboxRelay, type OutboxRelay } from '../outbox.ts'

export interface OutboxRelayPluginOptions {
  /** Elects one relay per database: any constant the service owns. */
  lockKey: number
  /** The service's `<service>_outbox_backlog` gauge, observed on each collection. */
  backlogGauge?: ObservableGauge
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Events written to the outbox but not yet published. */
    outboxBacklog: () => Promise<number>
  }
}

export default fp(async function outboxRelay (app: FastifyInstance, options: OutboxRelayPluginOptions) {
  const relay: OutboxRelay = startOutboxRelay({ pool: app.pg, producer: app.eventProducer, logger: app.log, lockKey: options.lockKey })
  app.decorate('outboxBacklog', () => relay.backlog())
  const gauge = options.backlogGauge
  // A collection while Postgres is away reports 0 rather than failing the whole scrape.
  const observe = async (result: ObservableResult) => { result.observe(await relay.backlog().catch(() => 0)) }
  gauge?.addCallback(observe)
  app.addHook('onClose', async () => {
    gauge?.removeCallback(observe)
    await relay.stop()
  })
}, { name: 'outbox-relay', dependencies: ['postgres', 'kafka'] })
