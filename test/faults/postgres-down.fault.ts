// Fault: Postgres dies (SIGKILL to every Postgres process) while redirects, posts and new links
// flow, and comes back (crash recovery). Guarantees: cached redirects keep working; every write
// refused meanwhile gets a 503 problem with Retry-After (never a 500, 502 or 504); a client that
// retries with its Idempotency-Key gets each write done exactly once; nothing is half-written
// (no post without its event, no row for a write that was refused), and after recovery every
// post reaches every follower's timeline once. A frozen Postgres (SIGSTOP: connections stay
// open, nothing answers) is the harder variant: only the service's client-side timeouts end
// the wait (a 503, before the gateway's 504), a write refused so may still complete after the
// thaw, and the client's retry with the same key must then find it, not write it again.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { eventually } from '../harness.ts'
import { createApi, outcomeOf } from './api.ts'
import { sharedFaultStack } from './fault-stack.ts'
import { countTally, expectExactlyOnce, phaseClock, tally } from './ledger.ts'
import { countOf, startLoad } from './load.ts'
import { isRetryableProblem, mentionsNotified, postingLoad, postsReachedTimelines, retryingWrites, seedFeed, seedLinks } from './scenarios.ts'

const stack = await sharedFaultStack()

test('when Postgres dies under load and comes back, then cached redirects work, writes get 503 with Retry-After, and each write happens exactly once', async (t) => {
  await stack.ready()
  const phase = phaseClock(t)
  const api = createApi(stack.gatewayUrl)
  const feed = await seedFeed(api, { followers: 4 })
  const links = await seedLinks(api, 20)
  const linker = await api.register('pglinker')

  const posting = postingLoad(api, feed, { workers: 2, pauseMs: 50 })
  const shortening = retryingWrites({ workers: 1, pauseMs: 50, write: (_w, i, key) => api.createLink(linker, `https://example.com/pg-outage/${i}/${randomUUID()}`, key) })
  const redirects = startLoad({ workers: 2, pauseMs: 20, step: (w, i) => outcomeOf(() => api.redirect(links.codes[(w * 7 + i) % links.codes.length]!)) })
  phase('seeded; load running')
  await delay(2_000)
  await stack.postgres.kill()
  phase('postgres killed')
  await delay(6_000)
  await stack.postgres.start()
  phase('postgres back')
  await delay(3_000)
  const posted = await posting.stop()
  const shortened = await shortening.stop()
  const redirected = await redirects.stop()
  phase('load stopped')

  expectExactlyOnce(t, 'cached redirects answered 302', countTally(redirected.sent, countOf(redirected, 302)), JSON.stringify(redirected.byStatus))
  const refusals = [...posted.refusals, ...shortened.refusals]
  assert.ok(refusals.length > 0, 'writes were refused during the outage')
  expectExactlyOnce(t, 'refused writes answered 503 problem + Retry-After', countTally(refusals.length, refusals.filter(isRetryableProblem).length),
    `posts ${JSON.stringify(posted.byStatus)}, links ${JSON.stringify(shortened.byStatus)}`)

  // Exactly once: each write the load set out to make exists once, and nothing else does.
  expectExactlyOnce(t, 'posts accepted after retries', countTally(posted.attempts, posted.accepted.length))
  const stored = await stack.db('timeline').query<{ id: string }>('SELECT id FROM posts WHERE author_id = $1', [feed.author.id])
  expectExactlyOnce(t, 'posts stored', tally(posted.accepted, stored.rows.map((r) => r.id)))
  expectExactlyOnce(t, 'links accepted after retries', countTally(shortened.attempts, shortened.accepted.length))
  const storedLinks = await stack.db('shortener').query<{ code: string }>('SELECT code FROM links WHERE owner_id = $1', [linker.id])
  expectExactlyOnce(t, 'links stored', tally(shortened.accepted, storedLinks.rows.map((r) => r.code)))

  // Nothing half-written: each stored post's event left the outbox and reached every follower.
  const reached = await postsReachedTimelines(stack, api, feed, posted.accepted)
  expectExactlyOnce(t, 'posts on followers\' Redis timelines', reached.redis)
  expectExactlyOnce(t, 'posts in followers\' home timelines', reached.api)
  expectExactlyOnce(t, '@mentions notified', await mentionsNotified(api, feed, posted.mentions))
  await eventually(async () => (await stack.db('timeline').query<{ n: number }>('SELECT count(*)::int AS n FROM outbox')).rows[0]!.n, (n) => n === 0, 60_000)
  // Every new link redirects once Postgres is back.
  const followed = await Promise.all(shortened.accepted.map((code) => outcomeOf(() => api.redirect(code))))
  expectExactlyOnce(t, 'new links redirect', countTally(shortened.accepted.length, followed.filter((o) => o.status === 302).length))
  phase('checked')
  await stack.ready()
})

test('when Postgres freezes under load and thaws, then cached redirects work, refused writes get the service 503 with Retry-After, and each write happens exactly once', async (t) => {
  await stack.ready()
  const phase = phaseClock(t)
  const api = createApi(stack.gatewayUrl)
  const feed = await seedFeed(api, { followers: 3 })
  const links = await seedLinks(api, 10)

  const posting = postingLoad(api, feed, { workers: 2, pauseMs: 50 })
  const redirects = startLoad({ workers: 2, pauseMs: 20, step: (w, i) => outcomeOf(() => api.redirect(links.codes[(w * 3 + i) % links.codes.length]!)) })
  await delay(2_000)
  stack.postgres.freeze()
  phase('postgres frozen')
  await delay(8_000)
  stack.postgres.thaw()
  phase('postgres thawed')
  await delay(3_000)
  const posted = await posting.stop()
  const redirected = await redirects.stop()
  phase('load stopped')

  expectExactlyOnce(t, 'cached redirects answered 302', countTally(redirected.sent, countOf(redirected, 302)), JSON.stringify(redirected.byStatus))
  // A frozen database answers nothing; the service's own client-side query timeout runs out
  // before the gateway's upstream timeout, so the client hears the service's 503, not a 504.
  const refusals = posted.refusals
  assert.ok(refusals.length > 0, 'posts were refused while Postgres was frozen')
  expectExactlyOnce(t, 'refused posts answered 503 problem + Retry-After', countTally(refusals.length, refusals.filter(isRetryableProblem).length),
    JSON.stringify(posted.byStatus))
  expectExactlyOnce(t, 'posts accepted after retries', countTally(posted.attempts, posted.accepted.length))
  const stored = await stack.db('timeline').query<{ id: string }>('SELECT id FROM posts WHERE author_id = $1', [feed.author.id])
  expectExactlyOnce(t, 'posts stored', tally(posted.accepted, stored.rows.map((r) => r.id)))
  const reached = await postsReachedTimelines(stack, api, feed, posted.accepted)
  expectExactlyOnce(t, 'posts in followers\' home timelines', reached.api)
  expectExactlyOnce(t, '@mentions notified', await mentionsNotified(api, feed, posted.mentions))
  phase('checked')
  await stack.ready()
})
