// The click publisher's promise to the redirect path: a batch Kafka never answers is given up
// after sendTimeoutMs and counted as dropped, and the batches behind it still go. The producer
// here is a stand-in that never settles, the one behaviour a real broker cannot be made to show
// on demand (kafka-outage.test.ts freezes and kills a real one).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { EventProducer } from '@shortfeed/common'
import pino from 'pino'
import { createShortenerMetrics, type ShortenerMetrics } from '../../src/metrics.ts'
import { createClickPublisher } from '../../src/plugins/click-publisher.ts'

function countingMetrics () {
  const counts = { published: 0, dropped: 0 }
  const metrics: ShortenerMetrics = {
    ...createShortenerMetrics(),
    clicksPublished: { add: (n: number) => { counts.published += n } },
    clicksDropped: { add: (n: number) => { counts.dropped += n } }
  } as ShortenerMetrics
  return { counts, metrics }
}

test('a batch Kafka never answers is counted as dropped after the send timeout, and the next batch still goes', async () => {
  const sent: number[] = []
  let calls = 0
  const producer = {
    // The first send hangs for good; later ones are acknowledged.
    publish: async (_topic: string, events: unknown[]) => {
      calls++
      if (calls === 1) return new Promise<void>(() => {})
      sent.push(events.length)
    }
  } as unknown as EventProducer
  const { counts, metrics } = countingMetrics()
  const publisher = createClickPublisher(producer, pino({ level: 'silent' }),
    { flushIntervalMs: 10_000, batchSize: 3, bufferMax: 100, sendTimeoutMs: 50 }, metrics)
  const click = { code: 'abc1234', at: new Date().toISOString() }

  for (let i = 0; i < 3; i++) publisher.publishClick(click)
  await publisher.flush()
  assert.deepEqual(counts, { published: 0, dropped: 3 })

  for (let i = 0; i < 2; i++) publisher.publishClick(click)
  await publisher.flush()
  assert.deepEqual(counts, { published: 2, dropped: 3 })
  assert.deepEqual(sent, [2])
  await publisher.close()
})
