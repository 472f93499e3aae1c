// The notifier's consumer as a worker plugin: it joins the group in the background as the app
// starts, feeds every event to app.notificationPipeline (retries; an outage waits, a poison
// message is parked in the DLQ), reports its lag, and leaves the group when the app closes.
import { reportConsumerLag, startEventConsumer, type EventConsumer } from '@shortfeed/common'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { NOTIFIER_TOPICS } from '../pipeline.ts'

export interface NotificationConsumerOptions {
  groupId: string
  attempts: number
}

/** Partitions handled at once: recipients are independent, and most of the time is I/O. */
const PARTITIONS_AT_ONCE = 3

export const notificationConsumer = fp(async function notificationConsumer (app: FastifyInstance, options: NotificationConsumerOptions) {
  const metrics = app.notifierMetrics
  const lag = reportConsumerLag(app.kafka, metrics.consumerLag, options.groupId, NOTIFIER_TOPICS)
  const consumer: Promise<EventConsumer> = startEventConsumer({
    kafka: app.kafka,
    ready: app.kafkaReady,
    groupId: options.groupId,
    topics: NOTIFIER_TOPICS,
    deadLetters: app.eventProducer,
    logger: app.log,
    attempts: options.attempts,
    partitionsConsumedConcurrently: PARTITIONS_AT_ONCE,
    handle: app.notificationPipeline.handle,
    onDeadLetter: (topic) => { metrics.deadLettered.add(1, { topic }) }
  })
  app.addHook('onClose', async () => {
    await (await consumer).stop()
    await lag.close()
  })
}, { name: 'notification-consumer', dependencies: ['kafka', 'notifier-metrics', 'notifier-pipeline'] })
