// Fault: the Kafka broker dies (SIGKILL) while posts and clicks flow, stays down, and comes back.
// Guarantees: posting never notices (the outbox keeps the events); redirects never fail; after
// recovery every post reaches every follower's timeline exactly once and every @mention
// notifies once; every click is counted or reported dropped, and none is counted twice.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sharedFaultStack } from './fault-stack.ts'
import { countTally, expectExactlyOnce } from './ledger.ts'
import { countOf } from './load.ts'
import { beginCase, expectPostsDelivered, postingLoad, redirectLoad, seedFeed, seedLinks, settle, underFault } from './scenarios.ts'

const stack = await sharedFaultStack()

test('when Kafka dies under load and comes back, then nothing is lost or duplicated and redirects never fail', async (t) => {
  const { phase, api } = await beginCase(t, stack)
  const feed = await seedFeed(api, { followers: 5 })
  const links = await seedLinks(api, 20)
  const droppedBefore = await stack.counter('shortener', 'shortener_clicks_dropped')

  const posting = postingLoad(api, feed, { workers: 2, pauseMs: 50 })
  const redirects = redirectLoad(api, links)
  phase('seeded; load running')
  await underFault(phase, { holdMs: 5_000 }, ['kafka killed', () => stack.kafka.kill()], ['kafka back', () => stack.kafka.start()])
  const posted = await posting.stop()
  const redirected = await redirects.stop()
  phase('load stopped')

  // Posting does not depend on Kafka: every post was accepted the first time.
  expectExactlyOnce(t, 'posts accepted at the first try', countTally(posted.attempts, posted.firstTry), JSON.stringify(posted.byStatus))
  expectExactlyOnce(t, 'redirects answered 302', countTally(redirected.sent, countOf(redirected, 302)), JSON.stringify(redirected.byStatus))

  await expectPostsDelivered(t, stack, api, feed, posted.accepted, { mentions: posted.mentions })
  phase('timelines and notifications checked')

  // Clicks are best effort by design: one Kafka could not take is dropped and reported. Every
  // click must be in Kafka or reported dropped, and each click event in Kafka counted once.
  const clicks = countOf(redirected, 302)
  const codes = new Set(links.codes)
  const seen = await settle(async () => {
    const events = (await stack.topicMessages('url.clicked')).filter((m) => m.key !== null && codes.has(m.key))
    return {
      // The seeding's warm-up clicks are in the topic too, one per link.
      inKafka: new Set(events.map((m) => m.eventId)).size - links.codes.length,
      copies: events.length - new Set(events.map((m) => m.eventId)).size,
      counted: await links.totalClicks(),
      dropped: await stack.counter('shortener', 'shortener_clicks_dropped') - droppedBefore
    }
  }, (c) => c.inKafka + c.dropped >= clicks && c.counted >= c.inKafka, 90_000)
  phase('clicks settled')
  const note = `${seen.inKafka} in Kafka (${seen.copies} stored twice by a producer retry), ${seen.dropped} reported dropped, ${seen.counted} counted`
  expectExactlyOnce(t, 'clicks in Kafka or reported dropped', countTally(clicks, Math.min(clicks, seen.inKafka + seen.dropped)), note)
  expectExactlyOnce(t, 'click events in Kafka counted', countTally(seen.inKafka, seen.counted), note)
  assert.ok(seen.counted > 0, 'clicks after the broker came back were counted')
  await stack.ready()
})
