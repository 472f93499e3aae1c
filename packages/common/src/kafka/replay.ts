// Replays a dead-letter topic back to the topic it came from: every message parked in
// <topic>.dlq up to now is sent again (same key, value and original headers, minus the DLQ
// ones), so a fixed consumer can handle what it once could not. Consumers are idempotent, so a
// message replayed twice is harmless.
import { randomUUID } from 'node:crypto'
import type { IHeaders, Kafka } from 'kafkajs'
import { DeadLetterHeaders } from './consumer.ts'
import { deadLetterTopic } from './events.ts'
import type { EventProducer } from './producer.ts'

export async function replayDeadLetters (kafka: Kafka, producer: EventProducer, topic: string): Promise<number> {
  const dlq = deadLetterTopic(topic)
  const admin = kafka.admin()
  await admin.connect()
  // Replay what is there now; messages parked while replaying wait for the next run.
  const ends = await admin.fetchTopicOffsets(dlq)
  await admin.disconnect()
  const remaining = new Map(ends.filter((e) => Number(e.high) > Number(e.low)).map((e) => [e.partition, Number(e.high)]))
  if (remaining.size === 0) return 0

  const consumer = kafka.consumer({ groupId: `replay-${dlq}-${randomUUID()}`, maxWaitTimeInMs: 500 })
  let replayed = 0
  const dlqHeaders = new Set<string>(Object.values(DeadLetterHeaders))
  await consumer.connect()
  await consumer.subscribe({ topic: dlq, fromBeginning: true })
  await new Promise<void>((resolve, reject) => {
    consumer.run({
      eachMessage: async ({ partition, message }) => {
        const end = remaining.get(partition)
        if (end === undefined || Number(message.offset) >= end) return
        const headers: IHeaders = Object.fromEntries(Object.entries(message.headers ?? {}).filter(([k]) => !dlqHeaders.has(k)))
        await producer.sendRaw(topic, [{ key: message.key, value: message.value, headers }])
        replayed++
        if (Number(message.offset) + 1 >= end) remaining.delete(partition)
        if (remaining.size === 0) resolve()
      }
    }).catch(reject)
  })
  await consumer.disconnect()
  return replayed
}
