// Fan-out over many keyset pages: with two followers per page, a post must reach every active
// follower whatever page they fall on, and skip the inactive ones between them.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Redis } from 'ioredis'
import { buildStack, eventually, fanoutLag, follow, post, register, timeline } from '../helper.ts'

const { api, env } = await buildStack({ FANOUT_BATCH_SIZE: '2', CELEBRITY_FOLLOWER_THRESHOLD: '1000' })

test('when followers span many pages, then every active one gets the post and no inactive one does', async () => {
  const author = await register(api)
  const followers = []
  for (let i = 0; i < 9; i++) {
    const follower = await register(api)
    await follow(api, follower.id, author.id)
    await timeline(api, follower.id) // builds the Redis timeline
    followers.push(follower)
  }
  // The follows' backfills first: one handled after the post exists would push the post to its
  // follower as it should, whatever the activity below says.
  await eventually(fanoutLag(env), (n) => n === 0)
  // Every third follower has been away longer than FANOUT_INACTIVE_DAYS (7 by default).
  const inactive = followers.filter((_, i) => i % 3 === 1)
  await api.pg.query("UPDATE users SET last_active_at = now() - interval '30 days' WHERE id = ANY($1::bigint[])", [inactive.map((f) => f.id)])
  const active = followers.filter((f) => !inactive.includes(f))

  const p = await post(api, author.id, 'to every page')
  await eventually(async () => (await api.pg.query('SELECT pushed FROM posts WHERE id = $1', [p.id])).rows[0].pushed, (v) => v === true)

  const redis = new Redis(env['REDIS_URL']!, { keyPrefix: env['REDIS_KEY_PREFIX'] })
  try {
    const scores = await Promise.all(followers.map((f) => redis.zscore(`timeline:${f.id}`, p.id)))
    assert.deepEqual(
      followers.map((f, i) => ({ handle: f.handle, pushed: scores[i] !== null })),
      followers.map((f) => ({ handle: f.handle, pushed: active.includes(f) })))
  } finally {
    redis.disconnect()
  }
})
