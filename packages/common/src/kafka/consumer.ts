// Runs an idempotent handler over a consumer group with at-least-once delivery: an offset is
// committed only after the handler succeeded or the message was parked in <topic>.dlq. A
// failing message is retried with backoff; one that keeps failing (or cannot be an event at
// all) goes to the dead-letter topic with the error in headers, and the partition moves on.
// A failure because a dependency is down (Postgres, Redis, a service) is not the message's
// fault: it is retried until the dependency is back, never dead-lettered.
import { context, propagation, trace } from '@opentelemetry/api'
import type { FastifyBaseLogger as Logger } from 'fastify'
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs'
import { backoffDelay, sleep, type BackoffOptions } from '../retry.ts'
import { isDependencyUnavailable } from '../unavailable.ts'
import { headersToStrings, parkInDeadLetters, type DeadLetterParking } from './dead-letters.ts'
import { decodeEvent, MalformedEventError, type EventEnvelope } from './envelope.ts'
import type { EventProducer } from './producer.ts'
import { untilConnected } from './until-connected.ts'

export { DeadLetterHeaders, headersToStrings } from './dead-letters.ts'

export interface MessageMeta {
  topic: string
  partition: number
  offset: string
  key: string | null
  headers: Record<string, string>
}

export type EventHandler = (event: EventEnvelope, meta: MessageMeta) => Promise<void>

export interface EventConsumerOptions {
  kafka: Kafka
  groupId: string
  topics: string[]
  handle: EventHandler
  /** Producer used to park failed messages; the service's own producer is fine. */
  deadLetters: EventProducer
  logger: Logger
  /** Attempts per message before it is dead-lettered. */
  attempts?: number
  backoff?: BackoffOptions
  fromBeginning?: boolean
  partitionsConsumedConcurrently?: number
  /** Called after a message was parked in the DLQ (metrics). */
  onDeadLetter?: (topic: string) => void
  /** Resolves when the topics exist (app.kafkaReady); the consumer joins after it. */
  ready?: Promise<boolean>
}

export interface EventConsumer {
  /** Stops fetching, lets the in-flight message finish (or abandons its retries uncommitted) and leaves the group. */
  stop: () => Promise<void>
}

/** Attempts per message before a failure that is not an outage dead-letters it. */
const DEFAULT_ATTEMPTS = 5
const MESSAGE_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 5_000 }
/** A batch fails for infrastructure reasons (its writes are one transaction): slower retries. */
const BATCH_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 10_000 }
/** Start-up waits this long for the group to be joined, then lets it join in the background. */
const JOIN_WAIT_MS = 10_000
/** Pause before rejoining after a crash kafkajs gave up on, so a broken group does not spin. */
const REJOIN_DELAY_MS = 1_000

/**
 * How long an idle fetch waits on the broker. A stop waits for the fetch in flight, so this
 * bounds shutdown time; data still arrives as soon as it is there.
 */
const FETCH_MAX_WAIT_MS = 1_000

/**
 * Leaving the group talks to the broker; with the broker down that could take minutes of
 * retries. Shutdown gives up after this: uncommitted offsets are simply redelivered.
 */
const DISCONNECT_TIMEOUT_MS = 10_000

async function disconnectWithin (consumer: Consumer) {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    consumer.disconnect(),
    new Promise<void>((resolve) => { timer = setTimeout(resolve, DISCONNECT_TIMEOUT_MS) })
  ])
  clearTimeout(timer)
}

/**
 * Connects, subscribes and runs a consumer — in the background when the broker is down (a new
 * group reads from the beginning, so nothing published meanwhile is missed) — and returns its
 * stop. Start-up waits up to 10 s for it.
 */
interface JoinOptions {
  consumer: Consumer
  groupId: string
  topics: string[]
  fromBeginning?: boolean | undefined
  ready?: Promise<boolean> | undefined
  run: () => Promise<void>
  log: Logger
  stopping: AbortController
}

async function joinGroup (options: JoinOptions): Promise<EventConsumer> {
  const { consumer, stopping, log } = options
  const join = () => untilConnected(async () => {
    if (options.ready && !await options.ready) return
    await consumer.connect()
    await consumer.subscribe({ topics: options.topics, fromBeginning: options.fromBeginning ?? true })
    await options.run()
  }, { what: `consumer ${options.groupId}`, logger: log, signal: stopping.signal })
  let joined = join()
  // kafkajs restarts a crashed consumer only when the error is "retriable" by its table, and
  // that table calls BROKER_NOT_AVAILABLE, REBALANCE_IN_PROGRESS and UNKNOWN_MEMBER_ID final:
  // errors a broker restart produces while the group re-forms. It has disconnected the consumer
  // by the time it says so; without a rejoin here it would consume nothing until the process
  // restarted (a timeline test once waited five minutes for posts that were in Kafka).
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart || stopping.signal.aborted) return
    log.error({ err: payload.error }, 'consumer crashed on an error kafkajs does not restart on; rejoining the group')
    joined = joined.then(() => sleep(REJOIN_DELAY_MS, stopping.signal).catch(() => {})).then(join)
  })
  await Promise.race([joined, new Promise((resolve) => setTimeout(resolve, JOIN_WAIT_MS).unref())])
  return {
    async stop () {
      stopping.abort(new Error('consumer stopping'))
      await joined
      await disconnectWithin(consumer)
    }
  }
}

