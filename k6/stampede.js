// Cold cache and stampede: redirects at a constant rate over a small set of hot links while a
// second scenario deletes every one of their cache entries from Redis (at FLUSH_AT, then every
// FLUSH_EVERY). Each flush turns the hottest codes into many simultaneous misses. With request
// coalescing (COALESCING_ENABLED=true, the default) the shortener reads each code from Postgres
// once per instance however many requests wait; with COALESCING_ENABLED=false every waiting
// request reads it, and the database reads per flush — and the latency right after it — jump.
//
// Talks to Redis with the k6/x/redis extension, which k6 ≥ 1.2 fetches by itself on first use
// (automatic extension resolution); older k6 needs `xk6 build --with github.com/grafana/xk6-redis`.
import http from 'k6/http'
import { check } from 'k6'
import { Counter } from 'k6/metrics'
import redis from 'k6/x/redis'
import { createLinks, expectStatus, header, requireBudget } from './lib/api.js'
import { BASE_URL, flag, load, number, runId, seconds, text } from './lib/env.js'
import { baseOptions, constantRate } from './lib/scenario.js'
import { delta, scrape } from './lib/service-metrics.js'
import { report, stat } from './lib/summary.js'
import { zipfSampler } from './lib/zipf.js'

const LINKS = number('LINKS', 100)
const ZIPF_S = number('ZIPF_S', 1.0)
/** FLUSH=false leaves the cache alone: expiries alone (short CACHE_TTL_SECONDS) make the misses. */
const FLUSH = flag('FLUSH', true)
const FLUSH_AT = text('FLUSH_AT', '15s')
const FLUSH_EVERY = text('FLUSH_EVERY', '15s')
/** Requests this long after a flush are tagged phase:after-flush (the rest phase:steady). */
const AFTER_FLUSH_WINDOW = text('AFTER_FLUSH_WINDOW', '2s')
const REDIS_URL = text('REDIS_URL', 'redis://127.0.0.1:56379')
/** The services' REDIS_KEY_PREFIX, when the stack runs with one. */
const REDIS_KEY_PREFIX = text('REDIS_KEY_PREFIX', '')
const SHORTENER_METRICS_URL = text('SHORTENER_METRICS_URL', 'http://127.0.0.1:8081/metrics')
const P99_MS = number('P99_MS', 50)
const P99_AFTER_FLUSH_MS = number('P99_AFTER_FLUSH_MS', 250)
const shape = load({ rate: 800, duration: '1m', vus: 30 })

const flushAtS = seconds(FLUSH_AT)
const flushEveryS = seconds(FLUSH_EVERY)
const windowS = seconds(AFTER_FLUSH_WINDOW)
const flushForS = seconds(shape.duration) - flushAtS
if (FLUSH && flushForS <= 0) throw new Error(`FLUSH_AT (${FLUSH_AT}) must come before the end of DURATION (${shape.duration})`)

const COUNTERS = ['shortener_cache_misses', 'shortener_db_reads', 'shortener_coalesced_waits']
const serviceCounters = Object.fromEntries(COUNTERS.map((name) => [name, new Counter(`service_${name}`)]))
const flushes = new Counter('cache_flushes')
const keysDeleted = new Counter('cache_keys_deleted')
const pickIndex = zipfSampler(LINKS, ZIPF_S)
const expectRedirect = http.expectedStatuses(301, 302)
const client = new redis.Client(REDIS_URL)

export const options = baseOptions({
  scenarios: {
    redirects: constantRate({ exec: 'redirect', ...shape }),
    ...(FLUSH
      ? { flush: constantRate({ exec: 'flush', rate: 1, timeUnit: FLUSH_EVERY, duration: `${flushForS}s`, startTime: FLUSH_AT, vus: 1 }) }
      : {})
  },
  thresholds: {
    'http_req_duration{endpoint:redirect,phase:steady}': [`p(99)<${P99_MS}`],
    'http_req_duration{endpoint:redirect,phase:after-flush}': [`p(99)<${P99_AFTER_FLUSH_MS}`],
    'http_req_failed{endpoint:redirect}': ['rate<0.001'],
    'checks{endpoint:redirect}': ['rate>0.999'],
    ...(FLUSH ? { cache_flushes: ['count>0'] } : {})
  }
})

export function setup () {
  const links = createLinks(LINKS, runId())
  const probe = expectStatus(http.get(`${BASE_URL}/${links[0].code}`, { tags: { endpoint: 'probe' }, redirects: 0 }), 302, 'redirect')
  requireBudget(probe, shape.rate, 'redirect')
  return { links, startedAt: Date.now(), before: scrape(SHORTENER_METRICS_URL, COUNTERS) }
}

/** Which side of a flush this moment is on (from the schedule; k6 starts scenarios right after setup). */
function phase (startedAt) {
  if (!FLUSH) return 'steady'
  const sinceFirst = (Date.now() - startedAt) / 1000 - flushAtS
  if (sinceFirst < 0) return 'steady'
  return sinceFirst % flushEveryS < windowS ? 'after-flush' : 'steady'
}

export function redirect (data) {
  const link = data.links[pickIndex()]
  const tags = { endpoint: 'redirect', phase: phase(data.startedAt) }
  const res = http.get(`${BASE_URL}/${link.code}`, { tags, responseCallback: expectRedirect, redirects: 0 })
  check(res, {
    'redirects to the link': (r) => (r.status === 302 || r.status === 301) && header(r, 'location') === link.url
  }, tags)
}

export async function flush (data) {
  const keys = data.links.map((link) => `${REDIS_KEY_PREFIX}link:${link.code}`)
  let deleted = 0
  for (let i = 0; i < keys.length; i += 500) deleted += await client.del(...keys.slice(i, i + 500))
  flushes.add(1)
  keysDeleted.add(deleted)
}

export function teardown (data) {
  const counted = delta(data.before, scrape(SHORTENER_METRICS_URL, COUNTERS))
  if (counted) for (const name of COUNTERS) serviceCounters[name].add(counted[name])
}

export function handleSummary (data) {
  const flushCount = stat(data, 'cache_flushes', 'count') || 0
  const reads = stat(data, 'service_shortener_db_reads', 'count')
  const waits = stat(data, 'service_shortener_coalesced_waits', 'count')
  const notes = []
  if (reads === undefined) {
    notes.push('shortener counters not read (set SHORTENER_METRICS_URL to the shortener\'s /metrics)')
  } else {
    notes.push(FLUSH
      ? `Postgres reads per flush: ${(reads / Math.max(1, flushCount)).toFixed(1)} for ${LINKS} cold codes ` +
        `(${reads} reads over ${flushCount} flushes; ≈ codes requested when coalescing works, many more without)`
      : `Postgres reads without flushing (expiries): ${reads}`)
    notes.push(`requests that waited on another's read (coalesced): ${waits}`)
  }
  return report('stampede', data, {
    knobs: { RATE: shape.rate, DURATION: shape.duration, LINKS, ZIPF_S, FLUSH, FLUSH_AT, FLUSH_EVERY, AFTER_FLUSH_WINDOW },
    notes
  })
}
