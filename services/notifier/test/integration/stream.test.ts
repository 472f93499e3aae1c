// Live notifications over Server-Sent Events, through a real socket: delivered within a second
// of the event, across instances (Redis pub/sub), and resumed with Last-Event-ID.
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { Topics } from '@shortfeed/common'
import { asUser, buildNotifier, eventProducer, usersApi } from '../helper.ts'

const users = await usersApi()
const env = { USERS_API_URL: users.url, SSE_HEARTBEAT_MS: '200' }
const writer = await buildNotifier(env)
const events = await eventProducer()

interface SseEvent { id?: string, event?: string, data?: string, comment?: boolean }

/** Opens the stream and parses events as they arrive. */
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
  void (async () => {
    let buffer = ''
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return
        buffer += value
        let end
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const event: SseEvent = {}
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) event.comment = true
            const [field, ...rest] = line.split(': ')
            if (field === 'id' || field === 'event' || field === 'data') event[field] = rest.join(': ')
          }
          received.push(event)
        }
      }
    } catch {}
  })()
  return { received, close: () => { controller.abort() } }
}

async function until (predicate: () => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return true
}

const notificationsIn = (events: SseEvent[]) => events.filter((e) => e.event === 'notification').map((e) => ({ id: e.id!, ...JSON.parse(e.data!) as { text: string } }))

test('a notification reaches an open stream on another instance within a second, heartbeats keep it open, and Last-Event-ID resumes', async () => {
  // The stream is served by a second instance: the event is handled by the first.
  const reader = await buildNotifier({ ...env, NOTIFIER_GROUP: 'unused-by-this-test' })
  await reader.listen({ port: 0, host: '127.0.0.1' })
  const address = reader.server.address()
  const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  const [alice, bob, carol] = [users.add(), users.add(), users.add()]

  const stream = await openStream(baseUrl, bob.id)
  await new Promise((resolve) => setTimeout(resolve, 200))
  const sentAt = Date.now()
  await events.publish(Topics.userFollowed, bob.id, { followerId: alice.id, followeeId: bob.id, at: new Date().toISOString() })
  assert.ok(await until(() => notificationsIn(stream.received).length === 1, 5_000), 'no notification on the stream')
  const latency = Date.now() - sentAt
  assert.ok(latency < 1_000, `arrived after ${latency} ms`)
  const first = notificationsIn(stream.received)[0]!
  assert.equal(first.text, `@${alice.handle} followed you`)
  assert.ok(await until(() => stream.received.some((e) => e.comment), 2_000), 'heartbeats')

  stream.close()
  await events.publish(Topics.userFollowed, bob.id, { followerId: carol.id, followeeId: bob.id, at: new Date().toISOString() })
  const stored = async () => (await writer.inject({ url: '/api/v1/notifications', headers: asUser(bob.id) })).json().items.length
  for (let i = 0; i < 200 && await stored() < 2; i++) await new Promise((resolve) => setTimeout(resolve, 50))

  const resumed = await openStream(baseUrl, bob.id, first.id)
  assert.ok(await until(() => notificationsIn(resumed.received).length === 1, 5_000), 'nothing replayed on resume')
  assert.equal(notificationsIn(resumed.received)[0]!.text, `@${carol.handle} followed you`)
  await new Promise((resolve) => setTimeout(resolve, 300))
  assert.equal(notificationsIn(resumed.received).length, 1, 'only what was missed')
})

test('another user\'s stream does not see my notifications; no identity, no stream', async () => {
  await writer.listen({ port: 0, host: '127.0.0.1' })
  const address = writer.server.address()
  const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  const [a, b, c] = [users.add(), users.add(), users.add()]
  const other = await openStream(baseUrl, c.id)
  await new Promise((resolve) => setTimeout(resolve, 200))
  await events.publish(Topics.userFollowed, b.id, { followerId: a.id, followeeId: b.id, at: new Date().toISOString() })
  for (let i = 0; i < 100 && (await writer.inject({ url: '/api/v1/notifications', headers: asUser(b.id) })).json().items.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50))
  await new Promise((resolve) => setTimeout(resolve, 300))
  assert.equal(notificationsIn(other.received).length, 0)
  assert.equal((await fetch(`${baseUrl}/api/v1/notifications/stream`)).status, 401)
})

test('HEAD on the stream answers its headers at once instead of hanging', async () => {
  if (!writer.server.listening) await writer.listen({ port: 0, host: '127.0.0.1' })
  const address = writer.server.address()
  const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  const response = await fetch(`${baseUrl}/api/v1/notifications/stream`, { method: 'HEAD', headers: asUser(users.add().id), signal: AbortSignal.timeout(5_000) })
  assert.equal(response.status, 200)
  assert.match(String(response.headers.get('content-type')), /^text\/event-stream/)
})
