// Creates the topics a service uses, each with its dead-letter topic, idempotently at start-up.
import type { Kafka } from 'kafkajs'
import { deadLetterTopic } from './events.ts'

export async function ensureTopics (kafka: Kafka, topics: readonly string[], partitions: number): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const existing = new Set(await admin.listTopics())
    const wanted = topics.flatMap((t) => [t, deadLetterTopic(t)]).filter((t) => !existing.has(t))
    if (wanted.length === 0) return
    await admin.createTopics({
      waitForLeaders: true,
      topics: wanted.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: -1 }))
    }).catch((err: Error & { type?: string }) => {
      // Another instance created them between listTopics and createTopics.
      if (err.type !== 'TOPIC_ALREADY_EXISTS') throw err
    })
  } finally {
    await admin.disconnect()
  }
}
