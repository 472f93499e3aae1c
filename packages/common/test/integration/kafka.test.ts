// The Kafka helpers against a real broker: envelope and headers, trace continuity, retries,
// the dead-letter topic, and at-least-once redelivery after a stop mid-retry.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { context, propagation, trace, TraceFlags } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { eventually, testServers, uniqueName } from '@shortfeed/test-harness'
import type { Kafka, KafkaMessage } from 'kafkajs'
import { pino } from 'pino'
import { createKafka } from '../../src/kafka/client.ts'
import { DeadLetterHeaders, headersToStrings, startEventConsumer, type EventConsumer } from '../../src/kafka/consumer.ts'
import { createEvent, type EventEnvelope } from '../../src/kafka/envelope.ts'
import { deadLetterTopic } from '../../src/kafka/events.ts'
import { createEventProducer, type EventProducer } from '../../src/kafka/producer.ts'
import { ensureTopics } from '../../src/kafka/topics.ts'

const logger = pino({ level: 'silent' })
let kafka: Kafka
let producer: EventProducer

/** Collects what arrives on a topic (e.g. a DLQ) with a throwaway consumer group. */
async function collect (topic: string) {
  const messages: KafkaMessage[] = []
  const consumer = kafka.consumer({ groupId: uniqueName('collector') })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({ eachMessage: async ({ message }) => { messages.push(message) } })
  after(() => consumer.disconnect())
  return messages
}

/**
 * Waits until everything published on `key` before this call has been dealt with, however slow
 * the machine: the handler must have seen the sentinel event the caller published last on that
 * key (one partition, so the events before it are finished: handled, retried or dead-lettered),
 * and a sentinel this sends to the DLQ on the same key must have been collected (so a message
 * the consumer parked before it has been collected too).
 */
async function afterSentinels (topic: string, key: string, handled: string[], dlq: KafkaMessage[]) {
  await eventually(() => handled.length, (n) => n === 1)
  const marker = createEvent(topic, { sentinel: true }, { source: 'test' })
  await producer.publish(deadLetterTopic(topic), [{ key, event: marker }])
  await eventually(() => dlq.some((m) => JSON.parse(String(m.value)).id === marker.id), (seen) => seen)
}

async function newTopic () {
  const topic = uniqueName('t').replaceAll('_', '.')
  await ensureTopics(kafka, [topic], 2)
  return topic
}

type ConsumerOptions = Parameters<typeof startEventConsumer>[0]

/** A consumer of `topic` in a group of its own, stopped when the test ends; `options` override. */
async function consume (topic: string, options: Pick<ConsumerOptions, 'handle'> & Partial<ConsumerOptions>) {
  const consumer = await startEventConsumer({ kafka, groupId: uniqueName('g'), topics: [topic], deadLetters: producer, logger, ...options })
  after(() => consumer.stop())
  return consumer
}

/**
 * Publishes an event whose handling throws what `failure` returns for its n-th call (until it
 * returns undefined), then waits for it to be dealt with; says how many calls it took and how
 * many messages were parked in the DLQ.
 */
async function handleFailingEvent (options: Pick<ConsumerOptions, 'attempts' | 'backoff'>, failure: (call: number) => Error | undefined) {
  const topic = await newTopic()
  const dlq = await collect(deadLetterTopic(topic))
  const handled: string[] = []
  const sentinel = createEvent(topic, {}, { source: 'test' })
  let calls = 0
  await consume(topic, {
    ...options,
    handle: async (event) => {
      if (event.id === sentinel.id) {
        handled.push(event.id)
        return
      }
      const error = failure(++calls)
      if (error) throw error
    }
  })
  await producer.publish(topic, [{ key: 'k', event: createEvent(topic, {}, { source: 'test' }) }, { key: 'k', event: sentinel }])
  await afterSentinels(topic, 'k', handled, dlq)
  return { calls, parked: dlq.length - 1 }
}

