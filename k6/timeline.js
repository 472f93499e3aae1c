// Home timeline reads: GET /api/v1/timeline at a constant rate by READERS signed-in users, each
// following FOLLOWS of AUTHORS regular authors (plus every one of the first CELEBRITIES
// authors), while authors keep posting at POST_RATE. A read is the hybrid fan-out's read side:
// the reader's pushed Redis timeline merged with the posts that must be pulled (celebrities',
// not-yet-pushed ones, the reader's own), then hydrated from the post cache. Knobs: RATE,
// READERS, FOLLOWS, CELEBRITIES, LIMIT, POST_RATE; on the stack CELEBRITY_FOLLOWER_THRESHOLD
// (≤ READERS makes the first CELEBRITIES authors celebrities: pulled on every read),
// TIMELINE_MAX_ENTRIES, POST_CACHE_TTL_SECONDS.
import http from 'k6/http'
import { check } from 'k6'
import { Counter } from 'k6/metrics'
import { authHeaders, createPosts, expectStatus, follow, pick, registerUsers, requireBudget, touchTimelines } from './lib/api.js'
import { BASE_URL, load, number, runId, text } from './lib/env.js'
import { baseOptions, constantRate } from './lib/scenario.js'
import { delta, scrape, waitForFanout } from './lib/service-metrics.js'
import { report, stat } from './lib/summary.js'

const AUTHORS = number('AUTHORS', 10)
const READERS = number('READERS', 30)
const CELEBRITIES = Math.min(number('CELEBRITIES', 0), AUTHORS)
const FOLLOWS = Math.min(number('FOLLOWS', 5), AUTHORS - CELEBRITIES)
const POSTS = number('POSTS', 10)
const LIMIT = number('LIMIT', 20)
const POST_RATE = number('POST_RATE', 2)
const P99_MS = number('P99_MS', 100)
const TIMELINE_METRICS_URL = text('TIMELINE_METRICS_URL', 'http://127.0.0.1:8082/metrics')
const FANOUT_METRICS_URL = text('FANOUT_METRICS_URL', 'http://127.0.0.1:8084/metrics')
const shape = load({ rate: 200, duration: '1m', vus: 20 })
if (FOLLOWS + CELEBRITIES < 1) throw new Error('each reader must follow someone: set FOLLOWS or CELEBRITIES above 0')

const API_COUNTERS = ['timeline_cache_hits', 'timeline_rebuilds', 'timeline_post_cache_hits', 'timeline_post_cache_misses']
const FANOUT_COUNTERS = ['timeline_fanout_skipped', 'timeline_fanout_size_sum', 'timeline_fanout_size_count']
const serviceCounters = Object.fromEntries([...API_COUNTERS, ...FANOUT_COUNTERS].map((name) => [name, new Counter(`service_${name}`)]))
const JSON_HEADERS = { 'content-type': 'application/json' }
const expectOk = http.expectedStatuses(200)
const expectCreated = http.expectedStatuses(201)

const scenarios = { reads: constantRate({ exec: 'read', ...shape }) }
if (POST_RATE > 0) scenarios.posts = constantRate({ exec: 'post', rate: POST_RATE, duration: shape.duration, vus: 2, maxVUs: 20 })

export const options = baseOptions({
  scenarios,
  thresholds: {
    'http_req_duration{endpoint:timeline}': [`p(99)<${P99_MS}`],
    'http_req_failed{endpoint:timeline}': ['rate<0.001'],
    'checks{endpoint:timeline}': ['rate>0.999'],
    ...(POST_RATE > 0 ? { 'http_req_failed{endpoint:post}': ['rate<0.001'] } : {}),
    dropped_iterations: [`count<${Math.ceil(shape.rate)}`]
  },
  setupTimeout: '10m'
})

/** n distinct random picks from items. */
function sample (items, n) {
  const copy = items.slice()
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]]
  }
  return copy.slice(0, n)
}

