// The outbox relay as a worker plugin: it starts once the app is ready (every plugin loaded,
// so nothing it needs is missing) and stops when the app closes. One instance per database
// holds the relay's advisory lock (`lockKey`); the others stand by.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { startOutboxRelay, type OutboxRelay } from '../outbox.ts'

export interface OutboxRelayPluginOptions {
  /** Elects one relay per database: any constant the service owns. */
  lockKey: number
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Events written to the outbox but not yet published (0 before the relay starts). */
    outboxBacklog: () => Promise<number>
  }
}

export default fp(async function outboxRelay (app: FastifyInstance, options: OutboxRelayPluginOptions) {
  let relay: OutboxRelay | undefined
  app.decorate('outboxBacklog', () => relay?.backlog() ?? Promise.resolve(0))
  app.addHook('onReady', async () => {
    relay = startOutboxRelay({ pool: app.pg, producer: app.eventProducer, logger: app.log, lockKey: options.lockKey })
  })
  app.addHook('onClose', async () => { await relay?.stop() })
}, { name: 'outbox-relay', dependencies: ['postgres', 'kafka'] })
