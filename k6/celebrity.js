// Celebrity post storm: CELEBRITIES authors, each followed by the same FOLLOWERS users, post at
// POST_RATE while the followers read their home timelines at READ_RATE. Run it twice against
// the stack, changing only CELEBRITY_FOLLOWER_THRESHOLD (both timeline processes read it):
//
//   high (default 10000 > FOLLOWERS): fan-out on write. Every post is pushed to FOLLOWERS Redis
//     timelines by the fan-out worker; reads stay cheap, but the worker's backlog (outbox +
//     consumer lag) grows with POST_RATE × FOLLOWERS and takes time to drain after the storm.
//   low (≤ FOLLOWERS): fan-out on read. Posts are skipped by the worker (no backlog at all) and
//     every read pulls the celebrities' recent posts from Postgres instead.
//
// The summary shows both sides: post and read latency, the backlog sampled each second, the
// catch-up time after the storm, and the worker's own counters.
import http from 'k6/http'
import { check } from 'k6'
import { Counter, Trend } from 'k6/metrics'
import { authHeaders, expectStatus, follow, pick, registerUsers, requireBudget, touchTimelines } from './lib/api.js'
import { BASE_URL, load, number, runId, text } from './lib/env.js'
import { baseOptions, constantRate } from './lib/scenario.js'
import { delta, pendingFanout, scrape, waitForFanout } from './lib/service-metrics.js'
import { report, stat } from './lib/summary.js'

const CELEBRITIES = number('CELEBRITIES', 1)
const FOLLOWERS = number('FOLLOWERS', 200)
const POST_RATE = number('POST_RATE', 20)
const READ_RATE = number('READ_RATE', 50)
const CATCH_UP_TIMEOUT = number('CATCH_UP_TIMEOUT', 300)
const TIMELINE_METRICS_URL = text('TIMELINE_METRICS_URL', 'http://127.0.0.1:8082/metrics')
const FANOUT_METRICS_URL = text('FANOUT_METRICS_URL', 'http://127.0.0.1:8084/metrics')
// RATE is not read here: POST_RATE and READ_RATE are the two rates.
const shape = load({ rate: POST_RATE, duration: '1m', vus: 10 })

const FANOUT_COUNTERS = ['timeline_fanout_skipped', 'timeline_fanout_size_sum', 'timeline_fanout_size_count', 'timeline_fanout_duration_sum']
const serviceCounters = Object.fromEntries(FANOUT_COUNTERS.map((name) => [name, new Counter(`service_${name}`)]))
/** Events written but not fanned out yet (outbox backlog + consumer lag), sampled every second. */
const backlog = new Trend('fanout_backlog')
/** From the end of the storm until the backlog is empty. */
const catchUp = new Trend('fanout_catch_up', true)
const JSON_HEADERS = { 'content-type': 'application/json' }
const expectOk = http.expectedStatuses(200)
const expectCreated = http.expectedStatuses(201)

export const options = baseOptions({
  scenarios: {
    storm: constantRate({ exec: 'post', ...shape, rate: POST_RATE }),
    readers: constantRate({ exec: 'read', rate: READ_RATE, duration: shape.duration, vus: shape.vus, maxVUs: shape.maxVUs }),
    backlog: constantRate({ exec: 'sampleBacklog', rate: 1, duration: shape.duration, vus: 1, maxVUs: 2 })
  },
  thresholds: {
    'http_req_duration{endpoint:post}': ['p(99)<500'],
    'http_req_duration{endpoint:timeline}': ['p(99)<200'],
    'http_req_failed{endpoint:post}': ['rate<0.001'],
    'http_req_failed{endpoint:timeline}': ['rate<0.001'],
    'checks{endpoint:timeline}': ['rate>0.999'],
    fanout_catch_up: [`max<${CATCH_UP_TIMEOUT * 1000}`]
  },
  setupTimeout: '15m',
  teardownTimeout: `${CATCH_UP_TIMEOUT + 60}s`
})

