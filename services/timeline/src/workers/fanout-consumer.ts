// The fan-out worker's Kafka side: post.created → push; user.followed → backfill;
// user.unfollowed → remove. At-least-once with retries and a DLQ (packages/common); every
// handler is idempotent, so redelivery is harmless. As a worker plugin it joins its consumer
// group in the background as the app starts, reports its lag, and leaves the group when the
// app closes.
import {
  assertEventData, reportConsumerLag, startEventConsumer, Topics,
  type EventConsumer, type EventProducer, type FollowData, type KafkaClient, type PostCreatedData
} from '@shortfeed/common'
import type { FastifyBaseLogger as Logger, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Fanout } from '../fanout/fanout.ts'

export const FANOUT_TOPICS = [Topics.postCreated, Topics.userFollowed, Topics.userUnfollowed]

export function startFanoutConsumer (options: {
  kafka: KafkaClient
  ready: Promise<boolean>
  groupId: string
  fanout: Fanout
  deadLetters: EventProducer
  logger: Logger
  maxEntries: number
  attempts: number
}): Promise<EventConsumer> {
  return startEventConsumer({
    kafka: options.kafka,
    groupId: options.groupId,
    ready: options.ready,
    topics: FANOUT_TOPICS,
    deadLetters: options.deadLetters,
    logger: options.logger,
    attempts: options.attempts,
    // Partitions are independent (an author's posts share one); two at once use both cores' I/O.
    partitionsConsumedConcurrently: 3,
    handle: async (event, meta) => {
      assertEventData(meta.topic, event.data)
      switch (meta.topic) {
        case Topics.postCreated:
          await options.fanout.fanOutPost(event.data as PostCreatedData)
          break
        case Topics.userFollowed:
          await options.fanout.backfillFollow(event.data as FollowData)
          break
        case Topics.userUnfollowed:
          await options.fanout.removeUnfollowed(event.data as FollowData, options.maxEntries)
          break
      }
    }
  })
}

export interface FanoutConsumerOptions {
  fanout: Fanout
  groupId: string
  maxEntries: number
  attempts: number
}

export const fanoutConsumer = fp(async function fanoutConsumer (app: FastifyInstance, options: FanoutConsumerOptions) {
  const lag = reportConsumerLag(app.kafka, app.timelineMetrics.consumerLag, options.groupId, FANOUT_TOPICS)
  const consumer: Promise<EventConsumer> = startFanoutConsumer({
    ...options,
    kafka: app.kafka,
    ready: app.kafkaReady,
    deadLetters: app.eventProducer,
    logger: app.log
  })
  app.addHook('onClose', async () => {
    await (await consumer).stop()
    await lag.close()
  })
}, { name: 'fanout-consumer', dependencies: ['kafka', 'timeline-metrics'] })
