// Publishes event envelopes: JSON values, a partition key per entity, trace context and the
// event's id and type in headers. acks=all and one request in flight, so a retried send cannot
// overtake an earlier one: one key's events keep their order. kafkajs' idempotent mode is off on
// purpose: it wants unbounded retries, so a send during a broker outage would never return.
// A retry may therefore duplicate a message; every consumer dedupes by event id.
import { context, propagation } from '@opentelemetry/api'
import { Partitioners, type IHeaders, type Kafka } from 'kafkajs'
import { encodeEvent, type EventEnvelope } from './envelope.ts'

export interface OutgoingEvent {
  key: string
  event: EventEnvelope
}

export interface EventProducer {
  connect: () => Promise<void>
  publish: (topic: string, events: OutgoingEvent[]) => Promise<void>
  /** Sends raw messages as they are (the dead-letter path, replays). */
  sendRaw: (topic: string, messages: Array<{ key: Buffer | string | null, value: Buffer | null, headers: IHeaders }>) => Promise<void>
  disconnect: () => Promise<void>
}

/** W3C trace context of the active span, as Kafka headers. */
export function traceHeaders (): Record<string, string> {
  const carrier: Record<string, string> = {}
  propagation.inject(context.active(), carrier)
  return carrier
}

export function createEventProducer (kafka: Kafka): EventProducer {
  const producer = kafka.producer({
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner
  })
  return {
    connect: () => producer.connect(),
    async publish (topic, events) {
      if (events.length === 0) return
      const trace = traceHeaders()
      await producer.send({
        topic,
        acks: -1,
        messages: events.map(({ key, event }) => ({
          key,
          value: encodeEvent(event),
          headers: { ...trace, 'event-id': event.id, 'event-type': event.type }
        }))
      })
    },
    async sendRaw (topic, messages) {
      await producer.send({ topic, acks: -1, messages })
    },
    disconnect: () => producer.disconnect()
  }
}
