// Live notifications over Server-Sent Events, through a real socket: delivered across instances
// (Redis pub/sub), kept open by heartbeats, resumed with Last-Event-ID, and private to their
// user. Each test stands alone: it starts what it listens on.
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { Topics } from '@shortfeed/common'
import { createParser } from 'eventsource-parser'
import { testServers, uniqueName } from '@shortfeed/test-harness'
import { Redis } from 'ioredis'
import { liveChannel } from '../../src/channels.ts'
import type { Notification } from '../../src/store.ts'
import { asUser, buildNotifier, eventProducer, eventually, usersApi } from '../helper.ts'

const users = await usersApi()
const env = { USERS_API_URL: users.url, SSE_HEARTBEAT_MS: '200' }
// The instance that consumes the events; streams may be open on it or on another one.
const writer = await buildNotifier(env)
const events = await eventProducer()
// Every test file's events share the topics, so on a loaded machine ours can queue behind many.
const SHARED_TOPICS_MS = 60_000

interface SseEvent { id?: string, event?: string, data?: string, retry?: string, comment?: boolean }
type App = Awaited<ReturnType<typeof buildNotifier>>

/** The app's base URL, listening on a free port (once). */
async function baseUrlOf (app: App): Promise<string> {
  if (!app.server.listening) await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
}

/** Opens the stream, parses events as they arrive, and resolves once the stream is live. */
async function openStream (baseUrl: string, userId: string, lastEventId?: string) {
  const controller = new AbortController()
  after(() => { controller.abort() })
  const response = await fetch(`${baseUrl}/api/v1/notifications/stream`, {
    headers: { ...asUser(userId), ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
    signal: controller.signal
  })
  assert.equal(response.status, 200)
  assert.match(String(response.headers.get('content-type')), /^text\/event-stream/)
  const received: SseEvent[] = []
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  // The parser the web UI reads the stream with (packages/web/src/live.ts).
  const parser = createParser({
    onEvent: (m) => { received.push({ ...(m.id === undefined ? {} : { id: m.id }), ...(m.event === undefined ? {} : { event: m.event }), data: m.data }) },
    onRetry: (ms) => { received.push({ retry: String(ms) }) },
    onComment: () => { received.push({ comment: true }) }
  })
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return
        parser.feed(value)
      }
    } catch {}
  })()
  // The server writes `retry:` once the stream is subscribed: what is published after it arrives.
  await eventually(() => received.some((e) => e.retry !== undefined), (live) => live)
  return {
    received,
    notifications: () => received.filter((e) => e.event === 'notification').map((e) => ({ id: e.id!, ...JSON.parse(e.data!) as { text: string, data: Record<string, unknown> } })),
    close: () => { controller.abort() }
  }
}

const follow = (follower: { id: string }, followee: { id: string }) =>
  events.publish(Topics.userFollowed, followee.id, { followerId: follower.id, followeeId: followee.id, at: new Date().toISOString() })
const stored = async (userId: string) => (await writer.inject({ url: '/api/v1/notifications', headers: asUser(userId) })).json().items.length as number

test('a notification reaches an open stream on another instance, heartbeats keep it open, and Last-Event-ID resumes with only what was missed', async () => {
  // The stream is served by a second instance (its consumer group reads nothing of ours): the
  // event is handled by the first, and crosses to the second through Redis.
  const reader = await buildNotifier({ ...env, NOTIFIER_GROUP: 'unused-by-this-test' })
  const baseUrl = await baseUrlOf(reader)
  const [alice, bob, carol, dave] = [users.add(), users.add(), users.add(), users.add()]

  const stream = await openStream(baseUrl, bob.id)
  await follow(alice, bob)
  await eventually(() => stream.notifications().length, (n) => n === 1, SHARED_TOPICS_MS)
  const first = stream.notifications()[0]!
  assert.equal(first.text, `@${alice.handle} followed you`)
  await eventually(() => stream.received.some((e) => e.comment), (beating) => beating)

  stream.close()
  await follow(carol, bob)
  await eventually(() => stored(bob.id), (n) => n === 2, SHARED_TOPICS_MS)

  const resumed = await openStream(baseUrl, bob.id, first.id)
  await eventually(() => resumed.notifications().length, (n) => n === 1)
  // A live one after the replay: when it has arrived, the replay is over, and it held only what
  // the stream had missed.
  await follow(dave, bob)
  await eventually(() => resumed.notifications().length, (n) => n >= 2, SHARED_TOPICS_MS)
  assert.deepEqual(resumed.notifications().map((n) => n.text), [`@${carol.handle} followed you`, `@${dave.handle} followed you`])
})

test('changes published out of number order (two notifier instances racing) all reach the stream, each once', async () => {
  const prefix = `${uniqueName('live')}:`
  const app = await buildNotifier({ ...env, REDIS_KEY_PREFIX: prefix })
  const erin = users.add()
  const stream = await openStream(await baseUrlOf(app), erin.id)
  const redis = new Redis((await testServers()).redisUrl)
  after(() => { redis.disconnect() })
  const live = liveChannel(redis, prefix)
  const change = (seq: string): Notification => ({
    id: seq,
    type: 'follow',
    text: `change ${seq}`,
    actorIds: [],
    actorCount: 1,
    data: {},
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
    read: false,
    seq
  })
  // Instance B's transaction took number 20 and ended first; instance A's 19 is published after.
  for (const seq of ['20', '19', '20', '21']) await live.deliver(erin.id, change(seq))
  await eventually(() => stream.notifications().length, (n) => n >= 3)
  await new Promise((resolve) => setTimeout(resolve, 300))
  assert.deepEqual(stream.notifications().map((n) => n.id), ['20', '19', '21'])
})

test('another user\'s stream does not see my notifications; no identity, no stream', async () => {
  const baseUrl = await baseUrlOf(writer)
  const [author, b, c] = [users.add(), users.add(), users.add()]
  const other = await openStream(baseUrl, c.id)
  // Two posts by one author (one partition, handled in order): the first mentions b, the second
  // c. When c's stream has the second, b's notification has been through the hub before it.
  for (const [postId, mentioned] of [['1', b], ['2', c]] as const) {
    await events.publish(Topics.postCreated, author.id, { postId, authorId: author.id, createdAt: new Date().toISOString(), text: `hi @${mentioned.handle}` })
  }
  const posts = () => other.notifications().map((n) => n.data['postId'])
  await eventually(posts, (ids) => ids.includes('2'), SHARED_TOPICS_MS)
  assert.deepEqual(posts(), ['2'])
  assert.equal(await stored(b.id), 1, 'b was notified')
  assert.equal((await fetch(`${baseUrl}/api/v1/notifications/stream`)).status, 401)
})

test('HEAD on the stream answers its headers at once instead of hanging', async () => {
  const baseUrl = await baseUrlOf(writer)
  const response = await fetch(`${baseUrl}/api/v1/notifications/stream`, { method: 'HEAD', headers: asUser(users.add().id), signal: AbortSignal.timeout(30_000) })
  assert.equal(response.status, 200)
  assert.match(String(response.headers.get('content-type')), /^text\/event-stream/)
})
