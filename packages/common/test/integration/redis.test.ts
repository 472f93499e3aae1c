// The Redis client's degrade-fast behaviour against a real redis-server.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, chmodSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { freePort, startNativeRedis } from '@shortfeed/infra'
import { eventually, testServers, uniqueName } from '@shortfeed/test-harness'
import { connectRedis, createRedis, pingRedis } from '../../src/redis.ts'

describe('redis client', () => {
  test('when Redis answers, then commands work with RESP2 reply shapes', async () => {
    const { redisUrl } = await testServers()
    const redis = createRedis({ url: redisUrl, connectionName: 'test' })
    after(() => redis.disconnect())
    assert.equal(await connectRedis(redis), true)
    await pingRedis(redis)
    const key = uniqueName('z')
    await redis.zadd(key, 1, 'a', 2, 'b')
    assert.deepEqual(await redis.zrange(key, '0', '-1', 'WITHSCORES'), ['a', '1', 'b', '2'])
  })

  test('when Redis is down, then the service starts, commands fail fast, and it heals once Redis is back', async () => {
    const port = await freePort()
    const redis = createRedis({ url: `redis://127.0.0.1:${port}`, connectionName: 'test', commandTimeoutMs: 200 })
    after(() => redis.disconnect())
    assert.equal(await connectRedis(redis), false)
    // Refused on the spot, not queued until a reconnect or the command timeout.
    await assert.rejects(redis.get('anything'), /enableOfflineQueue options is false/)

    const dir = mkdtempSync(join(tmpdir(), 'redis-heal-'))
    chmodSync(dir, 0o755)
    const server = await startNativeRedis({ dir, port })
    after(async () => { await server.stop(); rmSync(dir, { recursive: true, force: true }) })
    await eventually(() => redis.status, (status) => status === 'ready')
    assert.equal(await redis.ping(), 'PONG')
  })
})
