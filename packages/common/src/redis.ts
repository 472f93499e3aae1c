// An ioredis client tuned to degrade fast: no offline queue and a command timeout, so a Redis
// outage turns into quick errors that callers fall back from instead of requests piling up.
import { Redis } from 'ioredis'

export interface RedisOptions {
  url: string
  connectionName: string
  commandTimeoutMs?: number
  keyPrefix?: string
}

export function createRedis (options: RedisOptions): Redis {
  const redis = new Redis(options.url, {
    connectionName: options.connectionName,
    keyPrefix: options.keyPrefix ?? '',
    lazyConnect: true,
    enableOfflineQueue: false,
    commandTimeout: options.commandTimeoutMs ?? 1_000,
    maxRetriesPerRequest: 1,
    // RESP2 keeps reply shapes (ZRANGE WITHSCORES, HGETALL) what most code and docs expect.
    protocol: 2,
    // Keep reconnecting in the background, never give up: Redis coming back must heal us.
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2_000)
  })
  // Connection errors are reported through failing commands and readiness; without a
  // listener ioredis would log every reconnect attempt as an unhandled error event.
  redis.on('error', () => {})
  return redis
}

/** Connects without throwing when Redis is down at start: services must start and degrade. */
export async function connectRedis (redis: Redis): Promise<boolean> {
  try {
    await redis.connect()
    return true
  } catch {
    return false
  }
}

export async function pingRedis (redis: Redis): Promise<void> {
  await redis.ping()
}
