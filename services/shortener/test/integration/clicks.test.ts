// Clicks end to end: redirects publish url.clicked, the aggregator (shortener-clicks) counts them in Postgres once
// each (also when a batch is redelivered) and emits url.milestone from the outbox.
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { createEvent, createKafka, decodeEvent, Topics, type DecodedMessage } from '@shortfeed/common'
import { testServers } from '@shortfeed/test-harness'
import { createShortenerMetrics } from '../../src/metrics.ts'
import { aggregateClicks } from '../../src/workers/click-aggregator.ts'
import { asUser, buildWithClicksWorkerForFile, eventually, uniqueName } from '../helper.ts'

// As deployed: the API publishes, shortener-clicks (its own app) counts.
const { app } = await buildWithClicksWorkerForFile({ MILESTONES: '3,5,8' })
// For the batches this file hands the aggregator itself.
const metrics = createShortenerMetrics()

test('when a link is followed N times, then its click count becomes N', async () => {
  const { code } = (await app.inject({ method: 'POST', url: '/api/v1/urls', payload: { url: 'https://example.com/count' } })).json()
  await Promise.all(Array.from({ length: 7 }, () => app.inject({ url: `/${code}`, headers: { referer: 'https://ref.example/', 'user-agent': 'test' } })))
  const details = await eventually(async () => (await app.inject({ url: `/api/v1/urls/${code}` })).json(), (d) => d.clicks === 7)
  assert.equal(details.clicks, 7)
})

test('when a link is only probed with HEAD, then no click is counted', async () => {
  const { code } = (await app.inject({ method: 'POST', url: '/api/v1/urls', payload: { url: 'https://example.com/probe' } })).json()
  for (let i = 0; i < 3; i++) assert.equal((await app.inject({ method: 'HEAD', url: `/${code}` })).statusCode, 302)
  // The GETs after the HEADs are the sentinels: clicks leave in order, keyed by code (one
  // partition), and a batch is counted in one transaction, so once both GETs are counted any
  // click a HEAD made would have been counted too.
  for (let i = 0; i < 2; i++) await app.inject({ url: `/${code}` })
  const clicks = await eventually(async () => (await app.inject({ url: `/api/v1/urls/${code}` })).json().clicks, (n) => n >= 2)
  assert.equal(clicks, 2)
})

test('when a batch is delivered again, then it is not counted twice', async () => {
  const { code } = (await app.inject({ method: 'POST', url: '/api/v1/urls', payload: { url: 'https://example.com/redeliver' } })).json()
  const partition = { topic: uniqueName('clicks'), partition: 0 }
  const batch: DecodedMessage[] = [0, 1, 2].map((offset) => ({
    event: createEvent(Topics.urlClicked, { code, at: new Date().toISOString() }, { source: 'test' }),
    meta: { topic: partition.topic, partition: 0, offset: String(offset), key: code, headers: {} }
  }))
  await aggregateClicks(app.pg, batch, partition, [], metrics)
  await aggregateClicks(app.pg, batch, partition, [], metrics)
  const next = createEvent(Topics.urlClicked, { code, at: new Date().toISOString() }, { source: 'test' })
  await aggregateClicks(app.pg, [...batch, { event: next, meta: { ...batch[0]!.meta, offset: '3' } }], partition, [], metrics)
  assert.equal((await app.inject({ url: `/api/v1/urls/${code}` })).json().clicks, 4)
})

test('when one click event is stored twice (a retried send), then it is counted once', async () => {
  const { code } = (await app.inject({ method: 'POST', url: '/api/v1/urls', payload: { url: 'https://example.com/retried' } })).json()
  const partition = { topic: uniqueName('clicks'), partition: 0 }
  const click = createEvent(Topics.urlClicked, { code, at: new Date().toISOString() }, { source: 'test' })
  const other = createEvent(Topics.urlClicked, { code, at: new Date().toISOString() }, { source: 'test' })
  const at = (event: typeof click, offset: number): DecodedMessage => ({ event, meta: { topic: partition.topic, partition: 0, offset: String(offset), key: code, headers: {} } })
  // The copy may follow in the same batch or in a later one; an id in upper case is the same id.
  await aggregateClicks(app.pg, [at(click, 0), at(click, 1), at(other, 2)], partition, [], metrics)
  await aggregateClicks(app.pg, [at({ ...click, id: click.id.toUpperCase() }, 3)], partition, [], metrics)
  assert.equal((await app.inject({ url: `/api/v1/urls/${code}` })).json().clicks, 2)
})

test('when an owner\'s link crosses a milestone, then url.milestone is published once per milestone', async () => {
  const ownerId = uniqueName('owner')
  const { code } = (await app.inject({ method: 'POST', url: '/api/v1/urls', headers: asUser(ownerId), payload: { url: 'https://example.com/famous' } })).json()

  const kafka = createKafka({ clientId: 'milestone-test', brokers: (await testServers()).kafkaBrokers })
  const consumer = kafka.consumer({ groupId: uniqueName('milestones') })
  await consumer.connect()
  await consumer.subscribe({ topic: Topics.urlMilestone, fromBeginning: true })
  const seen: Array<{ key: string, data: { code: string, ownerId: string, clicks: number } }> = []
  await consumer.run({
    eachMessage: async ({ message }) => {
      const event = decodeEvent(message.value)
      if ((event.data as { ownerId: string }).ownerId === ownerId) seen.push({ key: String(message.key), data: event.data as never })
    }
  })
  after(() => consumer.disconnect())

  for (let i = 0; i < 6; i++) await app.inject({ url: `/${code}` })
  await eventually(() => seen.map((m) => m.data.clicks), (reached) => reached.includes(5))
  // The next milestone is the sentinel: the owner's milestones share a key (one partition) and
  // leave the outbox in order, so a second copy of 3 or 5 would arrive before 8 does.
  for (let i = 0; i < 2; i++) await app.inject({ url: `/${code}` })
  await eventually(() => seen.map((m) => m.data.clicks), (reached) => reached.includes(8))
  assert.deepEqual(seen.map((m) => m.data.clicks), [3, 5, 8])
  for (const m of seen) {
    assert.equal(m.key, ownerId)
    assert.equal(m.data.code, code)
  }
})
