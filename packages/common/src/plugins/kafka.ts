// Decorates the app with a Kafka client (app.kafka) and a connected event producer
// (app.eventProducer); creates the service's topics; flushes the producer on shutdown, after
// the consumers registered later have stopped.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Kafka } from 'kafkajs'
import { createKafka } from '../kafka/client.ts'
import { createEventProducer, type EventProducer } from '../kafka/producer.ts'
import { ensureTopics } from '../kafka/topics.ts'

declare module 'fastify' {
  interface FastifyInstance {
    kafka: Kafka
    eventProducer: EventProducer
  }
}

export interface KafkaPluginOptions {
  config: { KAFKA_BROKERS: string, KAFKA_TOPIC_PARTITIONS: number }
  clientId: string
  /** Topics this service produces to or consumes from; created (with their DLQs) if missing. */
  topics: readonly string[]
}

export default fp(async function kafka (app: FastifyInstance, options: KafkaPluginOptions) {
  const kafka = createKafka({ clientId: options.clientId, brokers: options.config.KAFKA_BROKERS, logger: app.log as never })
  await ensureTopics(kafka, options.topics, options.config.KAFKA_TOPIC_PARTITIONS)
  const producer = createEventProducer(kafka)
  await producer.connect()
  const admin = kafka.admin()
  await admin.connect()
  app.decorate('kafka', kafka)
  app.decorate('eventProducer', producer)
  app.addReadinessCheck('kafka', () => admin.describeCluster())
  app.addHook('onClose', async () => {
    await producer.disconnect()
    await admin.disconnect()
  })
}, { name: 'kafka', dependencies: ['health'] })
