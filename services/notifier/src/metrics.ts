// The notifier's instruments (exported over OTLP and at GET /metrics), made by a plugin as each
// app is built: the OpenTelemetry API binds an instrument to the meter provider that is global
// when it is created, so instruments made at import were silent no-ops whenever this module
// happened to load before telemetry started.
import { instrumentsPlugin, serviceMeter } from '@shortfeed/common'

export function createNotifierMetrics () {
  const meter = serviceMeter('notifier')
  return {
    eventsConsumed: meter.createCounter('notifier_events_consumed', { description: 'Events handled, by type' }),
    created: meter.createCounter('notifier_notifications_created', { description: 'Notifications stored, by type' }),
    grouped: meter.createCounter('notifier_notifications_grouped', {
      description: 'Notifications folded into an existing one (burst)'
    }),
    suppressed: meter.createCounter('notifier_notifications_suppressed', {
      description: 'Notifications not stored: muted by the recipient'
    }),
    duplicates: meter.createCounter('notifier_duplicate_events', { description: 'Events seen again for a recipient and ignored' }),
    deadLettered: meter.createCounter('notifier_dead_lettered', { description: 'Messages parked in a DLQ' }),
    sseConnections: meter.createUpDownCounter('notifier_sse_connections', { description: 'Open Server-Sent Events streams' }),
    consumerLag: meter.createObservableGauge('notifier_consumer_lag', {
      description: 'Messages the notifier group has not consumed yet, per topic'
    })
  }
}

export type NotifierMetrics = ReturnType<typeof createNotifierMetrics>

declare module 'fastify' {
  interface FastifyInstance {
    // Not `metrics`: the app types of several services can meet in one compilation.
    notifierMetrics: NotifierMetrics
  }
}

/** Registered first by buildApp; the plugins and the worker that count depend on it by name. */
export const metricsPlugin = instrumentsPlugin('notifier-metrics', 'notifierMetrics', createNotifierMetrics)
