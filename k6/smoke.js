// Smoke: a trickle of load that proves the stack answers before anything heavier runs. Every
// target's readiness probe, and a user's whole journey through the gateway — shorten, follow
// the redirect, read the link back, post, see the post on the home timeline at once
// (read-your-writes). Fits in the default rate limits, so it runs against a plain `./run stack`.
// Knobs: TARGETS (comma-separated base URLs whose /health/ready is probed; default BASE_URL),
// RATE (journeys per second), DURATION.
import http from 'k6/http'
import { check } from 'k6'
import { authHeaders, header, registerUsers } from './lib/api.js'
import { BASE_URL, number, runId, text } from './lib/env.js'
import { baseOptions, constantRate, params } from './lib/scenario.js'
import { report } from './lib/summary.js'

const TARGETS = text('TARGETS', BASE_URL).split(',').map((t) => t.trim().replace(/\/+$/, '')).filter(Boolean)
const RATE = number('RATE', 0.5)
const DURATION = text('DURATION', '20s')
const JSON_HEADERS = { 'content-type': 'application/json' }

export const options = baseOptions({
  scenarios: {
    ready: constantRate({ exec: 'ready', rate: 1, duration: DURATION, vus: 2 }),
    journey: constantRate({ exec: 'journey', rate: RATE, duration: DURATION, vus: 2, maxVUs: 5 })
  },
  thresholds: {
    checks: ['rate==1'],
    'http_req_failed{endpoint:ready}': ['rate==0'],
    'http_req_failed{endpoint:shorten}': ['rate==0'],
    'http_req_failed{endpoint:redirect}': ['rate==0'],
    'http_req_failed{endpoint:link}': ['rate==0'],
    'http_req_failed{endpoint:post}': ['rate==0'],
    'http_req_failed{endpoint:timeline}': ['rate==0'],
    http_req_duration: ['p(99)<500']
  }
})

export function setup () {
  const run = runId()
  const [user] = registerUsers(1, `k6m${run}_`)
  return { run, user }
}

export function ready () {
  for (const target of TARGETS) {
    const res = http.get(`${target}/health/ready`, params('ready', [200]))
    check(res, { [`${target} is ready`]: (r) => r.status === 200 })
  }
}

export function journey (data) {
  const auth = authHeaders(data.user.token, JSON_HEADERS)
  const url = `https://example.com/k6/${data.run}/${__VU}-${__ITER}`
  const created = http.post(`${BASE_URL}/api/v1/urls`, JSON.stringify({ url }), params('shorten', [201], { headers: auth }))
  const code = created.status === 201 ? created.json('code') : undefined
  check(created, { 'shorten: 201 with a code': () => typeof code === 'string' })
  if (code) {
    const redirect = http.get(`${BASE_URL}/${code}`, params('redirect', [302], { redirects: 0 }))
    check(redirect, { 'redirect: 302 to the link': (r) => r.status === 302 && header(r, 'location') === url })
    const link = http.get(`${BASE_URL}/api/v1/urls/${code}`, params('link', [200]))
    check(link, { 'link: metadata with clicks': (r) => r.status === 200 && r.json('url') === url && typeof r.json('clicks') === 'number' })
  }

  const message = `k6 smoke ${data.run} ${__VU}-${__ITER}`
  const posted = http.post(`${BASE_URL}/api/v1/posts`, JSON.stringify({ text: message }), params('post', [201], { headers: auth }))
  check(posted, { 'post: 201': (r) => r.status === 201 })
  const timeline = http.get(`${BASE_URL}/api/v1/timeline?limit=5`, params('timeline', [200], { headers: authHeaders(data.user.token) }))
  check(timeline, {
    'timeline: shows my post at once': (r) => r.status === 200 && (r.json('items') || []).some((p) => p.text === message)
  })
}

export function handleSummary (data) {
  return report('smoke', data, { knobs: { TARGETS: TARGETS.join(','), RATE, DURATION } })
}
