// GET /{code} against real servers: statuses, cache-aside with coalescing and negative caching,
// and the behaviour when Redis is down.
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { freePort } from '@shortfeed/infra'
import { testServers } from '@shortfeed/test-harness'
import { Redis } from 'ioredis'
import pg from 'pg'
import { asUser, build, buildForFile, counter, uniqueName } from '../helper.ts'

const app = await buildForFile({ CLICK_AGGREGATOR_ENABLED: 'false' })
const redis = new Redis((await testServers()).redisUrl)
after(() => { redis.disconnect() })

async function shorten (payload: Record<string, unknown>, headers: Record<string, string> = {}): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/urls', headers, payload })
  assert.equal(res.statusCode, 201, res.body)
  return res.json().code
}

describe('GET /{code}', () => {
  test('when the code exists, then 302 to the URL, not cached by browsers', async () => {
    const code = await shorten({ url: 'https://example.com/target?q=1' })
    const res = await app.inject({ url: `/${code}` })
    assert.equal(res.statusCode, 302)
    assert.equal(res.headers.location, 'https://example.com/target?q=1')
    assert.equal(res.headers['cache-control'], 'private, max-age=0')
  })

  test('when the link was created permanent, then 301 cacheable', async () => {
    const code = await shorten({ url: 'https://example.com/p', permanent: true })
    const res = await app.inject({ url: `/${code}` })
    assert.equal(res.statusCode, 301)
    assert.match(String(res.headers['cache-control']), /max-age=86400/)
  })

  test('when a link expires, then it stops redirecting with 410, even from the cache', async () => {
    const code = await shorten({ url: 'https://example.com/e', ttlSeconds: 60 })
    assert.equal((await app.inject({ url: `/${code}` })).statusCode, 302)
    // Time passes: move the expiry into the past in both stores, as an hour would.
    const db = new pg.Client({ connectionString: app.pg.options.connectionString })
    await db.connect()
    await db.query("UPDATE links SET expires_at = now() - interval '1 second' WHERE code = $1", [code])
    await db.end()
    const cached = JSON.parse((await redis.get(`link:${code}`))!)
    await redis.set(`link:${code}`, JSON.stringify({ ...cached, expiresAt: Date.now() - 1000 }))
    const res = await app.inject({ url: `/${code}` })
    assert.equal(res.statusCode, 410)
    assert.equal(res.json().code, 'SHORTENER_LINK_EXPIRED')
    await redis.del(`link:${code}`)
    assert.equal((await app.inject({ url: `/${code}` })).statusCode, 410)
  })

  test('when the code is unknown, then 404 problem, cached negatively; creating it replaces the negative entry', async () => {
    const alias = uniqueName('late').slice(0, 30)
    const reads = await counter(app, 'shortener_db_reads')
    assert.equal((await app.inject({ url: `/${alias}` })).statusCode, 404)
    assert.equal((await app.inject({ url: `/${alias}` })).statusCode, 404)
    assert.equal(await counter(app, 'shortener_db_reads') - reads, 1, 'the second 404 came from the negative cache')
    await shorten({ url: 'https://example.com/late', alias })
    assert.equal((await app.inject({ url: `/${alias}` })).statusCode, 302)
  })

  test('when the path cannot be a code, then 404 without touching the stores', async () => {
    for (const path of ['/a', `/${'x'.repeat(40)}`, '/has.dot', '/%00abc']) {
      const res = await app.inject({ url: path })
      assert.ok([400, 404].includes(res.statusCode), `${path} → ${res.statusCode}`)
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/)
    }
  })

  test('when 200 requests hit a cold code at once, then exactly one database read serves them all', async () => {
    const code = await shorten({ url: 'https://example.com/cold' })
    await redis.del(`link:${code}`)
    const [reads, waits] = [await counter(app, 'shortener_db_reads'), await counter(app, 'shortener_coalesced_waits')]
    const responses = await Promise.all(Array.from({ length: 200 }, () => app.inject({ url: `/${code}` })))
    assert.deepEqual(new Set(responses.map((r) => r.statusCode)), new Set([302]))
    assert.equal(await counter(app, 'shortener_db_reads') - reads, 1)
    assert.equal(await counter(app, 'shortener_coalesced_waits') - waits, 199)
    assert.ok(await redis.ttl(`link:${code}`) > 3000, 'the cache was refilled with the jittered TTL')
  })

  test('when coalescing is off, then a cold stampede reads the database once per request', async (t) => {
    const uncoalesced = await build(t, { CLICK_AGGREGATOR_ENABLED: 'false', COALESCING_ENABLED: 'false' })
    const code = (await uncoalesced.inject({ method: 'POST', url: '/api/v1/urls', payload: { url: 'https://example.com/herd' } })).json().code
    await redis.del(`link:${code}`)
    const reads = await counter(uncoalesced, 'shortener_db_reads')
    await Promise.all(Array.from({ length: 50 }, () => uncoalesced.inject({ url: `/${code}` })))
    assert.ok(await counter(uncoalesced, 'shortener_db_reads') - reads > 1)
  })

  test('when a link is deleted, then the cached copy stops redirecting at once', async () => {
    const owner = asUser(uniqueName('u'))
    const code = await shorten({ url: 'https://example.com/del' }, owner)
    assert.equal((await app.inject({ url: `/${code}` })).statusCode, 302)
    assert.equal((await app.inject({ method: 'DELETE', url: `/api/v1/urls/${code}`, headers: owner })).statusCode, 204)
    assert.equal((await app.inject({ url: `/${code}` })).statusCode, 410)
  })
})

describe('when Redis is down', () => {
  test('then links are still created and redirects are served from Postgres', async (t) => {
    const down = await build(t, { CLICK_AGGREGATOR_ENABLED: 'false', REDIS_URL: `redis://127.0.0.1:${await freePort()}`, REDIS_COMMAND_TIMEOUT_MS: '100' })
    const created = await down.inject({ method: 'POST', url: '/api/v1/urls', payload: { url: 'https://example.com/no-redis' } })
    assert.equal(created.statusCode, 201)
    const errors = await counter(down, 'shortener_cache_errors')
    for (let i = 0; i < 3; i++) {
      const res = await down.inject({ url: `/${created.json().code}` })
      assert.equal(res.statusCode, 302)
      assert.equal(res.headers.location, 'https://example.com/no-redis')
    }
    assert.ok(await counter(down, 'shortener_cache_errors') > errors)
    assert.equal((await down.inject({ url: '/zzzzzzz' })).statusCode, 404)
  })
})
