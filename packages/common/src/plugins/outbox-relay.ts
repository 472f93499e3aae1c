// The outbox relay as a worker plugin: it starts with the app, in the background (start-up
// never waits for it), and stops when the app closes. One instance per database holds the
// relay's advisory lock (`lockKey`); the others stand by.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { startOutboxRelay, type OutboxRelay } from '../outbox.ts'

export interface OutboxRelayPluginOptions {
  /** Elects one relay per database: any constant the service owns. */
  lockKey: number
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
  app.addHook('onClose', async () => { await relay.stop() })
}, { name: 'outbox-relay', dependencies: ['postgres', 'kafka'] })