export function setup () {
  const run = runId()
  const users = registerUsers(AUTHORS + READERS, `k6t${run}_`)
  const authors = users.slice(0, AUTHORS)
  const readers = users.slice(AUTHORS)
  const celebrities = authors.slice(0, CELEBRITIES)
  const regular = authors.slice(CELEBRITIES)
  follow(readers.flatMap((reader) => [...celebrities, ...sample(regular, FOLLOWS)].map((author) => [reader, author])))
  touchTimelines(readers)
  createPosts(authors.flatMap((author) => Array.from({ length: POSTS }, (_, i) => [author, `k6 ${run} post ${i} by ${author.handle}`])))
  waitForFanout(TIMELINE_METRICS_URL, FANOUT_METRICS_URL)

  const probe = expectStatus(http.get(`${BASE_URL}/api/v1/timeline?limit=${LIMIT}`, { headers: authHeaders(readers[0].token), tags: { endpoint: 'probe' } }), 200, 'read a home timeline')
  requireBudget(probe, shape.rate / readers.length, 'timeline reads')
  return {
    run,
    readers,
    authors,
    before: { api: scrape(TIMELINE_METRICS_URL, API_COUNTERS), fanout: scrape(FANOUT_METRICS_URL, FANOUT_COUNTERS) }
  }
}

export function read (data) {
  const reader = pick(data.readers)
  const res = http.get(`${BASE_URL}/api/v1/timeline?limit=${LIMIT}`, {
    headers: authHeaders(reader.token),
    tags: { endpoint: 'timeline' },
    responseCallback: expectOk
  })
  check(res, {
    'a page of posts': (r) => r.status === 200 && Array.isArray(r.json('items')) && r.json('items').length > 0
  }, { endpoint: 'timeline' })
}

export function post (data) {
  const author = pick(data.authors)
  const res = http.post(`${BASE_URL}/api/v1/posts`, JSON.stringify({ text: `k6 ${data.run} ${__VU}-${__ITER}` }), {
    headers: authHeaders(author.token, JSON_HEADERS),
    tags: { endpoint: 'post' },
    responseCallback: expectCreated
  })
  check(res, { 'post created': (r) => r.status === 201 }, { endpoint: 'post' })
}

export function teardown (data) {
  const counted = {
    ...delta(data.before.api, scrape(TIMELINE_METRICS_URL, API_COUNTERS)),
    ...delta(data.before.fanout, scrape(FANOUT_METRICS_URL, FANOUT_COUNTERS))
  }
  for (const [name, value] of Object.entries(counted)) serviceCounters[name].add(value)
}

export function handleSummary (data) {
  const hits = stat(data, 'service_timeline_cache_hits', 'count')
  const rebuilds = stat(data, 'service_timeline_rebuilds', 'count')
  const postHits = stat(data, 'service_timeline_post_cache_hits', 'count')
  const postMisses = stat(data, 'service_timeline_post_cache_misses', 'count')
  const pushed = stat(data, 'service_timeline_fanout_size_count', 'count')
  const skipped = stat(data, 'service_timeline_fanout_skipped', 'count')
  const notes = []
  if (hits === undefined) {
    notes.push('timeline counters not read (set TIMELINE_METRICS_URL to the timeline API\'s /metrics)')
  } else {
    notes.push(`reads served from an existing Redis timeline: ${hits}; rebuilt from Postgres: ${rebuilds}`)
    notes.push(`posts hydrated from the post cache: ${(100 * postHits / Math.max(1, postHits + postMisses)).toFixed(1)}%`)
  }
  if (pushed !== undefined) notes.push(`posts fanned out on write: ${pushed}; skipped as celebrity posts (pulled on read): ${skipped}`)
  return report('timeline', data, {
    knobs: { RATE: shape.rate, DURATION: shape.duration, READERS, AUTHORS, FOLLOWS, CELEBRITIES, LIMIT, POST_RATE },
    notes
  })
}
