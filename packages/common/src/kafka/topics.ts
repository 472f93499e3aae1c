// Creates the topics a service uses, each with its dead-letter topic, idempotently at start-up,
// and waits until every partition has a leader so the first send or subscribe does not fail.
import { setTimeout as delay } from 'node:timers/promises'
import type { Admin, Kafka } from 'kafkajs'
import { deadLetterTopic } from './events.ts'

/**
 * kafkajs' own waitForLeaders gives up when a just-created topic is briefly unknown to the
 * broker's metadata (UNKNOWN_TOPIC_OR_PARTITION, seen with Kafka 4); this waits through it.
 */
async function waitForLeaders (admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics })
      const led = metadata.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))
      if (metadata.length === topics.length && led) return
    } catch (err) {
      if ((err as { retriable?: boolean }).retriable !== true || Date.now() > deadline) throw err
    }
    if (Date.now() > deadline) throw new Error(`topics without leaders after ${timeoutMs} ms: ${topics.join(', ')}`)
    await delay(100)
  }
}

export async function ensureTopics (kafka: Kafka, topics: readonly string[], partitions: number): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const all = topics.flatMap((t) => [t, deadLetterTopic(t)])
    const existing = new Set(await admin.listTopics())
    const wanted = all.filter((t) => !existing.has(t))
    if (wanted.length > 0) {
      await admin.createTopics({
        waitForLeaders: false,
        topics: wanted.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: -1 }))
      }).catch((err: Error & { type?: string }) => {
        // Another instance created them between listTopics and createTopics.
        if (err.type !== 'TOPIC_ALREADY_EXISTS') throw err
      })
    }
    await waitForLeaders(admin, all)
  } finally {
    await admin.disconnect()
  }
}
