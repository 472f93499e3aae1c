// Fault: a process killed with SIGKILL in the middle of its work — no shutdown, no commit.
// Guarantees: a consumer killed mid-batch gets its uncommitted messages again after restart and
// handles them idempotently (no post twice on a timeline, no notification twice); the timeline
// API killed while people post loses nothing: a client retrying with its Idempotency-Key gets
// each post exactly once, and the outbox hands every event on after the restart.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { eventually } from '../harness.ts'
import { createApi } from './api.ts'
import { sharedFaultStack } from './fault-stack.ts'
import { countTally, expectExactlyOnce, phaseClock, tally } from './ledger.ts'
import { mentionsNotified, postingLoad, postsReachedTimelines, seedFeed } from './scenarios.ts'

const stack = await sharedFaultStack()

test('when the fan-out worker is killed mid-batch, then after restart every post is on every timeline exactly once', async (t) => {
  await stack.ready()
  const phase = phaseClock(t)
  const api = createApi(stack.gatewayUrl)
  const feed = await seedFeed(api, { followers: 5 })
  const fanout = stack.service('timeline-fanout')
  const pushed = async () => (await stack.db('timeline').query<{ n: number }>('SELECT count(*)::int AS n FROM posts WHERE author_id = $1 AND pushed', [feed.author.id])).rows[0]!.n

  // A backlog to chew on: the worker is frozen while the burst is posted, then slowed down by
  // latency on its Redis so that killing it lands in the middle of the batch.
  fanout.process.signalGroup('SIGSTOP')
  const posted = await postingLoad(api, feed, { workers: 4, total: 150 }).done()
  phase(`${posted.accepted.length} posts waiting for fan-out`)
  stack.redis.proxy.latency(30)
  fanout.process.signalGroup('SIGCONT')
  await eventually(pushed, (n) => n >= 20, 60_000)
  fanout.process.signalGroup('SIGKILL')
  await fanout.process.exited
  const done = await pushed()
  const uncommitted = await stack.uncommitted('timeline-fanout', 'post.created')
  phase(`fan-out killed with ${done} posts pushed and ${uncommitted} messages uncommitted`)
  assert.ok(done < posted.accepted.length, 'killed before the batch was done')
  assert.ok(uncommitted > posted.accepted.length - done, 'some pushed posts were not committed: they are delivered again')
  stack.redis.proxy.heal()
  await fanout.restart()
  phase('fan-out restarted')

  const reached = await postsReachedTimelines(stack, api, feed, posted.accepted)
  expectExactlyOnce(t, 'posts on followers\' Redis timelines', reached.redis)
  expectExactlyOnce(t, 'posts in followers\' home timelines', reached.api)
  assert.equal(await pushed(), posted.accepted.length, 'every post marked pushed')
  phase('checked')
})

test('when the notifier is killed mid-batch, then after restart every @mention has notified exactly once', async (t) => {
  await stack.ready()
  const phase = phaseClock(t)
  const api = createApi(stack.gatewayUrl)
  const feed = await seedFeed(api, { followers: 4 })
  const notifier = stack.service('notifier')
  const stored = async () => (await stack.db('notifier').query<{ n: number }>(
    'SELECT count(*)::int AS n FROM notifications WHERE recipient_id = ANY($1::text[])', [feed.followers.map((f) => f.id)])).rows[0]!.n

  notifier.process.signalGroup('SIGSTOP')
  const posted = await postingLoad(api, feed, { workers: 4, total: 100, mentionEvery: 1 }).done()
  phase(`${posted.mentions.length} mentions waiting for the notifier`)
  stack.postgres.proxy.latency(15)
  notifier.process.signalGroup('SIGCONT')
  await eventually(stored, (n) => n >= 15, 60_000)
  notifier.process.signalGroup('SIGKILL')
  await notifier.process.exited
  const done = await stored()
  const uncommitted = await stack.uncommitted('notifier', 'post.created')
  phase(`notifier killed with ${done} notifications stored and ${uncommitted} messages uncommitted`)
  assert.ok(done < posted.mentions.length, 'killed before the batch was done')
  assert.ok(uncommitted > posted.mentions.length - done, 'some handled mentions were not committed: they are delivered again')
  stack.postgres.proxy.heal()
  await notifier.restart()
  phase('notifier restarted')

  expectExactlyOnce(t, '@mentions notified', await mentionsNotified(api, feed, posted.mentions))
  const redelivered = await stack.counter('notifier', 'notifier_duplicate_events')
  t.diagnostic(`redelivered mentions recognised as duplicates by the restarted notifier: ${redelivered}`)
  assert.ok(redelivered > 0, 'the restarted notifier saw redelivered events and dropped them')
  phase('checked')
})

test('when the timeline API is killed while people post, then each post retried with its key exists once and reaches every follower', async (t) => {
  await stack.ready()
  const phase = phaseClock(t)
  const api = createApi(stack.gatewayUrl)
  const feed = await seedFeed(api, { followers: 4 })
  const timeline = stack.service('timeline')

  const posting = postingLoad(api, feed, { workers: 3, pauseMs: 30 })
  await delay(2_000)
  timeline.process.signalGroup('SIGKILL')
  await timeline.process.exited
  phase('timeline API killed')
  await delay(2_000)
  await timeline.restart()
  phase('timeline API restarted')
  await delay(2_000)
  const posted = await posting.stop()
  phase('load stopped')
  t.diagnostic(`answers: ${JSON.stringify(posted.byStatus)}`)
  assert.ok(posted.firstTry < posted.attempts, 'some posts were refused while the API was down')

  expectExactlyOnce(t, 'posts accepted after retries', countTally(posted.attempts, posted.accepted.length))
  const stored = await stack.db('timeline').query<{ id: string }>('SELECT id FROM posts WHERE author_id = $1', [feed.author.id])
  expectExactlyOnce(t, 'posts stored', tally(posted.accepted, stored.rows.map((r) => r.id)))
  const reached = await postsReachedTimelines(stack, api, feed, posted.accepted)
  expectExactlyOnce(t, 'posts on followers\' Redis timelines', reached.redis)
  expectExactlyOnce(t, 'posts in followers\' home timelines', reached.api)
  expectExactlyOnce(t, '@mentions notified', await mentionsNotified(api, feed, posted.mentions))
  phase('checked')
  await stack.ready()
})
