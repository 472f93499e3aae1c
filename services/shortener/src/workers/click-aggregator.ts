// Aggregates url.clicked into link counts in Postgres, a partition's batch per transaction.
// The partition's next offset is stored in the same transaction, so a batch redelivered after
// a crash or rebalance is recognised and not counted twice; each event's id is stored too, so a
// click the producer stored twice (a retried send) is counted once. Crossing a milestone (100,
// 1 000, 10 000 clicks) enqueues url.milestone in the outbox, in the same transaction too, and
// so are the hourly counts by country, referrer and device behind GET /api/v1/urls/{code}/stats.
import {
  assertEventData, createEvent, enqueueEvents, startBatchConsumer, Topics, withTransaction,
  type DecodedMessage, type EventConsumer, type EventProducer, type KafkaClient, type OutboxEvent, type UrlClickedData,
  type UrlMilestoneData
} from '@shortfeed/common'
import type { FastifyBaseLogger as Logger, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type pg from 'pg'
import { UNKNOWN } from '../clicks/enrich.ts'
import type { ShortenerMetrics } from '../metrics.ts'

/** The milestones a count passed on its way from `before` to `after`. */
export function crossedMilestones (before: number, after: number, milestones: readonly number[]): number[] {
  return milestones.filter((m) => before < m && m <= after)
}

const DEFAULT_TOP_REFERRERS = 20
/** The referrer value for hosts past a link's first CLICK_TOP_REFERRERS. */
export const OTHER_REFERRERS = 'other'

/**
 * Adds the clicks to click_stats by hour: in total, by country, referrer host and device. A
 * link's referrer hosts are counted by name up to `topReferrers` of them (click_referrers
 * remembers which), the rest as "other": decided in click order, against what committed
 * batches stored, so a redelivered batch would decide the same (it is skipped anyway).
 */
async function addClickStats (client: pg.PoolClient, clicks: UrlClickedData[], topReferrers: number) {
  if (clicks.length === 0) return
  const codes = [...new Set(clicks.map((c) => c.code))]
  const { rows: known } = await client.query<{ code: string, referrer: string }>(
    'SELECT code, referrer FROM click_referrers WHERE code = ANY($1::text[])', [codes])
  const named = new Map<string, Set<string>>(codes.map((c) => [c, new Set()]))
  for (const row of known) named.get(row.code)!.add(row.referrer)
  const added: Array<[string, string]> = []
  const cells = new Map<string, number>()
  const count = (code: string, hour: string, dimension: string, value: string) => {
    const key = JSON.stringify([code, hour, dimension, value])
    cells.set(key, (cells.get(key) ?? 0) + 1)
  }
  for (const click of clicks) {
    const hour = `${click.at.slice(0, 13)}:00:00Z`
    let referrer = click.referrerHost ?? UNKNOWN
    const names = named.get(click.code)!
    if (!names.has(referrer)) {
      if (names.size < topReferrers) {
        names.add(referrer)
        added.push([click.code, referrer])
      } else {
        referrer = OTHER_REFERRERS
      }
    }
    count(click.code, hour, 'total', '')
    count(click.code, hour, 'country', click.country ?? UNKNOWN)
    count(click.code, hour, 'referrer', referrer)
    count(click.code, hour, 'device', click.device ?? UNKNOWN)
  }
  if (added.length > 0) {
    await client.query('INSERT INTO click_referrers (code, referrer) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING',
      [added.map((a) => a[0]), added.map((a) => a[1])])
  }
  const rows = [...cells].map(([key, n]) => [...JSON.parse(key) as string[], n] as const)
  await client.query(
    `INSERT INTO click_stats (code, hour, dimension, value, clicks)
     SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::bigint[])
     ON CONFLICT (code, hour, dimension, value) DO UPDATE SET clicks = click_stats.clicks + EXCLUDED.clicks`,
    [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), rows.map((r) => r[3]), rows.map((r) => r[4])])
}

