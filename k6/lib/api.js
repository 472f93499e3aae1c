// The public API as the scenarios' setup() uses it: users, tokens, follows, links and posts, all
// through the gateway like any client's. Requests go out in parallel batches (registration
// hashes a password with scrypt, so hundreds of users take a while), and any unexpected answer
// stops setup with a message that says what to change — most often a gateway rate limit.
import http from 'k6/http'
import { sleep } from 'k6'
import { BASE_URL } from './env.js'

const BATCH = 20
const JSON_HEADERS = { 'content-type': 'application/json' }
const PASSWORD = 'k6-load-password'

/** A response header, whatever case k6 gives its name. */
export function header (res, name) {
  const wanted = name.toLowerCase()
  for (const key of Object.keys(res.headers || {})) if (key.toLowerCase() === wanted) return res.headers[key]
  return undefined
}

export function authHeaders (token, extra = {}) {
  return { authorization: `Bearer ${token}`, ...extra }
}

/** Fails setup with the likely fix when a response is not the one expected. */
export function expectStatus (res, status, what) {
  if (res.status === status) return res
  if (res.status === 429) {
    const policy = header(res, 'ratelimit-policy') || ''
    const name = (policy.match(/name="([^"]+)"/) || [])[1] || 'the'
    throw new Error(`${what}: the gateway's ${name} rate limit answered 429 (${policy}). ` +
      `Start the stack with a larger budget, e.g. RATE_LIMIT_${name.toUpperCase()}=1000000000/1 ./run stack (see k6/README.md).`)
  }
  if (res.status === 0) throw new Error(`${what}: no answer from ${BASE_URL} (${res.error}). Is the stack running? Set BASE_URL if it listens elsewhere.`)
  throw new Error(`${what}: expected ${status}, got ${res.status}: ${String(res.body).slice(0, 300)}`)
}

/**
 * Stops setup when the gateway's policy for this traffic cannot sustain `rate` requests per
 * second from one client: the run would measure 429s. Direct-to-service runs carry no policy.
 */
export function requireBudget (res, rate, what) {
  const policy = header(res, 'ratelimit-policy')
  if (!policy) return
  const [, limit, window, name] = policy.match(/^(\d+);w=(\d+);name="([^"]+)"/) || []
  if (!limit) return
  const perSecond = Number(limit) / Number(window)
  if (perSecond < rate) {
    throw new Error(`${what}: the gateway's ${name} policy allows ${perSecond.toFixed(1)} requests/s per client (${policy}) and this scenario sends ${rate}/s. ` +
      `Start the stack with e.g. RATE_LIMIT_${name.toUpperCase()}=1000000000/1 ./run stack, or lower RATE.`)
  }
}

function batched (requests, status, what) {
  const out = []
  for (let i = 0; i < requests.length; i += BATCH) {
    const responses = http.batch(requests.slice(i, i + BATCH))
    for (const res of responses) out.push(expectStatus(res, status, what))
  }
  return out
}

const setupTags = (endpoint) => ({ tags: { endpoint, phase: 'setup' } })

/** Registers `count` users named `<prefix><n>` and logs each in; returns {id, handle, token}. */
export function registerUsers (count, prefix) {
  if (!/^[A-Za-z0-9_]{1,22}$/.test(prefix)) throw new Error(`handle prefix must be 1-22 of [A-Za-z0-9_] (got ${prefix})`)
  const handles = Array.from({ length: count }, (_, i) => `${prefix}${i}`)
  const created = batched(handles.map((handle) => ['POST', `${BASE_URL}/api/v1/users`,
    JSON.stringify({ handle, password: PASSWORD }), { headers: JSON_HEADERS, ...setupTags('register') }]), 201, 'register a user')
  const tokens = batched(handles.map((handle) => ['POST', `${BASE_URL}/api/v1/auth/token`,
    JSON.stringify({ handle, password: PASSWORD }), { headers: JSON_HEADERS, ...setupTags('login') }]), 200, 'log in')
  return handles.map((handle, i) => ({ id: created[i].json('id'), handle, token: tokens[i].json('accessToken') }))
}

/** Each pair's follower follows its followee (idempotent, 204). */
export function follow (pairs) {
  batched(pairs.map(([follower, followee]) => ['PUT', `${BASE_URL}/api/v1/me/following/${followee.id}`, null,
    { headers: authHeaders(follower.token), ...setupTags('follow') }]), 204, 'follow')
}

/** Shortens `count` distinct URLs (owned by `owner` when given, else anonymous); returns {code, url}. */
export function createLinks (count, run, owner) {
  const urls = Array.from({ length: count }, (_, i) => `https://example.com/k6/${run}/${i}`)
  const headers = owner ? authHeaders(owner.token, JSON_HEADERS) : JSON_HEADERS
  const created = batched(urls.map((url) => ['POST', `${BASE_URL}/api/v1/urls`, JSON.stringify({ url }),
    { headers, ...setupTags('shorten') }]), 201, 'shorten a link')
  return created.map((res, i) => ({ code: res.json('code'), url: urls[i] }))
}

/** Each [author, text] becomes a post; returns their ids in order. */
export function createPosts (posts) {
  return batched(posts.map(([author, text]) => ['POST', `${BASE_URL}/api/v1/posts`, JSON.stringify({ text }),
    { headers: authHeaders(author.token, JSON_HEADERS), ...setupTags('post') }]), 201, 'post').map((res) => res.json('id'))
}

/**
 * Reads each user's home timeline once. A reader's first read builds their timeline in Redis and
 * marks them active, and fan-out only pushes to active readers with a timeline: without this,
 * every post would be pulled at read time and fan-out would have nothing to do.
 */
export function touchTimelines (users) {
  batched(users.map((user) => ['GET', `${BASE_URL}/api/v1/timeline?limit=1`, null,
    { headers: authHeaders(user.token), ...setupTags('timeline') }]), 200, 'read a home timeline')
}

/** Polls `probe` every half second until it returns true; fails setup after `timeoutSeconds`. */
export function waitUntil (probe, timeoutSeconds, what) {
  const deadline = Date.now() + timeoutSeconds * 1000
  while (Date.now() < deadline) {
    if (probe()) return
    sleep(0.5)
  }
  throw new Error(`${what}: not true after ${timeoutSeconds} s`)
}

/** A random element. */
export function pick (items) {
  return items[Math.floor(Math.random() * items.length)]
}
