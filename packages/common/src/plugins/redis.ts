// Decorates the app with an ioredis client (app.redis). Redis being down at start does not stop
// the service: the client keeps reconnecting and callers degrade (cache-aside reads fall back).
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import { connectRedis, createRedis, pingRedis } from '../redis.ts'

declare module 'fastify' {
  interface FastifyInstance {
    redis: Redis
  }
}

export interface RedisPluginOptions {
  config: { REDIS_URL: string, REDIS_COMMAND_TIMEOUT_MS: number, REDIS_KEY_PREFIX: string }
  connectionName: string
}

export default fp(async function redis (app: FastifyInstance, options: RedisPluginOptions) {
  const client = createRedis({
    url: options.config.REDIS_URL,
    connectionName: options.connectionName,
    commandTimeoutMs: options.config.REDIS_COMMAND_TIMEOUT_MS,
    keyPrefix: options.config.REDIS_KEY_PREFIX
  })
  if (!await connectRedis(client)) app.log.warn('redis unreachable at start; continuing and reconnecting in the background')
  app.decorate('redis', client)
  app.addReadinessCheck('redis', () => pingRedis(client))
  app.addHook('onClose', async () => { client.disconnect() })
}, { name: 'redis', dependencies: ['health'] })