/** Throws on an event marked poison, records every other one's id in `handled`. */
function failOnPoison (handled: string[]) {
  return async (event: EventEnvelope) => {
    if ((event.data as { poison?: boolean }).poison) throw new TypeError('cannot handle poison')
    handled.push(event.id)
  }
}

/** A poison event and a fine one on the same key: one partition, so the fine one waits behind it. */
async function publishPoisonThenFine (topic: string) {
  const poison = createEvent(topic, { poison: true }, { source: 'test' })
  const fine = createEvent(topic, { poison: false }, { source: 'test' })
  await producer.publish(topic, [{ key: 'same', event: poison }, { key: 'same', event: fine }])
  return { poison, fine }
}

before(async () => {
  const servers = await testServers()
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
  kafka = createKafka({ clientId: 'common-kafka-test', brokers: servers.kafkaBrokers, logger })
  producer = createEventProducer(kafka)
  await producer.connect()
})

after(async () => {
  await producer.disconnect()
})

describe('event producer and consumer', () => {
  test('ensureTopics creates the topic and its DLQ, and is idempotent', async () => {
    const topic = await newTopic()
    await ensureTopics(kafka, [topic], 2)
    const admin = kafka.admin()
    await admin.connect()
    const topics = await admin.listTopics()
    const meta = await admin.fetchTopicMetadata({ topics: [topic] })
    await admin.disconnect()
    assert.ok(topics.includes(topic) && topics.includes(deadLetterTopic(topic)))
    assert.equal(meta.topics[0]?.partitions.length, 2)
  })

  test('when an event is published in a trace, then the consumer gets the envelope, key, headers and the same trace', async () => {
    const topic = await newTopic()
    const received: Array<{ event: EventEnvelope, key: string | null, headers: Record<string, string>, traceId: string | undefined }> = []
    await consume(topic, {
      handle: async (event, meta) => {
        received.push({ event, key: meta.key, headers: meta.headers, traceId: trace.getSpanContext(context.active())?.traceId })
      }
    })

    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const parent = trace.setSpanContext(context.active(), { traceId, spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED, isRemote: true })
    const event = createEvent(topic, { postId: '7', text: 'hello' }, { source: 'test' })
    await context.with(parent, () => producer.publish(topic, [{ key: 'author-1', event }]))

    await eventually(() => received.length, (n) => n === 1)
    const got = received[0]!
    assert.deepEqual(got.event, event)
    assert.equal(got.key, 'author-1')
    assert.equal(got.headers['event-id'], event.id)
    assert.equal(got.headers['event-type'], topic)
    assert.match(got.headers['traceparent'] ?? '', new RegExp(`^00-${traceId}-`))
    assert.equal(got.traceId, traceId)
  })

  test('when a handler fails twice then succeeds, then the event is handled and nothing is dead-lettered', async () => {
    const { calls, parked } = await handleFailingEvent({ attempts: 5, backoff: { initialMs: 10, maxMs: 50 } },
      (call) => call < 3 ? new Error('transient') : undefined)
    assert.equal(calls, 3)
    assert.equal(parked, 0)
  })

  test('when a handler fails because a dependency is down, then it is retried past the attempts until the dependency is back, never dead-lettered', async () => {
    // What pg throws while Postgres is restarting.
    const { calls, parked } = await handleFailingEvent({ attempts: 2, backoff: { initialMs: 10, maxMs: 20 } },
      (call) => call < 6 ? Object.assign(new Error('the database system is starting up'), { code: '57P03' }) : undefined)
    assert.equal(calls, 6)
    assert.equal(parked, 0)
  })

  test('when a handler keeps failing, then the message goes to the DLQ with the error and attempts, and the partition moves on', async () => {
    const topic = await newTopic()
    const dlq = await collect(deadLetterTopic(topic))
    const handled: string[] = []
    await consume(topic, {
      attempts: 3,
      backoff: { initialMs: 10, maxMs: 50 },
      handle: failOnPoison(handled)
    })
    const { poison, fine } = await publishPoisonThenFine(topic)

    await eventually(() => [dlq.length, handled.length], ([parked, done]) => parked === 1 && done === 1)
    const parked = dlq[0]!
    const headers = headersToStrings(parked.headers)
    assert.equal(JSON.parse(String(parked.value)).id, poison.id)
    assert.equal(String(parked.key), 'same')
    assert.equal(headers[DeadLetterHeaders.error], 'cannot handle poison')
    assert.equal(headers[DeadLetterHeaders.errorName], 'TypeError')
    assert.equal(headers[DeadLetterHeaders.attempts], '3')
    assert.equal(headers[DeadLetterHeaders.originalTopic], topic)
    assert.equal(headers['event-id'], poison.id)
    assert.deepEqual(handled, [fine.id])
  })

  test('when a message is not an event, then it is dead-lettered at once without calling the handler', async () => {
    const topic = await newTopic()
    const dlq = await collect(deadLetterTopic(topic))
    const handled: string[] = []
    await consume(topic, { handle: async (e) => { handled.push(e.id) } })
    await producer.sendRaw(topic, [{ key: 'x', value: Buffer.from('not json'), headers: {} }])
    const good = createEvent(topic, {}, { source: 'test' })
    await producer.publish(topic, [{ key: 'x', event: good }])
    await eventually(() => [dlq.length, handled.length], ([parked, done]) => parked === 1 && done === 1)
    assert.equal(String(dlq[0]!.value), 'not json')
    assert.equal(headersToStrings(dlq[0]!.headers)[DeadLetterHeaders.errorName], 'MalformedEventError')
    assert.deepEqual(handled, [good.id])
  })

  test('when kafkajs crashes the consumer on an error it will not restart on, then the consumer rejoins and nothing is lost', async () => {
    const topic = await newTopic()
    const dlq = await collect(deadLetterTopic(topic))
    const handled: string[] = []
    // The first parking fails with an error kafkajs' own table calls final (as it calls
    // BROKER_NOT_AVAILABLE or REBALANCE_IN_PROGRESS during a broker restart): it disconnects
    // the consumer and, left to itself, never runs it again.
    let parkingFailures = 0
    const flakyDeadLetters: EventProducer = {
      ...producer,
      async sendRaw (target, messages) {
        if (parkingFailures++ === 0) throw Object.assign(new Error('dead-letter topic unavailable'), { retriable: false })
        await producer.sendRaw(target, messages)
      }
    }
    await consume(topic, {
      deadLetters: flakyDeadLetters,
      attempts: 1,
      handle: failOnPoison(handled)
    })
    const { poison, fine } = await publishPoisonThenFine(topic)

    await eventually(() => [dlq.length, handled.length], ([parked, done]) => parked === 1 && done === 1)
    assert.ok(parkingFailures >= 2, 'the crash happened and the message was parked on a later try')
    assert.equal(JSON.parse(String(dlq[0]!.value)).id, poison.id)
    assert.deepEqual(handled, [fine.id])
  })

  test('when a consumer stops while retrying, then the offset is not committed and the group gets the event again', async () => {
    const topic = await newTopic()
    const groupId = uniqueName('g')
    let firstCalls = 0
    let first: EventConsumer | undefined = await startEventConsumer({
      kafka,
      groupId,
      topics: [topic],
      deadLetters: producer,
      logger,
      attempts: 100,
      backoff: { initialMs: 200, maxMs: 200 },
      handle: async () => { firstCalls++; throw new Error('database down') }
    })
    const event = createEvent(topic, {}, { source: 'test' })
    await producer.publish(topic, [{ key: 'k', event }])
    await eventually(() => firstCalls, (n) => n >= 1)
    await first.stop()
    first = undefined

    const redelivered: string[] = []
    await consume(topic, { groupId, handle: async (e) => { redelivered.push(e.id) } })
    await eventually(() => redelivered.length, (n) => n === 1)
    assert.deepEqual(redelivered, [event.id])
  })
})
