// The event envelope every Kafka message carries: {id, type, version, occurredAt, source, data}.
import { randomUUID } from 'node:crypto'
import { Type, type Static } from 'typebox'
import { Compile } from 'typebox/compile'

export const EventEnvelopeSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  type: Type.String({ minLength: 1 }),
  version: Type.Integer({ minimum: 1 }),
  occurredAt: Type.String({ format: 'date-time' }),
  source: Type.String({ minLength: 1 }),
  data: Type.Unknown()
})

export type EventEnvelope<T = unknown> = Omit<Static<typeof EventEnvelopeSchema>, 'data'> & { data: T }

const envelopeValidator = Compile(EventEnvelopeSchema)

/** A message that cannot be an event: retrying it will never help, so it goes straight to the DLQ. */
export class MalformedEventError extends Error {
  override name = 'MalformedEventError'
}

export function createEvent<T> (
  type: string, data: T, options: { source: string, version?: number, id?: string, occurredAt?: Date }
): EventEnvelope<T> {
  return {
    id: options.id ?? randomUUID(),
    type,
    version: options.version ?? 1,
    occurredAt: (options.occurredAt ?? new Date()).toISOString(),
    source: options.source,
    data
  }
}

export function encodeEvent (event: EventEnvelope): Buffer {
  return Buffer.from(JSON.stringify(event))
}

export function decodeEvent (value: Buffer | null): EventEnvelope {
  if (value === null) throw new MalformedEventError('message has no value')
  let parsed: unknown
  try {
    parsed = JSON.parse(value.toString('utf8'))
  } catch (err) {
    throw new MalformedEventError(`message value is not JSON: ${(err as Error).message}`)
  }
  if (!envelopeValidator.Check(parsed)) {
    const first = envelopeValidator.Errors(parsed)[0]
    const reason = first ? `${first.instancePath || '/'} ${first.message}` : 'invalid'
    throw new MalformedEventError(`message is not an event envelope: ${reason}`)
  }
  return parsed as EventEnvelope
}
