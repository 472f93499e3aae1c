// The knobs every scenario reads from `k6 run -e NAME=value` (or the shell environment): one
// place that parses them, so a typo'd number fails loudly instead of running a different test.

/** A string knob. */
export function text (name, fallback) {
  const value = __ENV[name]
  return value === undefined || value === '' ? fallback : value
}

/** A numeric knob; anything that is not a finite number stops the test before it starts. */
export function number (name, fallback) {
  const raw = text(name, undefined)
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number (got ${JSON.stringify(raw)})`)
  return value
}

/** A boolean knob: true, false, 1, 0, yes, no. */
export function flag (name, fallback) {
  const raw = text(name, undefined)
  if (raw === undefined) return fallback
  if (/^(true|1|yes)$/i.test(raw)) return true
  if (/^(false|0|no)$/i.test(raw)) return false
  throw new Error(`${name} must be true or false (got ${JSON.stringify(raw)})`)
}

/** Where the gateway listens: the only door a client needs. */
export const BASE_URL = text('BASE_URL', 'http://127.0.0.1:8080').replace(/\/+$/, '')

/**
 * The load every scenario is shaped by: requests per second, for how long, and how many VUs k6
 * keeps ready (an arrival-rate executor starts more, up to MAX_VUS, when responses slow down;
 * when even those are busy it drops iterations and counts them in dropped_iterations).
 */
export function load (defaults) {
  const vus = number('VUS', defaults.vus ?? 20)
  return {
    rate: number('RATE', defaults.rate),
    duration: text('DURATION', defaults.duration ?? '1m'),
    vus,
    maxVUs: Math.max(vus, number('MAX_VUS', defaults.maxVUs ?? vus * 10))
  }
}

/** "90s", "2m", "1m30s", "500ms" → seconds (the subset of k6 durations the knobs use). */
export function seconds (duration) {
  const parts = String(duration).match(/^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$/)
  if (!parts || String(duration) === '') throw new Error(`not a duration: ${JSON.stringify(duration)} (use e.g. 90s, 2m, 1m30s)`)
  const [, h = 0, m = 0, s = 0, ms = 0] = parts
  return Number(h) * 3600 + Number(m) * 60 + Number(s) + Number(ms) / 1000
}

/** Percentiles every summary shows: p99 is where the bottlenecks appear first. */
export const TREND_STATS = ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max', 'count']

/** A short id for this run, so handles and link targets never collide with an earlier run's. */
export function runId () {
  return Math.floor(Math.random() * 36 ** 6).toString(36).padStart(6, '0')
}
