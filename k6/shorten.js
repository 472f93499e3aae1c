// Shorten (writes): POST /api/v1/urls at a constant rate, spread over USERS signed-in users (or
// anonymous with ANONYMOUS=true). Each write allocates an id from the shortener's block of the
// Postgres sequence, inserts the link, writes it into the Redis cache and answers 201; the
// p99 here is the database's. Knobs: RATE, USERS, ALIAS_RATIO (custom aliases take the unique
// index instead of the sequence); on the stack PG_POOL_MAX, and CACHE_ENABLED=false to leave
// the cache write out.
import http from 'k6/http'
import { check } from 'k6'
import { authHeaders, expectStatus, registerUsers, requireBudget } from './lib/api.js'
import { BASE_URL, flag, load, number, runId } from './lib/env.js'
import { baseOptions, constantRate } from './lib/scenario.js'
import { report } from './lib/summary.js'

const USERS = number('USERS', 20)
const ANONYMOUS = flag('ANONYMOUS', false)
/** Share of writes that ask for a custom alias (0–1). */
const ALIAS_RATIO = number('ALIAS_RATIO', 0)
const P99_MS = number('P99_MS', 200)
const shape = load({ rate: 100, duration: '1m', vus: 20 })

const JSON_HEADERS = { 'content-type': 'application/json' }
const expectCreated = http.expectedStatuses(201)

export const options = baseOptions({
  scenarios: {
    shorten: constantRate({ exec: 'shorten', ...shape })
  },
  thresholds: {
    'http_req_duration{endpoint:shorten}': [`p(99)<${P99_MS}`],
    'http_req_failed{endpoint:shorten}': ['rate<0.001'],
    'checks{endpoint:shorten}': ['rate>0.999'],
    dropped_iterations: [`count<${Math.ceil(shape.rate)}`]
  }
})

export function setup () {
  const run = runId()
  const users = ANONYMOUS ? [] : registerUsers(USERS, `k6s${run}_`)
  const probe = expectStatus(http.post(`${BASE_URL}/api/v1/urls`, JSON.stringify({ url: `https://example.com/k6/${run}/probe` }), {
    headers: users[0] ? authHeaders(users[0].token, JSON_HEADERS) : JSON_HEADERS,
    tags: { endpoint: 'probe' }
  }), 201, 'shorten a link')
  // Each user has their own budget; anonymous writers share one (this machine's address).
  requireBudget(probe, shape.rate / Math.max(1, users.length), 'shorten')
  return { run, users }
}

export function shorten (data) {
  const user = data.users.length > 0 ? data.users[Math.floor(Math.random() * data.users.length)] : null
  const unique = `${__VU}-${__ITER}-${Math.floor(Math.random() * 1e9).toString(36)}`
  const body = { url: `https://example.com/k6/${data.run}/${unique}` }
  if (Math.random() < ALIAS_RATIO) body.alias = `k6${data.run}${unique.replace(/-/g, '')}`.slice(0, 32)
  const res = http.post(`${BASE_URL}/api/v1/urls`, JSON.stringify(body), {
    headers: user ? authHeaders(user.token, JSON_HEADERS) : JSON_HEADERS,
    tags: { endpoint: 'shorten' },
    responseCallback: expectCreated
  })
  check(res, {
    'created with a code': (r) => r.status === 201 && typeof r.json('code') === 'string' && (!body.alias || r.json('code') === body.alias)
  }, { endpoint: 'shorten' })
}

export function handleSummary (data) {
  return report('shorten', data, {
    knobs: { RATE: shape.rate, DURATION: shape.duration, USERS: ANONYMOUS ? 'anonymous' : USERS, ALIAS_RATIO }
  })
}