export async function aggregateClicks (
  pool: pg.Pool, messages: DecodedMessage[], partition: { topic: string, partition: number }, milestones: readonly number[],
  metrics: ShortenerMetrics, topReferrers = DEFAULT_TOP_REFERRERS
): Promise<void> {
  const counted = await withTransaction(pool, async (client) => {
    await client.query(
      'INSERT INTO click_offsets (topic, partition, next_offset) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING',
      [partition.topic, partition.partition])
    const { rows: [position] } = await client.query<{ next_offset: string }>(
      'SELECT next_offset FROM click_offsets WHERE topic = $1 AND partition = $2 FOR UPDATE', [partition.topic, partition.partition])
    const nextOffset = BigInt(position!.next_offset)
    const fresh = messages.filter((m) => BigInt(m.meta.offset) >= nextOffset)
    if (fresh.length === 0) return { clicks: 0, milestones: 0 }

    // Copies of one event (within this batch or seen before) count once.
    const { rows: firstSeen } = await client.query<{ event_id: string }>(
      'INSERT INTO counted_clicks (event_id) SELECT unnest($1::uuid[]) ON CONFLICT DO NOTHING RETURNING event_id',
      [fresh.map((m) => m.event.id)])
    const uncounted = new Set(firstSeen.map((r) => r.event_id))
    const counts = new Map<string, number>()
    const clicks: UrlClickedData[] = []
    for (const { event } of fresh) {
      // Postgres returns uuids in lower case; an event's id may be in either.
      if (!uncounted.delete(event.id.toLowerCase())) continue
      const click = event.data as UrlClickedData
      clicks.push(click)
      counts.set(click.code, (counts.get(click.code) ?? 0) + 1)
    }
    await addClickStats(client, clicks, topReferrers)
    await client.query(
      `DELETE FROM counted_clicks WHERE event_id IN (
         SELECT event_id FROM counted_clicks WHERE counted_at < now() - interval '1 day' LIMIT 1000)`)
    const { rows } = await client.query<{ code: string, owner_id: string | null, clicks: string, added: number }>(
      `UPDATE links l SET clicks = l.clicks + c.n
       FROM unnest($1::text[], $2::int[]) AS c(code, n)
       WHERE l.code = c.code
       RETURNING l.code, l.owner_id, l.clicks, c.n AS added`,
      [[...counts.keys()], [...counts.values()]])

    const events: OutboxEvent[] = []
    for (const row of rows) {
      const after = Number(row.clicks)
      if (row.owner_id === null) continue
      for (const clicks of crossedMilestones(after - row.added, after, milestones)) {
        const data: UrlMilestoneData = { code: row.code, ownerId: row.owner_id, clicks }
        events.push({
          topic: Topics.urlMilestone,
          key: row.owner_id,
          event: createEvent(Topics.urlMilestone, data, { source: 'shortener' })
        })
      }
    }
    await enqueueEvents(client, events)
    const last = fresh.reduce((max, m) => (BigInt(m.meta.offset) > max ? BigInt(m.meta.offset) : max), nextOffset)
    await client.query(
      'UPDATE click_offsets SET next_offset = $3 WHERE topic = $1 AND partition = $2',
      [partition.topic, partition.partition, (last + 1n).toString()])
    return { clicks: [...counts.values()].reduce((a, b) => a + b, 0), milestones: events.length }
  })
  if (counted.clicks > 0) metrics.clicksAggregated.add(counted.clicks)
  if (counted.milestones > 0) metrics.milestonesReached.add(counted.milestones)
}

export interface ClickAggregatorDeps {
  kafka: KafkaClient
  ready: Promise<boolean>
  groupId: string
  pool: pg.Pool
  deadLetters: EventProducer
  logger: Logger
  milestones: readonly number[]
  topReferrers: number
  metrics: ShortenerMetrics
}

export function startClickAggregator (options: ClickAggregatorDeps): Promise<EventConsumer> {
  return startBatchConsumer({
    kafka: options.kafka,
    groupId: options.groupId,
    ready: options.ready,
    topics: [Topics.urlClicked],
    deadLetters: options.deadLetters,
    logger: options.logger,
    validate: (event) => { assertEventData(Topics.urlClicked, event.data) },
    handleBatch: (messages, partition) =>
      aggregateClicks(options.pool, messages, partition, options.milestones, options.metrics, options.topReferrers)
  })
}

export interface ClickAggregatorOptions {
  groupId: string
  /** Click counts that emit url.milestone, e.g. "100,1000,10000". */
  milestones: string
  topReferrers: number
}

/**
 * The aggregator as a worker plugin, in the API (a lone shortener) or in shortener-clicks: it
 * joins its consumer group in the background as the app starts (start-up never waits on
 * Kafka) and leaves it when the app closes.
 */
export const clickAggregator = fp(async function clickAggregator (app: FastifyInstance, options: ClickAggregatorOptions) {
  const milestones = options.milestones.split(',').map(Number).sort((a, b) => a - b)
  const aggregator: Promise<EventConsumer> = startClickAggregator({
    kafka: app.kafka,
    ready: app.kafkaReady,
    groupId: options.groupId,
    pool: app.pg,
    deadLetters: app.eventProducer,
    logger: app.log,
    milestones,
    topReferrers: options.topReferrers,
    metrics: app.shortenerMetrics
  })
  app.addHook('onClose', async () => { await (await aggregator).stop() })
}, { name: 'click-aggregator', dependencies: ['postgres', 'kafka', 'shortener-metrics'] })
