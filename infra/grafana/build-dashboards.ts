// Writes infra/grafana/dashboards/*.json, one dashboard per service: RED per route, the
// service's own instruments, and Node's event-loop delay and heap. Dashboards are data, but
// hand-kept Grafana JSON repeats itself for every panel; this keeps each panel to one line (a few
// for the longer queries).
//   node infra/grafana/build-dashboards.ts          (write)
//   node infra/grafana/build-dashboards.ts --check  (exit 1 if a committed file differs)
import { readFileSync, writeFileSync } from 'node:fs'

interface Panel { title: string, expr: string | string[], unit?: string, legend?: string, kind?: 'timeseries' | 'stat' }
interface Dashboard { service: string, title: string, description: string, panels: Panel[] }

const svc = (service: string) => `service="${service}"`

/** Rate, errors and duration per route, from the histogram every service records. */
function red (service: string, metric = 'service_request_duration', route = 'route', status = 'status_code'): Panel[] {
  const s = svc(service)
  return [
    {
      title: 'Requests per second, by route',
      expr: `sum by (${route}) (rate(${metric}_count{${s}}[1m]))`,
      unit: 'reqps',
      legend: `{{${route}}}`
    },
    {
      title: 'Errors (5xx) per second, by route',
      expr: `sum by (${route}) (rate(${metric}_count{${s},${status}=~"5.."}[1m]))`,
      unit: 'reqps',
      legend: `{{${route}}}`
    },
    {
      title: 'Duration p50 / p99, by route',
      expr: [
        `histogram_quantile(0.5, sum by (le, ${route}) (rate(${metric}_bucket{${s}}[1m])))`,
        `histogram_quantile(0.99, sum by (le, ${route}) (rate(${metric}_bucket{${s}}[1m])))`
      ],
      unit: 's',
      legend: `{{${route}}}`
    }
  ]
}

function runtime (service: string): Panel[] {
  const s = svc(service)
  return [
    {
      title: 'Event-loop delay p99, by instance',
      expr: `max by (instance) (nodejs_eventloop_delay_p99{${s}})`,
      unit: 's',
      legend: '{{instance}}'
    },
    { title: 'Heap used, by instance', expr: `sum by (instance) (v8js_memory_heap_used{${s}})`, unit: 'bytes', legend: '{{instance}}' }
  ]
}

const rate = (metric: string, service: string, by = '') => `sum ${by ? `by (${by}) ` : ''}(rate(${metric}_total{${svc(service)}}[1m]))`

