// Transactional outbox: events are written to an `outbox` table in the same transaction as the
// change they describe, and one relay per database publishes them to Kafka in order, deleting
// them once the broker acknowledged. A broker outage only delays events; a crash between
// publish and delete republishes (consumers dedupe by event id). One relay is active at a time
// (a Postgres advisory lock elects it), so a key's events are never reordered.
//
// Each service's migrations create the table:
//   CREATE TABLE outbox (id bigserial PRIMARY KEY, topic text NOT NULL, key text NOT NULL,
//     event jsonb NOT NULL, headers jsonb NOT NULL DEFAULT '{}', created_at timestamptz NOT NULL DEFAULT now());
import { context, propagation, ROOT_CONTEXT } from '@opentelemetry/api'
import type pg from 'pg'
import type { FastifyBaseLogger as Logger } from 'fastify'
import type { EventEnvelope } from './kafka/envelope.ts'
import { traceHeaders, type EventProducer } from './kafka/producer.ts'
import { backoffDelay, sleep } from './retry.ts'

const CHANNEL = 'outbox'

export interface OutboxEvent {
  topic: string
  key: string
  event: EventEnvelope
}

/** Adds events to the outbox inside the caller's transaction; the relay wakes at commit. */
export async function enqueueEvents (client: pg.ClientBase | pg.Pool, events: OutboxEvent[]): Promise<void> {
  if (events.length === 0) return
  const headers = traceHeaders()
  await client.query(
    `INSERT INTO outbox (topic, key, event, headers)
     SELECT t.topic, t.key, t.event, $4::jsonb FROM unnest($1::text[], $2::text[], $3::jsonb[]) AS t(topic, key, event)`,
    [events.map((e) => e.topic), events.map((e) => e.key), events.map((e) => JSON.stringify(e.event)), JSON.stringify(headers)]
  )
  await client.query(`SELECT pg_notify('${CHANNEL}', '')`)
}

export interface OutboxRelayOptions {
  pool: pg.Pool
  producer: EventProducer
  logger: Logger
  /** Advisory lock key that elects one relay per database. */
  lockKey: number
  batchSize?: number
  /** Longest sleep between polls when no notification arrives. */
  pollMs?: number
}

export interface OutboxRelay {
  stop: () => Promise<void>
  /** Events written but not yet published. */
  backlog: () => Promise<number>
}

interface Row { id: string, topic: string, key: string, event: EventEnvelope, headers: Record<string, string> }

/** Publishes rows in id order; rows that share a trace go in one send. */
async function publishRows (producer: EventProducer, rows: Row[]): Promise<void> {
  let start = 0
  while (start < rows.length) {
    const first = rows[start]!
    let end = start + 1
    while (
      end < rows.length &&
      rows[end]!.topic === first.topic &&
      rows[end]!.headers['traceparent'] === first.headers['traceparent']
    ) end++
    const group = rows.slice(start, end)
    await context.with(propagation.extract(ROOT_CONTEXT, first.headers), () =>
      producer.publish(first.topic, group.map((r) => ({ key: r.key, event: r.event }))))
    start = end
  }
}

export function startOutboxRelay (options: OutboxRelayOptions): OutboxRelay {
  const batchSize = options.batchSize ?? 500
  const pollMs = options.pollMs ?? 1_000
  const log = options.logger.child({ component: 'outbox-relay' })
  const stopping = new AbortController()
  let wake: (() => void) | undefined

  const waitForWork = (ms: number) => new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms)
    function done () {
      clearTimeout(timer)
      wake = undefined
      stopping.signal.removeEventListener('abort', done)
      resolve()
    }
    wake = done
    stopping.signal.addEventListener('abort', done, { once: true })
  })

  async function leadAndRelay (client: pg.PoolClient) {
    client.on('notification', () => wake?.())
    await client.query(`LISTEN ${CHANNEL}`)
    let failures = 0
    while (!stopping.signal.aborted) {
      let rows: Row[]
      try {
        rows = (await client.query<Row>('SELECT id, topic, key, event, headers FROM outbox ORDER BY id LIMIT $1', [batchSize])).rows
        if (rows.length === 0) {
          await waitForWork(pollMs)
          continue
        }
        await publishRows(options.producer, rows)
        await client.query('DELETE FROM outbox WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)])
        failures = 0
      } catch (err) {
        failures++
        log.warn({ err, failures }, 'outbox relay could not publish; retrying')
        await sleep(backoffDelay(failures, { initialMs: 200, maxMs: 5_000 }), stopping.signal).catch(() => {})
        // Throws when the connection itself is gone: the caller reconnects and re-elects.
        await client.query('SELECT 1')
      }
    }
  }

  const running = (async () => {
    while (!stopping.signal.aborted) {
      let client: pg.PoolClient | undefined
      try {
        client = await options.pool.connect()
        client.on('error', () => {})
        const { rows } = await client.query<{ leader: boolean }>('SELECT pg_try_advisory_lock($1) AS leader', [options.lockKey])
        if (rows[0]?.leader) {
          log.info('outbox relay leading')
          await leadAndRelay(client)
          await client.query('SELECT pg_advisory_unlock($1)', [options.lockKey]).catch(() => {})
        } else {
          client.release()
          client = undefined
          await sleep(pollMs * 2, stopping.signal).catch(() => {})
        }
      } catch (err) {
        if (!stopping.signal.aborted) log.warn({ err }, 'outbox relay lost its connection; retrying')
        await sleep(1_000, stopping.signal).catch(() => {})
      } finally {
        // Destroy rather than release: the session holds the lock and LISTEN.
        client?.release(true)
      }
    }
  })()

  return {
    async stop () {
      stopping.abort()
      await running
    },
    async backlog () {
      const { rows } = await options.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox')
      return rows[0]?.n ?? 0
    }
  }
}
