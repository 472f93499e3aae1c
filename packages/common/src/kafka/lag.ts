// Consumer lag: for each topic, the messages a group has not consumed yet (log end offset minus
// the group's committed offset, summed over partitions). Read on demand, e.g. by a gauge.
import type { Kafka } from 'kafkajs'

export function consumerLag (kafka: Kafka, groupId: string, topics: readonly string[]) {
  const admin = kafka.admin()
  let connected: Promise<void> | undefined
  return {
    async read (): Promise<Map<string, number>> {
      connected ??= admin.connect()
      await connected
      const lag = new Map<string, number>()
      const committed = await admin.fetchOffsets({ groupId, topics: [...topics] })
      for (const { topic, partitions } of committed) {
        const ends = await admin.fetchTopicOffsets(topic)
        let total = 0
        for (const end of ends) {
          const offset = partitions.find((p) => p.partition === end.partition)?.offset ?? '-1'
          // -1: nothing committed yet; a new group starts from the beginning.
          const from = offset === '-1' ? Number(end.low) : Number(offset)
          total += Math.max(0, Number(end.high) - from)
        }
        lag.set(topic, total)
      }
      return lag
    },
    async close () {
      if (connected) await admin.disconnect()
    }
  }
}

/** An observable gauge's callback side, as @opentelemetry/api declares it. */
interface LagGauge {
  addCallback: (callback: (result: { observe: (value: number, attributes: Record<string, string>) => void }) => Promise<void>) => void
  removeCallback: (callback: (result: { observe: (value: number, attributes: Record<string, string>) => void }) => Promise<void>) => void
}

/**
 * Reports a group's lag per topic on `gauge` whenever metrics are collected; `close()` stops.
 * A broker that cannot answer reports nothing rather than failing the collection.
 */
export function reportConsumerLag (kafka: Kafka, gauge: LagGauge, groupId: string, topics: readonly string[]) {
  const lag = consumerLag(kafka, groupId, topics)
  const observe = async (result: { observe: (value: number, attributes: Record<string, string>) => void }) => {
    for (const [topic, value] of await lag.read().catch(() => new Map<string, number>())) result.observe(value, { topic })
  }
  gauge.addCallback(observe)
  return {
    async close () {
      gauge.removeCallback(observe)
      await lag.close()
    }
  }
}
