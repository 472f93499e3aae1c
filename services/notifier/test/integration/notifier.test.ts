// The notifier against real Kafka, Postgres and Redis: each event type, duplicates,
// preferences, grouping under a burst, a failing message to the DLQ and back, isolation.
import assert from 'node:assert/strict'
import { afterEach, describe, test } from 'node:test'
import { createEvent, replayDeadLetters, Topics } from '@shortfeed/common'
import { asUser, buildNotifier, eventProducer, eventually, usersApi } from '../helper.ts'

const users = await usersApi()
const app = await buildNotifier({ USERS_API_URL: users.url, GROUP_AFTER: '3', KAFKA_HANDLER_ATTEMPTS: '2' })
const events = await eventProducer()

type Page = { items: Array<{ id: string, type: string, text: string, actorCount: number, read: boolean }>, unreadCount: number, nextCursor: string | null }
const list = async (userId: string, query = ''): Promise<Page> => (await app.inject({ url: `/api/v1/notifications${query}`, headers: asUser(userId) })).json()
const follow = (follower: { id: string }, followee: { id: string }) =>
  events.publish(Topics.userFollowed, followee.id, { followerId: follower.id, followeeId: followee.id, at: new Date().toISOString() })

describe('notifications from events', () => {
  // A test that breaks the users API puts it right even when it fails: left broken, it would
  // hold every later test's events in the consumer's outage wait.
  afterEach(() => {
    users.state.unavailable = false
    users.state.failing = false
  })

  test('when someone follows you, then "@them followed you", unread until marked read', async () => {
    const [alice, bob] = [users.add(), users.add()]
    await follow(alice, bob)
    const page = await eventually(() => list(bob.id), (p) => p.items.length === 1)
    assert.equal(page.items[0]!.text, `@${alice.handle} followed you`)
    assert.equal(page.unreadCount, 1)
    const marked = await app.inject({ method: 'POST', url: '/api/v1/notifications/read', headers: asUser(bob.id), payload: { ids: [page.items[0]!.id] } })
    assert.deepEqual(marked.json(), { marked: 1, unreadCount: 0 })
    assert.equal((await list(bob.id)).items[0]!.read, true)
  })

  test('when a post mentions existing users, then each of them (not the author, not strangers) is told once', async () => {
    const [author, bob, carol] = [users.add(), users.add(), users.add()]
    await events.publish(Topics.postCreated, author.id, {
      postId: '1',
      authorId: author.id,
      createdAt: new Date().toISOString(),
      text: `hi @${bob.handle} and @${bob.handle.toUpperCase()}, @${carol.handle}, @nobody_known and me @${author.handle}`
    })
    for (const user of [bob, carol]) {
      const page = await eventually(() => list(user.id), (p) => p.items.length === 1)
      assert.equal(page.items[0]!.text, `@${author.handle} mentioned you`)
    }
    // The author's next post (same key, so handled after the first) is the sentinel: once its
    // mention is stored, nothing more can come of the first post.
    const sentinel = users.add()
    await events.publish(Topics.postCreated, author.id, { postId: '2', authorId: author.id, createdAt: new Date().toISOString(), text: `@${sentinel.handle}` })
    await eventually(() => list(sentinel.id), (p) => p.items.length === 1)
    assert.equal((await list(bob.id)).items.length, 1)
    assert.equal((await list(author.id)).items.length, 0)
  })

  test('when a link reaches a milestone, then its owner hears of it', async () => {
    const owner = users.add()
    await events.publish(Topics.urlMilestone, owner.id, { code: 'abc1234', ownerId: owner.id, clicks: 1000 })
    const page = await eventually(() => list(owner.id), (p) => p.items.length === 1)
    assert.equal(page.items[0]!.text, 'Your link /abc1234 reached 1,000 clicks')
    assert.equal(page.items[0]!.type, 'milestone')
  })

  test('when the same event arrives twice, then one notification', async () => {
    const [a, b] = [users.add(), users.add()]
    const event = createEvent(Topics.userFollowed, { followerId: a.id, followeeId: b.id, at: new Date().toISOString() }, { source: 'test' })
    await events.publish(Topics.userFollowed, b.id, undefined, event)
    await events.publish(Topics.userFollowed, b.id, undefined, event)
    // A follow from someone else, behind both copies on b's partition: when it is stored, both
    // copies have been handled.
    const sentinel = users.add()
    await follow(sentinel, b)
    const page = await eventually(() => list(b.id), (p) => p.items.some((n) => n.text === `@${sentinel.handle} followed you`))
    assert.deepEqual(page.items.map((n) => n.text), [`@${sentinel.handle} followed you`, `@${a.handle} followed you`])
  })

  test('when a type is muted, then its notifications are not stored; unmuted, they come back', async () => {
    const [a, b, c] = [users.add(), users.add(), users.add()]
    const mute = await app.inject({ method: 'PUT', url: '/api/v1/notifications/preferences', headers: asUser(b.id), payload: { muted: ['follow'] } })
    assert.deepEqual(mute.json(), { muted: ['follow'] })
    const muted = await follow(a, b)
    await events.publish(Topics.urlMilestone, b.id, { code: 'zzz', ownerId: b.id, clicks: 100 })
    // The muted follow was handled (its id is remembered) and stored nothing.
    await eventually(async () => (await app.pg.query('SELECT 1 FROM processed_events WHERE event_id = $1', [muted.id])).rowCount, (n) => n === 1)
    const page = await eventually(() => list(b.id), (p) => p.items.length === 1)
    assert.equal(page.items[0]!.type, 'milestone')
    await app.inject({ method: 'PUT', url: '/api/v1/notifications/preferences', headers: asUser(b.id), payload: { muted: [] } })
    await follow(c, b)
    await eventually(() => list(b.id), (p) => p.items.length === 2)
    assert.equal((await app.inject({ method: 'PUT', url: '/api/v1/notifications/preferences', headers: asUser(b.id), payload: { muted: ['spam'] } })).statusCode, 400)
  })

  test('when a burst of follows arrives, then past three they fold into "@x and N others followed you"', async () => {
    const star = users.add()
    const fans = Array.from({ length: 10 }, () => users.add())
    for (const fan of fans) await follow(fan, star)
    const page = await eventually(() => list(star.id), (p) => p.items.reduce((n, i) => n + i.actorCount, 0) === 10)
    assert.equal(page.items.length, 3)
    const grouped = page.items[0]!
    assert.equal(grouped.actorCount, 8)
    assert.match(grouped.text, /^@\w+ and 7 others followed you$/)
  })

  const dlqEnd = async () => {
    const admin = events.kafka.admin()
    await admin.connect()
    const offsets = await admin.fetchTopicOffsets(`${Topics.userFollowed}.dlq`)
    await admin.disconnect()
    return offsets.reduce((n, o) => n + Number(o.high), 0)
  }

  test('when the users API is down, then the message waits and is retried, never dead-lettered, and handled once it is back', async () => {
    const [a, b] = [users.add(), users.add()]
    const before = await dlqEnd()
    users.state.unavailable = true
    await follow(a, b)
    // Three times the attempts after which a failing message would be dead-lettered.
    const lookups = () => users.state.requests.filter((url) => url.endsWith(`/${a.id}`)).length
    await eventually(lookups, (n) => n >= 6, 90_000)
    assert.equal(await dlqEnd(), before, 'an outage dead-letters nothing')
    users.state.unavailable = false
    const page = await eventually(() => list(b.id), (p) => p.items.length === 1)
    assert.equal(page.items[0]!.text, `@${a.handle} followed you`)
    assert.equal(await dlqEnd(), before)
  })

  test('when handling keeps failing, then the message goes to the DLQ; replayed after the fix, it is handled', async () => {
    const [a, b] = [users.add(), users.add()]
    const before = await dlqEnd()
    users.state.failing = true
    await follow(a, b)
    await eventually(dlqEnd, (n) => n > before, 30_000)
    assert.equal((await list(b.id)).items.length, 0)
    users.state.failing = false
    assert.ok(await replayDeadLetters(events.kafka, events.producer, Topics.userFollowed) >= 1)
    const page = await eventually(() => list(b.id), (p) => p.items.length === 1)
    assert.equal(page.items[0]!.text, `@${a.handle} followed you`)
  })

  test('the list pages newest first with a cursor, and everything up to an id can be marked read', async () => {
    const owner = users.add()
    for (let clicks = 100; clicks <= 500; clicks += 100) await events.publish(Topics.urlMilestone, owner.id, { code: `c${clicks}`, ownerId: owner.id, clicks })
    await eventually(() => list(owner.id), (p) => p.items.length === 5)
    const first = await list(owner.id, '?limit=2')
    const second = await list(owner.id, `?limit=2&cursor=${first.nextCursor}`)
    const third = await list(owner.id, `?limit=2&cursor=${second.nextCursor}`)
    const ids = [...first.items, ...second.items, ...third.items].map((n) => n.id)
    assert.equal(new Set(ids).size, 5)
    assert.deepEqual(ids, [...ids].sort((a, b) => Number(b) - Number(a)))
    assert.equal(third.nextCursor, null)
    // "Up to" an id: that one and every older one.
    const marked = await app.inject({ method: 'POST', url: '/api/v1/notifications/read', headers: asUser(owner.id), payload: { upToId: second.items[0]!.id } })
    assert.deepEqual(marked.json(), { marked: 3, unreadCount: 2 })
    assert.equal((await app.inject({ method: 'POST', url: '/api/v1/notifications/read', headers: asUser(owner.id), payload: {} })).statusCode, 400)
    // Only unknown fields: dropped by the validator, and still nothing to mark.
    const unknownOnly = await app.inject({ method: 'POST', url: '/api/v1/notifications/read', headers: asUser(owner.id), payload: { userId: owner.id } })
    assert.equal(unknownOnly.statusCode, 400)
    assert.equal(unknownOnly.json().code, 'NOTIFIER_NOTHING_TO_MARK')
    assert.equal((await app.inject({ url: '/api/v1/notifications?cursor=bad!', headers: asUser(owner.id) })).statusCode, 400)
    // Ids past Postgres bigint are refused before any query.
    const beyond = '9999999999999999999'
    assert.equal((await app.inject({ method: 'POST', url: '/api/v1/notifications/read', headers: asUser(owner.id), payload: { upToId: beyond } })).statusCode, 400)
    assert.equal((await app.inject({ method: 'POST', url: '/api/v1/notifications/read', headers: asUser(owner.id), payload: { ids: [beyond] } })).statusCode, 400)
    assert.equal((await app.inject({ url: `/api/v1/notifications?cursor=${Buffer.from(`v1:${beyond}`).toString('base64url')}`, headers: asUser(owner.id) })).statusCode, 400)
  })

  test('a user sees only their own notifications and can only mark their own read', async () => {
    const [a, b, c] = [users.add(), users.add(), users.add()]
    await follow(a, b)
    const page = await eventually(() => list(b.id), (p) => p.items.length === 1)
    assert.equal((await list(c.id)).items.length, 0)
    const theft = await app.inject({ method: 'POST', url: '/api/v1/notifications/read', headers: asUser(c.id), payload: { ids: [page.items[0]!.id] } })
    assert.equal(theft.json().marked, 0)
    assert.equal((await list(b.id)).unreadCount, 1)
    assert.equal((await app.inject({ url: '/api/v1/notifications' })).statusCode, 401)
  })
})
