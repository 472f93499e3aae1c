// Hybrid fan-out end to end: posts travel through the outbox, Kafka and the fan-out worker to
// followers' Redis timelines, celebrities' posts are pulled at read time, and the merge keeps
// the home timeline complete, ordered, free of duplicates and of unfollowed authors.
// CELEBRITY_FOLLOWER_THRESHOLD is 3 here, so both paths run.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { loadConfig } from '@shortfeed/common'
import { freePort } from '@shortfeed/infra'
import { Redis } from 'ioredis'
import { TimelineConfig } from '../../src/config.ts'
import { buildApp, buildStack, counter, eventually, follow, post, register, timeline, asUser } from '../helper.ts'

const { api, worker, env } = await buildStack()
const fanout = worker!

const texts = (page: { items: Array<{ text: string }> }) => page.items.map((p) => p.text)

describe('home timeline', () => {
  test('when a followed user posts, then the post is pushed to the follower\'s timeline', async () => {
    const [reader, author] = [await register(api), await register(api)]
    await follow(api, reader.id, author.id)
    await timeline(api, reader.id)
    const p = await post(api, author.id, 'pushed hello')
    const redis = new Redis(env['REDIS_URL']!, { keyPrefix: env['REDIS_KEY_PREFIX'] })
    try {
      await eventually(() => redis.zscore(`timeline:${reader.id}`, p.id), (score) => score !== null)
    } finally {
      redis.disconnect()
    }
    // The post leaves the pull set once fan-out has pushed it everywhere (just after the push).
    await eventually(async () => (await api.pg.query('SELECT pushed FROM posts WHERE id = $1', [p.id])).rows[0].pushed, (v) => v === true)
    const page = await timeline(api, reader.id)
    assert.deepEqual(texts(page), ['pushed hello'])
    assert.equal(page.items[0]?.source, 'push', 'the item says it was pushed at write time')
  })

  test('a user sees their own post at once, before any fan-out (read-your-writes)', async () => {
    const author = await register(api)
    const p = await post(api, author.id, 'mine, now')
    const page = await timeline(api, author.id)
    assert.equal(page.items[0]?.id, p.id)
    assert.equal(page.items[0]?.source, 'pull')
  })

  test('when the author is a celebrity, then the post is not pushed but readers still get it', async () => {
    const celebrity = await register(api)
    const fans = [await register(api), await register(api), await register(api)]
    for (const fan of fans) {
      await follow(api, fan.id, celebrity.id)
      await timeline(api, fan.id)
    }
    const skipped = await counter(fanout.app, 'timeline_fanout_skipped')
    const p = await post(api, celebrity.id, 'for my fans')
    await eventually(() => counter(fanout.app, 'timeline_fanout_skipped'), (n) => n > skipped)
    const redis = new Redis(env['REDIS_URL']!, { keyPrefix: env['REDIS_KEY_PREFIX'] })
    try {
      for (const fan of fans) {
        assert.equal(await redis.zscore(`timeline:${fan.id}`, p.id), null, 'not pushed')
        const page = await timeline(api, fan.id)
        assert.deepEqual(texts(page), ['for my fans'])
        assert.equal(page.items[0]?.source, 'pull', 'the item says it was pulled at read time')
      }
    } finally {
      redis.disconnect()
    }
  })

  test('when an author crosses the threshold, then earlier pushed and later pulled posts merge once each, newest first', async () => {
    const author = await register(api)
    const [reader, second, third] = [await register(api), await register(api), await register(api)]
    await follow(api, reader.id, author.id)
    await follow(api, second.id, author.id)
    await timeline(api, reader.id)
    const early = await post(api, author.id, 'before fame')
    await eventually(async () => (await api.pg.query('SELECT pushed FROM posts WHERE id = $1', [early.id])).rows[0].pushed, (v) => v === true)
    await follow(api, third.id, author.id)
    await post(api, author.id, 'after fame')
    const page = await eventually(() => timeline(api, reader.id), (t) => t.items.length === 2)
    assert.deepEqual(texts(page), ['after fame', 'before fame'])
    assert.deepEqual(page.items.map((p) => p.source), ['pull', 'push'])
  })

  test('when someone is followed, then their recent posts are backfilled; unfollowed, they disappear', async () => {
    const [reader, author] = [await register(api), await register(api)]
    await timeline(api, reader.id)
    for (let i = 0; i < 3; i++) await post(api, author.id, `old ${i}`)
    await follow(api, reader.id, author.id)
    await eventually(() => timeline(api, reader.id), (t) => t.items.length === 3)
    const redis = new Redis(env['REDIS_URL']!, { keyPrefix: env['REDIS_KEY_PREFIX'] })
    try {
      // Backfilled into Redis (not only pulled): wait for the worker to copy them.
      await eventually(() => redis.zcard(`timeline:${reader.id}`), (n) => n === 4)
      assert.equal((await api.inject({ method: 'DELETE', url: `/api/v1/me/following/${author.id}`, headers: asUser(reader.id) })).statusCode, 204)
      assert.deepEqual((await timeline(api, reader.id)).items, [], 'gone at once from the read')
      await eventually(() => redis.zcard(`timeline:${reader.id}`), (n) => n === 1, 10_000)
    } finally {
      redis.disconnect()
    }
  })

  test('pages stay stable while new posts arrive', async () => {
    const [reader, author] = [await register(api), await register(api)]
    await follow(api, reader.id, author.id)
    for (let i = 0; i < 7; i++) await post(api, author.id, `p${i}`)
    const seen: string[] = []
    let cursor: string | null = null
    let page = 0
    do {
      const result: Awaited<ReturnType<typeof timeline>> = await timeline(api, reader.id, `?limit=3${cursor ? `&cursor=${cursor}` : ''}`)
      seen.push(...texts(result))
      cursor = result.nextCursor
      await post(api, author.id, `new during page ${page++}`)
    } while (cursor)
    assert.deepEqual(seen, ['p6', 'p5', 'p4', 'p3', 'p2', 'p1', 'p0'])
  })

  test('when a post is delivered twice, then it appears once', async () => {
    const [reader, author] = [await register(api), await register(api)]
    await follow(api, reader.id, author.id)
    await timeline(api, reader.id)
    const p = await post(api, author.id, 'twice')
    await eventually(() => timeline(api, reader.id), (t) => t.items.length === 1)
    const data = { postId: p.id, authorId: author.id, text: 'twice', createdAt: new Date().toISOString() }
    await fanout.fanout.fanOutPost(data)
    await fanout.fanout.fanOutPost(data)
    assert.deepEqual(texts(await timeline(api, reader.id)), ['twice'])
  })

  test('when a timeline is evicted from Redis, then the next read rebuilds it from Postgres', async () => {
    const [reader, author] = [await register(api), await register(api)]
    await follow(api, reader.id, author.id)
    for (let i = 0; i < 3; i++) await post(api, author.id, `kept ${i}`)
    await eventually(() => timeline(api, reader.id), (t) => t.items.length === 3)
    const redis = new Redis(env['REDIS_URL']!, { keyPrefix: env['REDIS_KEY_PREFIX'] })
    await redis.del(`timeline:${reader.id}`)
    redis.disconnect()
    const rebuilds = await counter(api, 'timeline_rebuilds')
    assert.deepEqual(texts(await timeline(api, reader.id)), ['kept 2', 'kept 1', 'kept 0'])
    assert.equal(await counter(api, 'timeline_rebuilds') - rebuilds, 1)
  })

  test('when Redis is unavailable, then home reads come from Postgres, marked degraded and counted, with every post in order', async (t) => {
    const [reader, author, other] = [await register(api), await register(api), await register(api)]
    await follow(api, reader.id, author.id)
    for (let i = 0; i < 3; i++) await post(api, author.id, `from author ${i}`)
    await post(api, other.id, 'not followed')
    await post(api, reader.id, 'my own')
    await eventually(() => timeline(api, reader.id), (page) => page.items.length === 4)
    // The same database, but a Redis nothing listens on.
    const blind = await buildApp(loadConfig('timeline', TimelineConfig, {
      ...env, REDIS_URL: `redis://127.0.0.1:${await freePort()}`, REDIS_COMMAND_TIMEOUT_MS: '100'
    }))
    t.after(() => blind.close())

    const degraded = await counter(blind, 'timeline_degraded_reads')
    const first = await blind.inject({ url: '/api/v1/timeline?limit=2', headers: asUser(reader.id) })
    assert.equal(first.statusCode, 200, first.body)
    assert.equal(first.headers['shortfeed-degraded'], 'redis')
    assert.deepEqual(texts(first.json()), ['my own', 'from author 2'])
    const rest = await blind.inject({ url: `/api/v1/timeline?limit=10&cursor=${first.json().nextCursor}`, headers: asUser(reader.id) })
    assert.equal(rest.statusCode, 200, rest.body)
    assert.deepEqual(texts(rest.json()), ['from author 1', 'from author 0'])
    assert.equal(rest.json().nextCursor, null)
    assert.equal(await counter(blind, 'timeline_degraded_reads') - degraded, 2)
    // With Redis there, nothing says degraded.
    const normal = await api.inject({ url: '/api/v1/timeline', headers: asUser(reader.id) })
    assert.equal(normal.headers['shortfeed-degraded'], undefined)
  })

  test('the timeline needs a user and a valid cursor', async () => {
    assert.equal((await api.inject({ url: '/api/v1/timeline' })).statusCode, 401)
    const reader = await register(api)
    assert.equal((await api.inject({ url: '/api/v1/timeline?cursor=!!', headers: asUser(reader.id) })).statusCode, 400)
    assert.equal((await api.inject({ url: '/api/v1/timeline?limit=1000', headers: asUser(reader.id) })).statusCode, 400)
  })
})
