// Fault: SIGTERM (a deploy, a scale-down) while requests are in flight. Guarantee: the process
// stops taking new connections, and every request it had already taken completes with its
// normal answer before it exits. The requests are provably in flight when the signal lands:
// the fault proxies hold them (a black hole in front of the gateway's upstreams, latency in
// front of Postgres) and count them as they pass.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { connect } from 'node:net'
import { test } from 'node:test'
import { eventually } from '../harness.ts'
import { outcomeOf, type Api, type Outcome, type User } from './api.ts'
import { sharedFaultStack, type ServiceName } from './fault-stack.ts'
import { countTally, expectExactlyOnce } from './ledger.ts'
import { beginCase, expectPostsDelivered, seedFeed, seedLinks } from './scenarios.ts'

const stack = await sharedFaultStack()

/** Resolves once the service refuses new connections: it has begun shutting down. */
async function refusesConnections (name: ServiceName) {
  const port = Number(new URL(stack.service(name).url).port)
  await eventually(() => new Promise<boolean>((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' })
    socket.once('connect', () => { socket.destroy(); resolve(false) })
    socket.once('error', () => { resolve(true) })
  }), (refused) => refused, 30_000)
}

/** A post whose outcome keeps the id, so the stored posts can be matched with the answers. */
async function postOutcome (api: Api, author: User, text: string): Promise<Outcome & { id?: string }> {
  try {
    const answer = await api.post(author, text, randomUUID())
    return { status: answer.status, ...(answer.body?.id ? { id: answer.body.id } : {}) }
  } catch (err) {
    return { status: 0, error: (err as Error).message }
  }
}

test('when the gateway gets SIGTERM with requests in flight, then every one of them completes', async (t) => {
  const { phase, api } = await beginCase(t, stack)
  const feed = await seedFeed(api, { followers: 3 })
  const links = await seedLinks(api, 10)
  const gateway = stack.service('gateway')
  const upstreams = [stack.upstreamProxy('shortener'), stack.upstreamProxy('timeline')]
  const forwarded = upstreams.map((p) => p.watchToTarget('HTTP/1.1\r\n'))

  for (const proxy of upstreams) proxy.blackhole()
  const redirects = links.codes.map((code) => outcomeOf(() => api.redirect(code)))
  const posts = Array.from({ length: 10 }, (_, i) => postOutcome(api, feed.author, `in flight at SIGTERM ${i}`))
  const sent = redirects.length + posts.length
  await eventually(async () => forwarded.reduce((sum, count) => sum + count(), 0), (n) => n >= sent, 30_000)
  phase(`${sent} requests in flight in the gateway`)
  gateway.process.signalGroup('SIGTERM')
  await refusesConnections('gateway')
  phase('gateway draining: new connections refused')
  for (const proxy of upstreams) proxy.heal()

  const redirected = await Promise.all(redirects)
  const answered = await Promise.all(posts)
  const exitCode = await gateway.process.exited
  phase(`gateway exited with ${exitCode}`)
  expectExactlyOnce(t, 'in-flight redirects answered 302', countTally(redirects.length, redirected.filter((o) => o.status === 302).length), JSON.stringify(redirected.map((o) => o.status)))
  expectExactlyOnce(t, 'in-flight posts answered 201', countTally(posts.length, answered.filter((o) => o.status === 201).length), JSON.stringify(answered.map((o) => o.status)))
  assert.equal(exitCode, 0, 'the gateway exited cleanly')

  await gateway.restart()
  phase('gateway restarted')
  await expectPostsDelivered(t, stack, api, feed, answered.flatMap((o) => o.id ? [o.id] : []))
  await stack.ready()
})

test('when the timeline API gets SIGTERM with posts in flight, then every one of them is stored, answered 201 and delivered', async (t) => {
  const { phase, api } = await beginCase(t, stack)
  const feed = await seedFeed(api, { followers: 3 })
  const timeline = stack.service('timeline')
  // The first query of POST /posts (loading the author): once each request has sent it, each is
  // inside its handler. Latency on Postgres keeps them there for a while.
  const authorLookups = stack.postgres.proxy.watchToTarget('SELECT * FROM users WHERE id = $1')
  stack.postgres.proxy.latency(100)
  const posts = Array.from({ length: 8 }, (_, i) => postOutcome(api, feed.author, `in flight at SIGTERM ${i}`))
  await eventually(async () => authorLookups(), (n) => n >= posts.length, 30_000)
  phase(`${posts.length} posts in flight in the timeline API`)
  timeline.process.signalGroup('SIGTERM')
  await refusesConnections('timeline')
  phase('timeline API draining: new connections refused')
  stack.postgres.proxy.heal()

  const answered = await Promise.all(posts)
  const exitCode = await timeline.process.exited
  phase(`timeline API exited with ${exitCode}`)
  expectExactlyOnce(t, 'in-flight posts answered 201', countTally(posts.length, answered.filter((o) => o.status === 201).length), JSON.stringify(answered.map((o) => o.status)))
  assert.equal(exitCode, 0, 'the timeline API exited cleanly')

  await timeline.restart()
  phase('timeline API restarted')
  await expectPostsDelivered(t, stack, api, feed, answered.flatMap((o) => o.id ? [o.id] : []))
  await stack.ready()
})
