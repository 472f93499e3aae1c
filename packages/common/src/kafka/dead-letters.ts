// Dead-letter parking, shared by the per-message and the batch consumer: a message that cannot
// be handled goes to <topic>.dlq with the error and where it came from in headers, is logged,
// and is counted by the caller's hook. Throwing (the DLQ unreachable) leaves the offset
// uncommitted: the message is retried later, never lost. replay.ts sends parked messages back.
import type { FastifyBaseLogger as Logger } from 'fastify'
import type { IHeaders, KafkaMessage } from 'kafkajs'
import { deadLetterTopic } from './events.ts'
import type { EventProducer } from './producer.ts'

export const DeadLetterHeaders = {
  error: 'x-dlq-error',
  errorName: 'x-dlq-error-name',
  attempts: 'x-dlq-attempts',
  originalTopic: 'x-dlq-original-topic',
  originalPartition: 'x-dlq-original-partition',
  originalOffset: 'x-dlq-original-offset',
  failedAt: 'x-dlq-failed-at'
} as const

/** Kept of an error's message in the header: enough to diagnose, bounded for the broker. */
const ERROR_HEADER_MAX_CHARS = 1_000

export function headersToStrings (headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue
    out[k] = Array.isArray(v) ? v.map(String).join(',') : v.toString()
  }
  return out
}

export interface DeadLetterParking {
  producer: EventProducer
  log: Logger
  /** Called after a message was parked (metrics). */
  onDeadLetter?: ((topic: string) => void) | undefined
}

export interface ParkedMessage {
  topic: string
  partition: number
  message: KafkaMessage
  error: Error
  attempts: number
}

export async function parkInDeadLetters (parking: DeadLetterParking, parked: ParkedMessage): Promise<void> {
  const { topic, partition, message, error, attempts } = parked
  parking.log.error({ err: error, topic, partition, offset: message.offset, attempts }, 'message dead-lettered')
  await parking.producer.sendRaw(deadLetterTopic(topic), [{
    key: message.key,
    value: message.value,
    headers: {
      ...message.headers,
      [DeadLetterHeaders.error]: error.message.slice(0, ERROR_HEADER_MAX_CHARS),
      [DeadLetterHeaders.errorName]: error.name,
      [DeadLetterHeaders.attempts]: String(attempts),
      [DeadLetterHeaders.originalTopic]: topic,
      [DeadLetterHeaders.originalPartition]: String(partition),
      [DeadLetterHeaders.originalOffset]: message.offset,
      [DeadLetterHeaders.failedAt]: new Date().toISOString()
    }
  }])
  parking.onDeadLetter?.(topic)
}
