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
import { eventually } from '../harness.ts'
import { outcomeOf } from './api.ts'
import { sharedFaultStack } from './fault-stack.ts'
import { countTally, expectExactlyOnce, tally } from './ledger.ts'
import { countOf } from './load.ts'
import {
  beginCase, expectPostsDelivered, isRetryableProblem, postingLoad, redirectLoad, retryingWrites, seedFeed, seedLinks, underFault
} from './scenarios.ts'

const stack = await sharedFaultStack()

test('when Postgres dies under load and comes back, then cached redirects work, writes get 503 with Retry-After, and each write happens exactly once', async (t) => {
  const { phase, api } = await beginCase(t, stack)
  const feed = await seedFeed(api, { followers: 4 })
  const links = await seedLinks(api, 20)
  const linker = await api.register('pglinker')

  const posting = postingLoad(api, feed, { workers: 2, pauseMs: 50 })
  const shortening = retryingWrites({ workers: 1, pauseMs: 50, write: (_w, i, key) => api.createLink(linker, `https://example.com/pg-outage/${i}/${randomUUID()}`, key) })
  const redirects = redirectLoad(api, links)
  phase('seeded; load running')
  await underFault(phase, { holdMs: 6_000 }, ['postgres killed', () => stack.postgres.kill()], ['postgres back', () => stack.postgres.start()])
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
  expectExactlyOnce(t, 'links accepted after retries', countTally(shortened.attempts, shortened.accepted.length))
  const storedLinks = await stack.db('shortener').query<{ code: string }>('SELECT code FROM links WHERE owner_id = $1', [linker.id])
  expectExactlyOnce(t, 'links stored', tally(shortened.accepted, storedLinks.rows.map((r) => r.code)))

  // Nothing half-written: each stored post's event left the outbox and reached every follower.
  await expectPostsDelivered(t, stack, api, feed, posted.accepted, { mentions: posted.mentions })
  await eventually(async () => (await stack.db('timeline').query<{ n: number }>('SELECT count(*)::int AS n FROM outbox')).rows[0]!.n, (n) => n === 0, 60_000)
  // Every new link redirects once Postgres is back.
  const followed = await Promise.all(shortened.accepted.map((code) => outcomeOf(() => api.redirect(code))))
  expectExactlyOnce(t, 'new links redirect', countTally(shortened.accepted.length, followed.filter((o) => o.status === 302).length))
  phase('checked')
  await stack.ready()
})

test('when Postgres freezes under load and thaws, then cached redirects work, refused writes get the service 503 with Retry-After, and each write happens exactly once', async (t) => {
  const { phase, api } = await beginCase(t, stack)
  const feed = await seedFeed(api, { followers: 3 })
  const links = await seedLinks(api, 10)

  const posting = postingLoad(api, feed, { workers: 2, pauseMs: 50 })
  const redirects = redirectLoad(api, links)
  await underFault(phase, { holdMs: 8_000 }, ['postgres frozen', () => stack.postgres.freeze()], ['postgres thawed', () => stack.postgres.thaw()])
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
  await expectPostsDelivered(t, stack, api, feed, posted.accepted, { mentions: posted.mentions })
  phase('checked')
  await stack.ready()
})
