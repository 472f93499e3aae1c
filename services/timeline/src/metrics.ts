// The timeline service's instruments (exported over OTLP and at GET /metrics), made by a plugin
// as each app is built: OpenTelemetry binds an instrument to the meter provider that is global
// when it is created, so instruments made at import stayed no-ops whenever telemetry started later.
import { instrumentsPlugin, serviceMeter } from '@shortfeed/common'

export function createTimelineMetrics () {
  const meter = serviceMeter('timeline')
  return {
    timelineHits: meter.createCounter('timeline_cache_hits', { description: 'Home timeline reads served from an existing Redis timeline' }),
    timelineRebuilds: meter.createCounter('timeline_rebuilds', {
      description: 'Home timelines rebuilt from Postgres (missing, evicted, or the reader was inactive)'
    }),
    degradedReads: meter.createCounter('timeline_degraded_reads', {
      description: 'Home timeline reads served from Postgres alone because Redis was unavailable'
    }),
    postCacheHits: meter.createCounter('timeline_post_cache_hits', { description: 'Posts hydrated from the Redis post cache' }),
    postCacheMisses: meter.createCounter('timeline_post_cache_misses', { description: 'Posts hydrated from Postgres' }),
    postCacheErrors: meter.createCounter('timeline_post_cache_errors', { description: 'Redis failures while caching or reading posts' }),
    fanoutSize: meter.createHistogram('timeline_fanout_size', {
      description: 'Followers a post was pushed to',
      unit: '{timeline}',
      advice: { explicitBucketBoundaries: [0, 10, 100, 1_000, 10_000, 100_000] }
    }),
    fanoutDuration: meter.createHistogram('timeline_fanout_duration', {
      description: 'Time to push a post to every follower',
      unit: 's',
      advice: { explicitBucketBoundaries: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10] }
    }),
    fanoutSkipped: meter.createCounter('timeline_fanout_skipped', { description: 'Posts not pushed because their author is a celebrity' }),
    outboxBacklog: meter.createObservableGauge('timeline_outbox_backlog', { description: 'Events written but not yet published to Kafka' }),
    consumerLag: meter.createObservableGauge('timeline_fanout_consumer_lag', {
      description: 'Messages the fan-out group has not consumed yet, per topic'
    })
  }
}

export type TimelineMetrics = ReturnType<typeof createTimelineMetrics>

declare module 'fastify' {
  interface FastifyInstance {
    timelineMetrics: TimelineMetrics
  }
}

/** Registered first by both app builders (app.ts, fanout-app.ts); plugins depend on it by name. */
export const metricsPlugin = instrumentsPlugin('timeline-metrics', 'timelineMetrics', createTimelineMetrics)
