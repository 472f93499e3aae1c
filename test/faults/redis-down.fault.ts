// Fault: Redis dies (SIGKILL) while redirects, posts and timeline reads flow, and comes back
// empty (it keeps nothing on disk). Guarantees: redirects are served from Postgres and never
// fail; rate limiting fails open (counted) instead of refusing; posting never notices; home
// timeline reads are served from Postgres (200, marked degraded); after recovery the home
// timelines are rebuilt from Postgres with every post exactly once, and every @mention has
// notified once.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { outcomeOf } from './api.ts'
import { sharedFaultStack } from './fault-stack.ts'
import { countTally, expectExactlyOnce } from './ledger.ts'
import { countOf, startLoad } from './load.ts'
import { beginCase, expectPostsDelivered, postingLoad, redirectLoad, seedFeed, seedLinks, underFault } from './scenarios.ts'

const stack = await sharedFaultStack()

test('when Redis dies under load and comes back empty, then redirects, posts and timeline reads go on, limits fail open, and timelines are rebuilt with every post once', async (t) => {
  const { phase, api } = await beginCase(t, stack)
  const feed = await seedFeed(api, { followers: 4 })
  const links = await seedLinks(api, 20)
  const failOpenBefore = await stack.counter('gateway', 'gateway_ratelimit_fail_open')
  const rebuildsBefore = await stack.counter('timeline', 'timeline_rebuilds')
  const degradedBefore = await stack.counter('timeline', 'timeline_degraded_reads')

  const posting = postingLoad(api, feed, { workers: 2, pauseMs: 50 })
  const redirects = redirectLoad(api, links)
  const reads = startLoad({ workers: 1, pauseMs: 100, step: (_w, i) => outcomeOf(() => api.request('GET', '/api/v1/timeline', { token: feed.followers[i % feed.followers.length]!.token })) })
  phase('seeded; load running')
  await underFault(phase, { holdMs: 6_000 }, ['redis killed', () => stack.redis.kill()], ['redis back, empty', () => stack.redis.start()])
  const posted = await posting.stop()
  const redirected = await redirects.stop()
  const read = await reads.stop()
  phase('load stopped')

  expectExactlyOnce(t, 'redirects answered 302', countTally(redirected.sent, countOf(redirected, 302)), JSON.stringify(redirected.byStatus))
  expectExactlyOnce(t, 'posts accepted at the first try', countTally(posted.attempts, posted.firstTry), JSON.stringify(posted.byStatus))
  // Postgres has every post and follow: reads go on without Redis, served degraded.
  expectExactlyOnce(t, 'timeline reads answered 200', countTally(read.sent, countOf(read, 200)), JSON.stringify(read.byStatus))
  const degraded = await stack.counter('timeline', 'timeline_degraded_reads') - degradedBefore
  t.diagnostic(`home reads served from Postgres alone while Redis was gone: ${degraded}`)
  assert.ok(degraded > 0, 'reads during the outage were served degraded')
  const failOpen = await stack.counter('gateway', 'gateway_ratelimit_fail_open') - failOpenBefore
  t.diagnostic(`rate-limit decisions taken locally while Redis was gone: ${failOpen}`)
  assert.ok(failOpen > 0, 'the limiter failed open during the outage')

  await expectPostsDelivered(t, stack, api, feed, posted.accepted, { readFirst: true, mentions: posted.mentions })
  assert.ok(await stack.counter('timeline', 'timeline_rebuilds') - rebuildsBefore >= feed.followers.length, 'each follower\'s timeline was rebuilt')
  phase('checked')
  await stack.ready()
})
