// Redirect hot path: GET /{code} at a constant rate over links that are all in the cache, codes
// drawn from a Zipf distribution (a few links take most clicks). Shows the best case of the
// shortener — Redis hit, 302, click published without waiting — and what the gateway adds on
// top. Knobs: RATE, LINKS, ZIPF_S; REDIRECT_URL to aim at the shortener directly; on the stack,
// CACHE_ENABLED=false turns every redirect into a Postgres read. Each click comes from another
// public address (X-Forwarded-For), browser and referrer, as real clicks do, so click analytics
// (GET /api/v1/urls/{code}/stats) fill up; through the gateway the addresses count only where it
// trusts the client's X-Forwarded-For (TRUST_PROXY), aimed at the shortener they always do.
import http from 'k6/http'
import { check } from 'k6'
import { Counter } from 'k6/metrics'
import { createLinks, expectStatus, header, requireBudget } from './lib/api.js'
import { BASE_URL, load, number, runId, text } from './lib/env.js'
import { baseOptions, constantRate } from './lib/scenario.js'
import { delta, scrape } from './lib/service-metrics.js'
import { report, stat } from './lib/summary.js'
import { zipfHeadShare, zipfSampler } from './lib/zipf.js'

const LINKS = number('LINKS', 1000)
const ZIPF_S = number('ZIPF_S', 1.0)
const REDIRECT_URL = text('REDIRECT_URL', BASE_URL).replace(/\/+$/, '')
const SHORTENER_METRICS_URL = text('SHORTENER_METRICS_URL', 'http://127.0.0.1:8081/metrics')
const P99_MS = number('P99_MS', 50)
const shape = load({ rate: 500, duration: '1m', vus: 20 })

const COUNTERS = ['shortener_cache_hits', 'shortener_cache_misses', 'shortener_db_reads']
const serviceCounters = Object.fromEntries(COUNTERS.map((name) => [name, new Counter(`service_${name}`)]))
const pickIndex = zipfSampler(LINKS, ZIPF_S)
const redirectParams = { tags: { endpoint: 'redirect' }, responseCallback: http.expectedStatuses(301, 302), redirects: 0 }

export const options = baseOptions({
  scenarios: {
    redirects: constantRate({ exec: 'redirect', ...shape })
  },
  thresholds: {
    'http_req_duration{endpoint:redirect}': [`p(99)<${P99_MS}`],
    'http_req_failed{endpoint:redirect}': ['rate<0.001'],
    'checks{endpoint:redirect}': ['rate>0.999'],
    // Iterations k6 could not start on time: the system (or k6) is past its capacity.
    dropped_iterations: [`count<${Math.ceil(shape.rate)}`]
  }
})

export function setup () {
  const run = runId()
  const links = createLinks(LINKS, run)
  const probe = expectStatus(http.get(`${REDIRECT_URL}/${links[0].code}`, { ...redirectParams, tags: { endpoint: 'probe' } }), 302, 'redirect')
  requireBudget(probe, shape.rate, 'redirect')
  // Creating a link writes it to the cache: the measured run starts hot.
  return { links, before: scrape(SHORTENER_METRICS_URL, COUNTERS) }
}

const AGENTS = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
  'Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'
]
const REFERRERS = ['https://news.example/story', 'https://www.social.example/feed', 'https://mail.example/inbox', null]
let clicks = 0

/** The next click's client: a public IPv4 address, a browser and, three times in four, a referrer. */
function clientHeaders (i) {
  const headers = {
    'X-Forwarded-For': `${(i * 37) % 200 + 11}.${(i * 13) % 250}.${i % 250}.${(i * 7) % 250 + 1}`,
    'User-Agent': AGENTS[i % AGENTS.length]
  }
  const referrer = REFERRERS[i % REFERRERS.length]
  if (referrer) headers.Referer = referrer
  return headers
}

export function redirect (data) {
  const link = data.links[pickIndex()]
  const res = http.get(`${REDIRECT_URL}/${link.code}`, { ...redirectParams, headers: clientHeaders(clicks++) })
  check(res, {
    'redirects to the link': (r) => (r.status === 302 || r.status === 301) && header(r, 'location') === link.url
  }, { endpoint: 'redirect' })
}

export function teardown (data) {
  const counted = delta(data.before, scrape(SHORTENER_METRICS_URL, COUNTERS))
  if (counted) for (const name of COUNTERS) serviceCounters[name].add(counted[name])
}

export function handleSummary (data) {
  const hits = stat(data, 'service_shortener_cache_hits', 'count')
  const misses = stat(data, 'service_shortener_cache_misses', 'count')
  const notes = [
    `Zipf s=${ZIPF_S} over ${LINKS} links: the top 1% of codes take ${(100 * zipfHeadShare(LINKS, ZIPF_S, Math.ceil(LINKS / 100))).toFixed(0)}% of requests`,
    hits === undefined
      ? 'shortener counters not read (set SHORTENER_METRICS_URL to the shortener\'s /metrics)'
      : `shortener cache hit ratio: ${(100 * hits / Math.max(1, hits + misses)).toFixed(2)}% (${hits} hits, ${misses} misses)`
  ]
  return report('redirect', data, {
    knobs: { RATE: shape.rate, DURATION: shape.duration, LINKS, ZIPF_S, REDIRECT_URL },
    notes
  })
}
