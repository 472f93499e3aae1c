// The rate limiter (rate-limit/rate-limiter.ts: GCRA in Redis, leased locally, failing open
// when Redis is away) as app.rateLimiter, or undefined where RATE_LIMIT_ENABLED is false.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createRateLimiter, type RateLimiter } from '../rate-limit/rate-limiter.ts'

declare module 'fastify' {
  interface FastifyInstance {
    rateLimiter: RateLimiter | undefined
  }
}

export default fp(async function rateLimiter (app: FastifyInstance, options: { enabled: boolean }) {
  const limiter = options.enabled ? createRateLimiter(app.redis, () => { app.gatewayMetrics.rateLimitFailOpen.add(1) }) : undefined
  app.decorate('rateLimiter', limiter)
  app.addHook('onClose', async () => { limiter?.close() })
}, { name: 'rate-limiter', dependencies: ['redis', 'gateway-metrics'] })
