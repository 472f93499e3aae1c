// Rate limiting: run against the stack's default policies (no RATE_LIMIT_* overrides) and expect
// 429s. Four scenarios at once:
//   noisy     — one user reads their timeline at RATE, well above the read policy: after the
//               burst (the policy's limit) the gateway answers 429 with Retry-After, and the
//               allowed rate settles at limit/window;
//   quiet     — another user reads at QUIET_RATE, under the policy: never limited, whatever the
//               noisy one does (limits are per user, not global);
//   anonymous — redirects without a token at REDIRECT_RATE: limited per client address;
//   patient   — a third user spends their whole burst, waits the Retry-After the 429 named, and
//               is let in again: the header tells the truth.
// Every response is checked for RateLimit-Policy / RateLimit-Limit / RateLimit-Remaining /
// RateLimit-Reset, every 429 for Retry-After and a problem+json body. Knobs: RATE, QUIET_RATE,
// REDIRECT_RATE, DURATION; on the stack RATE_LIMIT_READ / _REDIRECT (e.g. 60/10), and
// RATE_LIMIT_ENABLED=false to watch every threshold on 429s fail.
import http from 'k6/http'
import { check, sleep } from 'k6'
import { Counter, Gauge, Rate, Trend } from 'k6/metrics'
import { authHeaders, createLinks, header, registerUsers } from './lib/api.js'
import { BASE_URL, number, runId, seconds, text } from './lib/env.js'
import { baseOptions, constantRate } from './lib/scenario.js'
import { report, stat } from './lib/summary.js'

const RATE = number('RATE', 60)
const QUIET_RATE = number('QUIET_RATE', 2)
const REDIRECT_RATE = number('REDIRECT_RATE', 100)
const DURATION = text('DURATION', '40s')
const VUS = number('VUS', 20)

const limited = new Rate('rate_limited')
const allowed = new Counter('allowed')
const retryAfter = new Trend('retry_after_seconds')
const burst = new Trend('burst_before_first_429')
/** The read policy as the gateway announced it (recorded in setup, for the summary). */
const readLimit = new Gauge('read_policy_limit')
const readWindow = new Gauge('read_policy_window_seconds')
const readOrLimited = http.expectedStatuses(200, 429)
const redirectOrLimited = http.expectedStatuses(302, 429)

export const options = baseOptions({
  scenarios: {
    noisy: constantRate({ exec: 'noisy', rate: RATE, duration: DURATION, vus: VUS, maxVUs: VUS * 5 }),
    quiet: constantRate({ exec: 'quiet', rate: QUIET_RATE, duration: DURATION, vus: 2, maxVUs: 10 }),
    anonymous: constantRate({ exec: 'anonymous', rate: REDIRECT_RATE, duration: DURATION, vus: VUS, maxVUs: VUS * 5 }),
    // One iteration at the start: spend the burst, wait as told, come back.
    patient: constantRate({ exec: 'patient', rate: 1, timeUnit: DURATION, duration: DURATION, vus: 1 })
  },
  thresholds: {
    'rate_limited{scenario:noisy}': ['rate>0'],
    'rate_limited{scenario:anonymous}': ['rate>0'],
    'rate_limited{scenario:quiet}': ['rate==0'],
    'checks{endpoint:timeline}': ['rate==1'],
    'checks{endpoint:redirect}': ['rate==1'],
    'checks{scenario:patient}': ['rate==1'],
    'http_req_failed{scenario:quiet}': ['rate==0']
  }
})

export function setup () {
  const run = runId()
  const [noisyUser, quietUser, patientUser] = registerUsers(3, `k6l${run}_`)
  const [link] = createLinks(1, run, noisyUser)
  const policy = policyOf(readTimeline(quietUser, { phase: 'setup' }))
  readLimit.add(policy.limit)
  readWindow.add(policy.window)
  return { noisyUser, quietUser, patientUser, link }
}

const isInt = (value) => value !== undefined && /^\d+$/.test(value)

