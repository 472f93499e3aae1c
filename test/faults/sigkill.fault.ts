// Fault: a process killed with SIGKILL in the middle of its work — no shutdown, no commit.
// Guarantees: a consumer killed mid-batch gets its uncommitted messages again after restart and
// handles them idempotently (no post twice on a timeline, no notification twice); the timeline
// API killed while people post loses nothing: a client retrying with its Idempotency-Key gets
// each post exactly once, and the outbox hands every event on after the restart.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sharedFaultStack } from './fault-stack.ts'
import { countTally, expectExactlyOnce } from './ledger.ts'
import { beginCase, expectPostsDelivered, killMidBatch, mentionsNotified, postingLoad, seedFeed, underFault } from './scenarios.ts'

const stack = await sharedFaultStack()

test('when the fan-out worker is killed mid-batch, then after restart every post is on every timeline exactly once', async (t) => {
  const { phase, api } = await beginCase(t, stack)
  const feed = await seedFeed(api, { followers: 5 })
  const pushed = async () => (await stack.db('timeline').query<{ n: number }>('SELECT count(*)::int AS n FROM posts WHERE author_id = $1 AND pushed', [feed.author.id])).rows[0]!.n

  // Frozen while the burst is posted, slowed by latency on its Redis so the kill lands mid-batch.
  const posted = await killMidBatch(stack, phase, {
    service: 'timeline-fanout',
    group: 'timeline-fanout',
    slowed: stack.redis.proxy,
    latencyMs: 30,
    backlog: () => postingLoad(api, feed, { workers: 4, total: 150 }).done(),
    expected: (p) => p.accepted.length,
    done: pushed,
    doneAtLeast: 20,
    what: 'posts pushed'
  })
  await expectPostsDelivered(t, stack, api, feed, posted.accepted)
  assert.equal(await pushed(), posted.accepted.length, 'every post marked pushed')
  phase('checked')
})

test('when the notifier is killed mid-batch, then after restart every @mention has notified exactly once', async (t) => {
  const { phase, api } = await beginCase(t, stack)
  const feed = await seedFeed(api, { followers: 4 })
  const stored = async () => (await stack.db('notifier').query<{ n: number }>(
    'SELECT count(*)::int AS n FROM notifications WHERE recipient_id = ANY($1::text[])', [feed.followers.map((f) => f.id)])).rows[0]!.n

  // Slowed by latency on its Postgres so the kill lands mid-batch.
  const posted = await killMidBatch(stack, phase, {
    service: 'notifier',
    group: 'notifier',
    slowed: stack.postgres.proxy,
    latencyMs: 15,
    backlog: () => postingLoad(api, feed, { workers: 4, total: 100, mentionEvery: 1 }).done(),
    expected: (p) => p.mentions.length,
    done: stored,
    doneAtLeast: 15,
    what: 'notifications stored'
  })
  expectExactlyOnce(t, '@mentions notified', await mentionsNotified(api, feed, posted.mentions))
  const redelivered = await stack.counter('notifier', 'notifier_duplicate_events')
  t.diagnostic(`redelivered mentions recognised as duplicates by the restarted notifier: ${redelivered}`)
  assert.ok(redelivered > 0, 'the restarted notifier saw redelivered events and dropped them')
  phase('checked')
})

test('when the timeline API is killed while people post, then each post retried with its key exists once and reaches every follower', async (t) => {
  const { phase, api } = await beginCase(t, stack)
  const feed = await seedFeed(api, { followers: 4 })
  const timeline = stack.service('timeline')

  const posting = postingLoad(api, feed, { workers: 3, pauseMs: 30 })
  const kill = async () => {
    timeline.process.signalGroup('SIGKILL')
    await timeline.process.exited
  }
  await underFault(phase, { holdMs: 2_000, recoverMs: 2_000 }, ['timeline API killed', kill], ['timeline API restarted', () => timeline.restart()])
  const posted = await posting.stop()
  phase('load stopped')
  t.diagnostic(`answers: ${JSON.stringify(posted.byStatus)}`)
  assert.ok(posted.firstTry < posted.attempts, 'some posts were refused while the API was down')

  expectExactlyOnce(t, 'posts accepted after retries', countTally(posted.attempts, posted.accepted.length))
  await expectPostsDelivered(t, stack, api, feed, posted.accepted, { mentions: posted.mentions })
  phase('checked')
  await stack.ready()
})