/**
 * Runs `work` in the trace of the message's producer: the kafkajs instrumentation already made
 * a consumer span from the headers; without it (telemetry off) the context is taken from them.
 */
function inMessageTrace<T> (message: KafkaMessage, work: () => Promise<T>): Promise<T> {
  const parent = trace.getActiveSpan() ? context.active() : propagation.extract(context.active(), headersToStrings(message.headers))
  return context.with(parent, work)
}

export async function startEventConsumer (options: EventConsumerOptions): Promise<EventConsumer> {
  const attempts = options.attempts ?? DEFAULT_ATTEMPTS
  const backoff = options.backoff ?? MESSAGE_BACKOFF
  const log = options.logger.child({ component: 'consumer', groupId: options.groupId })
  const parking: DeadLetterParking = { producer: options.deadLetters, log, onDeadLetter: options.onDeadLetter }
  const stopping = new AbortController()
  const consumer = options.kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: FETCH_MAX_WAIT_MS })

  async function handleWithRetries (topic: string, partition: number, message: KafkaMessage, heartbeat: () => Promise<void>) {
    const headers = headersToStrings(message.headers)
    let event: EventEnvelope
    try {
      event = decodeEvent(message.value)
    } catch (err) {
      await parkInDeadLetters(parking, { topic, partition, message, error: err as Error, attempts: 1 })
      return
    }
    const meta: MessageMeta = { topic, partition, offset: message.offset, key: message.key?.toString() ?? null, headers }
    for (let attempt = 1; ; attempt++) {
      try {
        await options.handle(event, meta)
        return
      } catch (err) {
        const outage = isDependencyUnavailable(err)
        if (err instanceof MalformedEventError || (attempt >= attempts && !outage)) {
          await parkInDeadLetters(parking, { topic, partition, message, error: err as Error, attempts: attempt })
          return
        }
        const why = outage ? 'a dependency is down, retrying until it is back' : 'handler failed, retrying'
        log.warn({ err, topic, partition, offset: message.offset, attempt }, why)
        // Aborted by stop(): the rejection leaves the offset uncommitted for the next owner.
        await sleep(backoffDelay(attempt, backoff), stopping.signal)
        await heartbeat()
      }
    }
  }

  return joinGroup({ ...options, consumer, run: runConsumer, log, stopping })

  async function runConsumer () {
    await consumer.run({
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
      eachMessage: async ({ topic, partition, message, heartbeat }) => {
        await inMessageTrace(message, () => handleWithRetries(topic, partition, message, heartbeat))
      }
    })
  }
}

export interface DecodedMessage {
  event: EventEnvelope
  meta: MessageMeta
}

export interface BatchConsumerOptions {
  kafka: Kafka
  groupId: string
  topics: string[]
  /**
   * Handles one partition's batch. It must be idempotent under redelivery (e.g. store the
   * partition's next offset with its writes). A failure retries the whole batch with backoff,
   * without committing, until it succeeds or the consumer stops: a batch fails for
   * infrastructure reasons (a database outage), which dead-lettering would not cure.
   */
  handleBatch: (messages: DecodedMessage[], partition: { topic: string, partition: number }) => Promise<void>
  deadLetters: EventProducer
  logger: Logger
  /** Checks an event's data; throwing MalformedEventError sends it to the DLQ instead of the batch. */
  validate?: (event: EventEnvelope) => void
  backoff?: BackoffOptions
  fromBeginning?: boolean
  ready?: Promise<boolean>
  /** Called after a message was parked in the DLQ (metrics). */
  onDeadLetter?: (topic: string) => void
}

/** A consumer for aggregators: messages arrive per partition in batches; malformed ones go to the DLQ. */
export async function startBatchConsumer (options: BatchConsumerOptions): Promise<EventConsumer> {
  const backoff = options.backoff ?? BATCH_BACKOFF
  const log = options.logger.child({ component: 'batch-consumer', groupId: options.groupId })
  const parking: DeadLetterParking = { producer: options.deadLetters, log, onDeadLetter: options.onDeadLetter }
  const stopping = new AbortController()
  const consumer = options.kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: FETCH_MAX_WAIT_MS })
  return joinGroup({ ...options, consumer, run: runConsumer, log, stopping })

  async function runConsumer () {
    await consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
        const decoded: DecodedMessage[] = []
        for (const message of batch.messages) {
          try {
            const event = decodeEvent(message.value)
            options.validate?.(event)
            decoded.push({
              event,
              meta: {
                topic: batch.topic,
                partition: batch.partition,
                offset: message.offset,
                key: message.key?.toString() ?? null,
                headers: headersToStrings(message.headers)
              }
            })
          } catch (err) {
            await parkInDeadLetters(parking, { topic: batch.topic, partition: batch.partition, message, error: err as Error, attempts: 1 })
          }
        }
        for (let attempt = 1; decoded.length > 0; attempt++) {
          if (!isRunning() || isStale()) return
          try {
            // A batch is one unit of work (one transaction): it continues its first message's trace.
            await inMessageTrace(batch.messages[0]!, () => options.handleBatch(decoded, { topic: batch.topic, partition: batch.partition }))
            break
          } catch (err) {
            log.warn({ err, topic: batch.topic, partition: batch.partition, attempt }, 'batch failed, retrying')
            await sleep(backoffDelay(attempt, backoff), stopping.signal)
            await heartbeat()
          }
        }
        resolveOffset(batch.lastOffset())
        await commitOffsetsIfNecessary()
        await heartbeat()
      }
    })
  }
}
