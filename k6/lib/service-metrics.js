// What the services themselves counted during the run, read from their Prometheus endpoints
// (GET /metrics, loopback only) before and after: cache hits and misses, database reads,
// coalesced waits, fan-out pushes. k6 sees latency; these counters say why. Optional: when a
// URL is not set or does not answer, the scenario runs without them and says so.
import http from 'k6/http'
import { waitUntil } from './api.js'

/**
 * Sums every series of each named metric in a Prometheus text exposition. A name matches
 * `name`, `name_total` (counters) and the `{…}` label sets of either.
 */
export function parsePrometheus (body, names) {
  const totals = Object.fromEntries(names.map((n) => [n, 0]))
  for (const line of String(body).split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = line.match(/^([A-Za-z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/)
    if (!match) continue
    const [, metric, , value] = match
    for (const name of names) {
      if (metric === name || metric === `${name}_total`) totals[name] += Number(value)
    }
  }
  return totals
}

/** The named totals at `url`, or null when there is no URL or it does not answer 200. */
export function scrape (url, names) {
  if (!url) return null
  const res = http.get(url, { tags: { endpoint: 'metrics', phase: 'probe' }, timeout: '5s' })
  if (res.status !== 200) {
    console.warn(`metrics at ${url} answered ${res.status || res.error}: service counters left out of the summary`)
    return null
  }
  return parsePrometheus(res.body, names)
}

/** after − before per name, or null when either side is missing. */
export function delta (before, after) {
  if (!before || !after) return null
  return Object.fromEntries(Object.keys(after).map((name) => [name, after[name] - (before[name] ?? 0)]))
}

/**
 * Events written but not yet fanned out: the timeline API's outbox backlog plus the fan-out
 * group's consumer lag. null when either endpoint does not answer.
 */
export function pendingFanout (timelineMetricsUrl, fanoutMetricsUrl) {
  const outbox = scrape(timelineMetricsUrl, ['timeline_outbox_backlog'])
  const lag = scrape(fanoutMetricsUrl, ['timeline_fanout_consumer_lag'])
  if (!outbox || !lag) return null
  return outbox.timeline_outbox_backlog + lag.timeline_fanout_consumer_lag
}

/**
 * Waits until everything written so far is fanned out, so a run measures steady state rather
 * than setup's backlog. Does nothing when the services' metrics cannot be read.
 */
export function waitForFanout (timelineMetricsUrl, fanoutMetricsUrl, timeoutSeconds = 120) {
  if (pendingFanout(timelineMetricsUrl, fanoutMetricsUrl) === null) return
  waitUntil(() => pendingFanout(timelineMetricsUrl, fanoutMetricsUrl) === 0, timeoutSeconds, 'fan-out catching up')
}
