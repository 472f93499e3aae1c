// `pnpm --filter @shortfeed/notifier replay-dlq <topic>`: sends what <topic>.dlq holds back to
// <topic> (e.g. after fixing what made the notifier fail). Handling is idempotent by event id.
import { createEventProducer, createKafka, kafkaConfig, loadConfig, replayDeadLetters } from '@shortfeed/common'
import { Type } from 'typebox'
import { NOTIFIER_TOPICS } from './pipeline.ts'

const topic = process.argv[2] ?? ''
if (!NOTIFIER_TOPICS.includes(topic as never)) {
  process.stderr.write(`usage: replay-dlq <topic>, one of ${NOTIFIER_TOPICS.join(', ')}\n`)
  process.exit(64)
}
const config = loadConfig('notifier replay-dlq', Type.Object({ KAFKA_BROKERS: kafkaConfig.KAFKA_BROKERS }))
const kafka = createKafka({ clientId: 'notifier-replay', brokers: config.KAFKA_BROKERS })
const producer = createEventProducer(kafka)
await producer.connect()
const replayed = await replayDeadLetters(kafka, producer, topic)
await producer.disconnect()
process.stdout.write(`replayed ${replayed} message(s) from ${topic}.dlq to ${topic}\n`)