export const dashboards: Dashboard[] = [
  {
    service: 'gateway',
    title: 'Shortfeed · gateway',
    description: 'The front door: RED per public route, rate-limit decisions, breakers, retries.',
    panels: [
      ...red('gateway', 'gateway_request_duration', 'route', 'status'),
      {
        title: 'Rate-limit decisions, by policy and outcome',
        expr: rate('gateway_ratelimit_decisions', 'gateway', 'policy, decision, store'),
        unit: 'ops',
        legend: '{{policy}} {{decision}} ({{store}})'
      },
      { title: 'Decided locally (Redis unreachable)', expr: rate('gateway_ratelimit_fail_open', 'gateway'), unit: 'ops' },
      {
        title: 'Circuit breakers (0 closed, 1 half-open, 2 open)',
        expr: 'max by (upstream) (gateway_breaker_state{service="gateway"})',
        legend: '{{upstream}}'
      },
      { title: 'Upstream retries', expr: rate('gateway_upstream_retries', 'gateway', 'upstream'), unit: 'ops', legend: '{{upstream}}' },
      ...runtime('gateway')
    ]
  },
  {
    service: 'shortener',
    title: 'Shortfeed · shortener',
    description: 'Redirects and links: cache-aside hits, coalesced waits, database reads, the click pipeline.',
    panels: [
      ...red('shortener'),
      {
        title: 'Cache hit ratio',
        expr: `${rate('shortener_cache_hits', 'shortener')} / ` +
          `(${rate('shortener_cache_hits', 'shortener')} + ${rate('shortener_cache_misses', 'shortener')})`,
        unit: 'percentunit'
      },
      {
        title: 'Misses: coalesced waits vs database reads',
        expr: [rate('shortener_coalesced_waits', 'shortener'), rate('shortener_db_reads', 'shortener')],
        unit: 'ops'
      },
      {
        title: 'Clicks published, dropped, aggregated',
        expr: [
          rate('shortener_clicks_published', 'shortener'),
          rate('shortener_clicks_dropped', 'shortener'),
          rate('shortener_clicks_aggregated', 'shortener')
        ],
        unit: 'ops'
      },
      { title: 'Milestones reached', expr: rate('shortener_milestones', 'shortener'), unit: 'ops' },
      ...runtime('shortener')
    ]
  },
  {
    service: 'timeline',
    title: 'Shortfeed · timeline API',
    description: 'Users, posts and home timelines: cache hits, rebuilds, post cache, outbox backlog.',
    panels: [
      ...red('timeline'),
      {
        title: 'Home timelines: cache hits vs rebuilds from Postgres',
        expr: [rate('timeline_cache_hits', 'timeline'), rate('timeline_rebuilds', 'timeline')],
        unit: 'ops'
      },
      {
        title: 'Post cache hits vs misses',
        expr: [rate('timeline_post_cache_hits', 'timeline'), rate('timeline_post_cache_misses', 'timeline')],
        unit: 'ops'
      },
      { title: 'Outbox backlog (rows not yet relayed)', expr: 'max(timeline_outbox_backlog{service="timeline"})' },
      ...runtime('timeline')
    ]
  },
  {
    service: 'timeline-fanout',
    title: 'Shortfeed · fan-out worker',
    description: 'Hybrid fan-out: how many timelines each post reaches, how long it takes, what is skipped, consumer lag.',
    panels: [
      {
        title: 'Fan-out size p50 / p99 (timelines per post)',
        expr: [
          'histogram_quantile(0.5, sum by (le) (rate(timeline_fanout_size_bucket{service="timeline-fanout"}[5m])))',
          'histogram_quantile(0.99, sum by (le) (rate(timeline_fanout_size_bucket{service="timeline-fanout"}[5m])))'
        ]
      },
      {
        title: 'Fan-out duration p50 / p99',
        expr: [
          'histogram_quantile(0.5, sum by (le) (rate(timeline_fanout_duration_bucket{service="timeline-fanout"}[5m])))',
          'histogram_quantile(0.99, sum by (le) (rate(timeline_fanout_duration_bucket{service="timeline-fanout"}[5m])))'
        ],
        unit: 's'
      },
      { title: 'Posts not pushed (celebrity authors)', expr: rate('timeline_fanout_skipped', 'timeline-fanout'), unit: 'ops' },
      {
        title: 'Consumer lag (messages), by topic',
        expr: 'max by (topic) (timeline_fanout_consumer_lag{service="timeline-fanout"})',
        legend: '{{topic}}'
      },
      ...runtime('timeline-fanout')
    ]
  },
  {
    service: 'notifier',
    title: 'Shortfeed · notifier',
    description: 'Events in, notifications out: created, grouped, suppressed, duplicates, dead letters, live SSE connections, lag.',
    panels: [
      ...red('notifier'),
      { title: 'Events consumed, by topic', expr: rate('notifier_events_consumed', 'notifier', 'type'), unit: 'ops', legend: '{{type}}' },
      {
        title: 'Notifications created, grouped, suppressed',
        expr: [
          rate('notifier_notifications_created', 'notifier'),
          rate('notifier_notifications_grouped', 'notifier'),
          rate('notifier_notifications_suppressed', 'notifier')
        ],
        unit: 'ops'
      },
      {
        title: 'Duplicate events and dead letters',
        expr: [rate('notifier_duplicate_events', 'notifier'), rate('notifier_dead_lettered', 'notifier')],
        unit: 'ops'
      },
      { title: 'Open SSE connections', expr: 'sum(notifier_sse_connections{service="notifier"})' },
      {
        title: 'Consumer lag (messages), by topic',
        expr: 'max by (topic) (notifier_consumer_lag{service="notifier"})',
        legend: '{{topic}}'
      },
      ...runtime('notifier')
    ]
  }
]

function render (dashboard: Dashboard): string {
  const panels = dashboard.panels.map((panel, i) => ({
    id: i + 1,
    type: panel.kind ?? 'timeseries',
    title: panel.title,
    datasource: { type: 'prometheus', uid: 'prometheus' },
    gridPos: { x: (i % 2) * 12, y: Math.floor(i / 2) * 8, w: 12, h: 8 },
    fieldConfig: { defaults: { unit: panel.unit ?? 'short' }, overrides: [] },
    options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'none' } },
    targets: [panel.expr].flat().map((expr, j) => ({
      refId: String.fromCharCode(65 + j),
      datasource: { type: 'prometheus', uid: 'prometheus' },
      expr,
      ...(panel.legend ? { legendFormat: panel.legend } : {})
    }))
  }))
  return JSON.stringify({
    uid: `shortfeed-${dashboard.service}`,
    title: dashboard.title,
    description: dashboard.description,
    tags: ['shortfeed'],
    timezone: 'browser',
    refresh: '5s',
    time: { from: 'now-15m', to: 'now' },
    schemaVersion: 39,
    editable: false,
    panels
  }, null, 2) + '\n'
}

export const dashboardFile = (service: string) => new URL(`dashboards/${service}.json`, import.meta.url)

if (import.meta.main) {
  const check = process.argv.includes('--check')
  let stale = 0
  for (const dashboard of dashboards) {
    const file = dashboardFile(dashboard.service)
    const text = render(dashboard)
    if (!check) writeFileSync(file, text)
    else if (readFileSync(file, 'utf8') !== text) {
      stale++
      console.error(`${file.pathname} differs from infra/grafana/build-dashboards.ts`)
    }
  }
  process.exit(stale === 0 ? 0 : 1)
}