/** The checks every answer gets, limited or not; returns whether it was limited. */
function checkLimited (res, endpoint, okStatus) {
  const wasLimited = res.status === 429
  check(res, {
    'RateLimit-Policy names the policy': (r) => /^\d+;w=\d+;name="\w+"$/.test(header(r, 'ratelimit-policy') || ''),
    'RateLimit-Limit, -Remaining, -Reset are numbers': (r) =>
      isInt(header(r, 'ratelimit-limit')) && isInt(header(r, 'ratelimit-remaining')) && isInt(header(r, 'ratelimit-reset')),
    'allowed or limited, nothing else': (r) => r.status === okStatus || r.status === 429,
    'a 429 says when to retry, as a problem': (r) => r.status !== 429 || (
      isInt(header(r, 'retry-after')) && Number(header(r, 'retry-after')) >= 1 &&
      /^application\/problem\+json/.test(header(r, 'content-type') || '') && r.json('status') === 429),
    'a 429 has nothing left': (r) => r.status !== 429 || header(r, 'ratelimit-remaining') === '0'
  }, { endpoint })
  limited.add(wasLimited)
  if (wasLimited) retryAfter.add(Number(header(res, 'retry-after')))
  else allowed.add(1)
  return wasLimited
}

function readTimeline (user, tags = {}) {
  return http.get(`${BASE_URL}/api/v1/timeline?limit=1`, {
    headers: authHeaders(user.token),
    tags: { endpoint: 'timeline', ...tags },
    responseCallback: readOrLimited
  })
}

export function noisy (data) {
  checkLimited(readTimeline(data.noisyUser), 'timeline', 200)
}

export function quiet (data) {
  checkLimited(readTimeline(data.quietUser), 'timeline', 200)
}

export function anonymous (data) {
  const res = http.get(`${BASE_URL}/${data.link.code}`, { tags: { endpoint: 'redirect' }, responseCallback: redirectOrLimited, redirects: 0 })
  checkLimited(res, 'redirect', 302)
}

/** {limit, window} from a RateLimit-Policy header such as `600;w=60;name="read"`. */
function policyOf (res) {
  const [, limit, window] = (header(res, 'ratelimit-policy') || '').match(/^(\d+);w=(\d+)/) || []
  return { limit: Number(limit), window: Number(window) }
}

export function patient (data) {
  const user = data.patientUser
  const started = Date.now()
  const first = readTimeline(user, { phase: 'burst' })
  const { limit, window } = policyOf(first)
  let spent = first.status === 200 ? 1 : 0
  let denied
  // A burst of the policy's limit is allowed (refilling at limit/window meanwhile); go past it
  // in parallel batches and stop at the first 429.
  while (first.status === 200 && !denied && spent < 3 * limit + 100) {
    const batch = http.batch(Array.from({ length: 20 }, () => ['GET', `${BASE_URL}/api/v1/timeline?limit=1`, null,
      { headers: authHeaders(user.token), tags: { endpoint: 'burst' }, responseCallback: readOrLimited }]))
    for (const res of batch) {
      if (res.status === 200 && !denied) spent++
      else if (res.status === 429 && !denied) denied = res
    }
  }
  const refilled = ((Date.now() - started) / 1000) * (limit / window)
  check(denied, { 'the burst ends in a 429': (r) => r !== undefined })
  if (!denied) return
  burst.add(spent)
  check(spent, {
    'the burst is the policy\'s limit plus what refilled meanwhile': (n) => Math.abs(n - (limit + refilled)) <= Math.max(3, limit * 0.05)
  })
  const wait = Number(header(denied, 'retry-after'))
  retryAfter.add(wait)
  sleep(wait)
  const again = readTimeline(user, { phase: 'after-retry-after' })
  check(again, { 'after Retry-After seconds the request is allowed': (r) => r.status === 200 })
}

export function handleSummary (data) {
  const durationS = seconds(DURATION)
  const limit = stat(data, 'read_policy_limit', 'value')
  const window = stat(data, 'read_policy_window_seconds', 'value')
  const noisyAllowed = stat(data, 'rate_limited{scenario:noisy}', 'fails')
  const noisyLimited = stat(data, 'rate_limited{scenario:noisy}', 'passes')
  const notes = []
  if (noisyAllowed !== undefined && limit) {
    notes.push(`noisy user: ${noisyAllowed} of ${noisyAllowed + noisyLimited} reads allowed in ${durationS} s; ` +
      `the read policy (${limit} per ${window} s) allows at most ${Math.round(limit + (limit / window) * durationS)} (its burst, then ${(limit / window).toFixed(1)}/s)`)
  }
  notes.push(`patient user: burst of ${stat(data, 'burst_before_first_429', 'max') ?? '-'} reads before the first 429, ` +
    `told to retry after ${stat(data, 'retry_after_seconds', 'max') ?? '-'} s at most`)
  return report('ratelimit', data, { knobs: { RATE, QUIET_RATE, REDIRECT_RATE, DURATION }, notes })
}
