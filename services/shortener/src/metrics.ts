// The shortener's instruments (exported over OTLP and at GET /metrics), made by a plugin as each
// app is built: OpenTelemetry binds an instrument to the meter provider that is global when it
// is created, so instruments made at import stayed no-ops whenever telemetry started later.
import { instrumentsPlugin, serviceMeter } from '@shortfeed/common'

export function createShortenerMetrics () {
  const meter = serviceMeter('shortener')
  return {
    cacheHits: meter.createCounter('shortener_cache_hits', {
      description: 'Redirect lookups answered by Redis (negative entries included)'
    }),
    cacheMisses: meter.createCounter('shortener_cache_misses', { description: 'Redirect lookups Redis could not answer' }),
    cacheErrors: meter.createCounter('shortener_cache_errors', { description: 'Redis commands that failed (lookups then go to Postgres)' }),
    coalescedWaits: meter.createCounter('shortener_coalesced_waits', {
      description: 'Lookups that waited for another request\'s database read of the same code'
    }),
    databaseReads: meter.createCounter('shortener_db_reads', { description: 'Redirect lookups that read Postgres' }),
    clicksPublished: meter.createCounter('shortener_clicks_published', { description: 'url.clicked events acknowledged by Kafka' }),
    clicksDropped: meter.createCounter('shortener_clicks_dropped', {
      description: 'url.clicked events lost: Kafka unreachable or the buffer full'
    }),
    clicksAggregated: meter.createCounter('shortener_clicks_aggregated', { description: 'Clicks added to link counts' }),
    milestonesReached: meter.createCounter('shortener_milestones', { description: 'url.milestone events enqueued' }),
    outboxBacklog: meter.createObservableGauge('shortener_outbox_backlog', { description: 'Events written but not yet published to Kafka' })
  }
}

export type ShortenerMetrics = ReturnType<typeof createShortenerMetrics>

declare module 'fastify' {
  interface FastifyInstance {
    shortenerMetrics: ShortenerMetrics
  }
}

/** Registered first by every app builder (app.ts, clicks-app.ts); plugins depend on it by name. */
export const metricsPlugin = instrumentsPlugin('shortener-metrics', 'shortenerMetrics', createShortenerMetrics)
