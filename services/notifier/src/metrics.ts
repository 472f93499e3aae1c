// The notifier's instruments (exported over OTLP and at GET /metrics).
import { serviceMeter } from '@shortfeed/common'

const meter = serviceMeter('notifier')

export const notifierMetrics = {
  eventsConsumed: meter.createCounter('notifier_events_consumed', { description: 'Events handled, by type' }),
  created: meter.createCounter('notifier_notifications_created', { description: 'Notifications stored, by type' }),
  grouped: meter.createCounter('notifier_notifications_grouped', { description: 'Notifications folded into an existing one (burst)' }),
  suppressed: meter.createCounter('notifier_notifications_suppressed', { description: 'Notifications not stored: muted by the recipient' }),
  duplicates: meter.createCounter('notifier_duplicate_events', { description: 'Events seen again for a recipient and ignored' }),
  deadLettered: meter.createCounter('notifier_dead_lettered', { description: 'Messages parked in a DLQ' }),
  sseConnections: meter.createUpDownCounter('notifier_sse_connections', { description: 'Open Server-Sent Events streams' }),
  consumerLag: meter.createObservableGauge('notifier_consumer_lag', { description: 'Messages the notifier group has not consumed yet, per topic' })
}