export function setup () {
  const run = runId()
  const users = registerUsers(CELEBRITIES + FOLLOWERS, `k6c${run}_`)
  const celebrities = users.slice(0, CELEBRITIES)
  const followers = users.slice(CELEBRITIES)
  follow(followers.flatMap((reader) => celebrities.map((celebrity) => [reader, celebrity])))
  // Followers are active and have a timeline, so fan-out on write has somewhere to push.
  touchTimelines(followers)
  waitForFanout(TIMELINE_METRICS_URL, FANOUT_METRICS_URL)

  const probe = expectStatus(http.post(`${BASE_URL}/api/v1/posts`, JSON.stringify({ text: `k6 ${run} warm-up` }), {
    headers: authHeaders(celebrities[0].token, JSON_HEADERS), tags: { endpoint: 'probe' }
  }), 201, 'post')
  requireBudget(probe, POST_RATE / CELEBRITIES, 'celebrity posts')
  const read = expectStatus(http.get(`${BASE_URL}/api/v1/timeline?limit=20`, { headers: authHeaders(followers[0].token), tags: { endpoint: 'probe' } }), 200, 'read a home timeline')
  requireBudget(read, READ_RATE / FOLLOWERS, 'follower reads')
  return { run, celebrities, followers, before: scrape(FANOUT_METRICS_URL, FANOUT_COUNTERS) }
}

export function post (data) {
  const res = http.post(`${BASE_URL}/api/v1/posts`, JSON.stringify({ text: `k6 ${data.run} storm ${__VU}-${__ITER}` }), {
    headers: authHeaders(pick(data.celebrities).token, JSON_HEADERS),
    tags: { endpoint: 'post' },
    responseCallback: expectCreated
  })
  check(res, { 'post created': (r) => r.status === 201 }, { endpoint: 'post' })
}

export function read (data) {
  const res = http.get(`${BASE_URL}/api/v1/timeline?limit=20`, {
    headers: authHeaders(pick(data.followers).token),
    tags: { endpoint: 'timeline' },
    responseCallback: expectOk
  })
  check(res, {
    'the celebrities\' posts are there': (r) => r.status === 200 && (r.json('items') || []).length > 0
  }, { endpoint: 'timeline' })
}

export function sampleBacklog () {
  const pending = pendingFanout(TIMELINE_METRICS_URL, FANOUT_METRICS_URL)
  if (pending !== null) backlog.add(pending)
}

export function teardown (data) {
  const stormEnded = Date.now()
  const pending = pendingFanout(TIMELINE_METRICS_URL, FANOUT_METRICS_URL)
  if (pending !== null) {
    // Polled every half second (each poll asks Kafka for offsets): that is the resolution.
    if (pending > 0) waitForFanout(TIMELINE_METRICS_URL, FANOUT_METRICS_URL, CATCH_UP_TIMEOUT)
    catchUp.add(pending > 0 ? Date.now() - stormEnded : 0)
  }
  const counted = delta(data.before, scrape(FANOUT_METRICS_URL, FANOUT_COUNTERS))
  if (counted) for (const name of FANOUT_COUNTERS) serviceCounters[name].add(counted[name])
}

export function handleSummary (data) {
  const pushed = stat(data, 'service_timeline_fanout_size_count', 'count')
  const notes = []
  if (pushed === undefined) {
    notes.push('fan-out counters not read (set FANOUT_METRICS_URL and TIMELINE_METRICS_URL to the services\' /metrics)')
  } else {
    const skipped = stat(data, 'service_timeline_fanout_skipped', 'count') ?? 0
    const writes = stat(data, 'service_timeline_fanout_size_sum', 'count') ?? 0
    const workerSeconds = stat(data, 'service_timeline_fanout_duration_sum', 'count') ?? 0
    notes.push(skipped > 0 && pushed === 0
      ? `fan-out on read: ${skipped} posts skipped by the worker (CELEBRITY_FOLLOWER_THRESHOLD ≤ ${FOLLOWERS} followers); readers pulled them`
      : `fan-out on write: ${pushed} posts pushed to ${writes} timelines in ${workerSeconds.toFixed(2)} s of worker time ` +
        `(${(writes / Math.max(workerSeconds, 1e-9)).toFixed(0)} timeline inserts/s); ${skipped} skipped`)
    notes.push(`backlog during the storm: max ${stat(data, 'fanout_backlog', 'max') ?? '-'} events; ` +
      `drained ${((stat(data, 'fanout_catch_up', 'max') ?? 0) / 1000).toFixed(1)} s after the storm ended`)
  }
  return report('celebrity', data, {
    knobs: { POST_RATE, READ_RATE, DURATION: shape.duration, CELEBRITIES, FOLLOWERS },
    notes
  })
}
