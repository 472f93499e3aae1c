// Decorates the app with a Kafka client (app.kafka), an event producer (app.eventProducer) and
// app.kafkaReady (resolves once topics exist and the producer is connected); flushes the
// producer on shutdown, after the consumers registered later have stopped. A broker that is
// down at start does not stop the service: it waits up to KAFKA_START_WAIT_MS, then starts
// degraded (readiness reports kafka down, sends fail and are retried by their callers) and
// connects in the background.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Kafka } from 'kafkajs'
import { setTimeout as delay } from 'node:timers/promises'
import { createKafka } from '../kafka/client.ts'
import { createEventProducer, type EventProducer } from '../kafka/producer.ts'
import { ensureTopics } from '../kafka/topics.ts'
import { untilConnected } from '../kafka/until-connected.ts'

declare module 'fastify' {
  interface FastifyInstance {
    kafka: Kafka
    eventProducer: EventProducer
    kafkaReady: Promise<boolean>
  }
}

export interface KafkaPluginOptions {
  config: { KAFKA_BROKERS: string, KAFKA_TOPIC_PARTITIONS: number, KAFKA_START_WAIT_MS: number }
  clientId: string
  /** Topics this service produces to or consumes from; created (with their DLQs) if missing. */
  topics: readonly string[]
}

export default fp(async function kafka (app: FastifyInstance, options: KafkaPluginOptions) {
  const kafka = createKafka({ clientId: options.clientId, brokers: options.config.KAFKA_BROKERS, logger: app.log })
  const producer = createEventProducer(kafka)
  const admin = kafka.admin()
  const closing = new AbortController()
  const ready = untilConnected(async () => {
    await ensureTopics(kafka, options.topics, options.config.KAFKA_TOPIC_PARTITIONS)
    await producer.connect()
    await admin.connect()
  }, { what: `${options.clientId} producer`, logger: app.log, signal: closing.signal })
  await Promise.race([ready, delay(options.config.KAFKA_START_WAIT_MS, undefined, { signal: closing.signal }).catch(() => {})])

  app.decorate('kafka', kafka)
  app.decorate('eventProducer', producer)
  app.decorate('kafkaReady', ready)
  app.addReadinessCheck('kafka', () => admin.describeCluster())
  app.addHook('onClose', async () => {
    closing.abort()
    await ready
    await producer.disconnect()
    await admin.disconnect()
  })
}, { name: 'kafka', dependencies: ['health'] })
