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
    // Each answer says which it was: one read, 199 waits on it (RFC 9211's "collapsed").
    const statuses = responses.map((r) => r.headers['cache-status'])
    assert.equal(statuses.filter((s) => s === 'link-cache; fwd=miss').length, 1)
    assert.equal(statuses.filter((s) => s === 'link-cache; fwd=miss; collapsed').length, 199)
    assert.equal((await app.inject({ url: `/${code}` })).headers['cache-status'], 'link-cache; hit')
  })

  test('when coalescing is off, then a cold stampede reads the database once per request', async (t) => {
    const uncoalesced = await build(t, { CLICK_AGGREGATOR_ENABLED: 'false', COALESCING_ENABLED: 'false' })
    const code = (await uncoalesced.inject({ method: 'POST', url: '/api/v1/urls', payload: { url: 'https://example.com/herd' } })).json().code
    await redis.del(`link:${code}`)
    const reads = await counter(uncoalesced, 'shortener_db_reads')
    await Promise.all(Array.from({ length: 50 }, () => uncoalesced.inject({ url: `/${code}` })))
    assert.ok(await counter(uncoalesced, 'shortener_db_reads') - reads > 1)
  })

  test('when the cache is off, then every answer says the cache was bypassed', async (t) => {
    const uncached = await build(t, { CLICK_AGGREGATOR_ENABLED: 'false', CACHE_ENABLED: 'false' })
    const code = (await uncached.inject({ method: 'POST', url: '/api/v1/urls', payload: { url: 'https://example.com/nocache' } })).json().code
    const res = await uncached.inject({ url: `/${code}` })
    assert.equal(res.statusCode, 302)
    assert.equal(res.headers['cache-status'], 'link-cache; fwd=bypass')
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

describe('GET /api/v1/urls/{code}/redirect', () => {
  test('when asked, then it answers what the redirect would, with the cache outcome, and counts no click', async () => {
    const code = await shorten({ url: 'https://example.com/preview', permanent: true })
    await redis.del(`link:${code}`)
    // Clicks of earlier tests in this file leave first, so the count below is ours alone.
    await app.clicks.flush()
    const published = await counter(app, 'shortener_clicks_published')
    const cold = await app.inject({ url: `/api/v1/urls/${code}/redirect` })
    assert.equal(cold.statusCode, 200)
    assert.deepEqual(cold.json(), { code, status: 301, location: 'https://example.com/preview', cache: 'miss' })
    assert.equal(cold.headers['cache-status'], 'link-cache; fwd=miss')
    const warm = await app.inject({ url: `/api/v1/urls/${code}/redirect` })
    assert.equal(warm.json().cache, 'hit')
    assert.equal(warm.headers['cache-status'], 'link-cache; hit')
    // The click publisher flushes every 20 ms here; a real redirect after the previews is the
    // sentinel: once its click is published, any click a preview made would have been too.
    assert.equal((await app.inject({ url: `/${code}` })).statusCode, 301)
    await app.clicks.flush()
    assert.equal(await counter(app, 'shortener_clicks_published') - published, 1)
  })

  test('when the link is unknown or deleted, then the same problems as the redirect', async () => {
    assert.equal((await app.inject({ url: `/api/v1/urls/${uniqueName('none').slice(0, 30)}/redirect` })).statusCode, 404)
    const owner = asUser(uniqueName('u'))
    const code = await shorten({ url: 'https://example.com/gone' }, owner)
    await app.inject({ method: 'DELETE', url: `/api/v1/urls/${code}`, headers: owner })
    const res = await app.inject({ url: `/api/v1/urls/${code}/redirect` })
    assert.equal(res.statusCode, 410)
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/)
  })
})
