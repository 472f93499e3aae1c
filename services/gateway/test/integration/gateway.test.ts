// The gateway in front of the real shortener and timeline processes: routing, every way a
// token can be wrong, identity that clients cannot forge, limits shared across two gateway
// instances, and the headers every answer carries.
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { describe, test } from 'node:test'
import { base64url, importPKCS8, SignJWT } from 'jose'
import { buildGateway, counter, startService, uniqueName } from '../helper.ts'

const [shortener, timeline] = await Promise.all([startService('shortener'), startService('timeline')])
const gateway = await buildGateway({ UPSTREAM_SHORTENER: shortener, UPSTREAM_TIMELINE: timeline })
const json = { 'content-type': 'application/json' }

async function signUp () {
  const handle = uniqueName('u').slice(0, 30)
  const created = await gateway.inject({ method: 'POST', url: '/api/v1/users', headers: json, payload: JSON.stringify({ handle, password: 'correct horse' }) })
  assert.equal(created.statusCode, 201, created.body)
  const token = await gateway.inject({ method: 'POST', url: '/api/v1/auth/token', headers: json, payload: JSON.stringify({ handle, password: 'correct horse' }) })
  return { id: created.json().id as string, token: token.json().accessToken as string }
}

// The timeline's development signing key (refused in production), to mint tokens it would mint.
const devKey = await importPKCS8('-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIDGTq7DVv9DDH/dGhMTAs95nmib7b7by4kAopi5WiJKC\n-----END PRIVATE KEY-----', 'EdDSA')
const jwks = await (await fetch(`${timeline}/.well-known/jwks.json`)).json() as { keys: Array<{ kid: string, x: string }> }
const kid = jwks.keys[0]!.kid

describe('routing', () => {
  test('a new user registers, logs in, shortens a link and follows it, all through the gateway', async () => {
    const user = await signUp()
    const link = await gateway.inject({ method: 'POST', url: '/api/v1/urls', headers: { ...json, authorization: `Bearer ${user.token}` }, payload: JSON.stringify({ url: 'https://example.com/gw' }) })
    assert.equal(link.statusCode, 201)
    const redirect = await gateway.inject({ url: `/${link.json().code}` })
    assert.equal(redirect.statusCode, 302)
    assert.equal(redirect.headers.location, 'https://example.com/gw')
    assert.equal(redirect.headers['content-type'], undefined, 'an empty redirect is not labelled with a body type')
    // Creating the link cached it: the redirect says so (RFC 9211), through the gateway too.
    assert.equal(redirect.headers['cache-status'], 'link-cache; hit')
    const preview = await gateway.inject({ url: `/api/v1/urls/${link.json().code}/redirect` })
    assert.deepEqual(preview.json(), { code: link.json().code, status: 302, location: 'https://example.com/gw', cache: 'hit' })
    assert.equal(preview.headers['ratelimit-policy'], '1200;w=60;name="redirect"', 'a preview spends the redirect budget')
    const mine = await gateway.inject({ url: '/api/v1/me/urls', headers: { authorization: `Bearer ${user.token}` } })
    assert.deepEqual(mine.json().items.map((l: { code: string }) => l.code), [link.json().code])
  })

  test('unknown routes are 404 problems, known paths with another method 405', async () => {
    const unknown = await gateway.inject({ url: '/api/v2/anything' })
    assert.equal(unknown.statusCode, 404)
    assert.match(String(unknown.headers['content-type']), /^application\/problem\+json/)
    assert.equal((await gateway.inject({ method: 'PATCH', url: '/api/v1/posts' })).statusCode, 405)
    // The notifier is not deployed in this test: its routes are simply not there.
    assert.equal((await gateway.inject({ url: '/api/v1/notifications', headers: { authorization: `Bearer ${(await signUp()).token}` } })).statusCode, 404)
  })

  test('every answer carries a request id upstream, rate-limit headers and security headers', async () => {
    const res = await gateway.inject({ url: '/api/v1/urls/abc1234', headers: { 'x-request-id': 'trace-me-123' } })
    assert.equal(res.statusCode, 404)
    assert.equal(res.headers['ratelimit-limit'], '600')
    assert.ok(Number(res.headers['ratelimit-remaining']) < 600)
    assert.equal(res.headers['ratelimit-policy'], '600;w=60;name="read"')
    assert.equal(res.headers['x-content-type-options'], 'nosniff')
    assert.equal(res.json().instance, '/api/v1/urls/abc1234')
  })

  test('RED metrics are kept per public route and status', async () => {
    await gateway.inject({ url: '/api/v1/urls/zzz9999' })
    const metrics = (await gateway.inject({ url: '/metrics' })).body
    assert.match(metrics, /gateway_request_duration_count\{[^}]*route="GET \/api\/v1\/urls\/\{code\}"[^}]*status="404"[^}]*\} [1-9]/)
    assert.match(metrics, /gateway_ratelimit_decisions_total\{[^}]*policy="read"[^}]*decision="allow"/)
  })

  test('the OpenAPI document covers the public API of every service, with a UI at /docs', async () => {
    const doc = (await gateway.inject({ url: '/docs/json' })).json()
    for (const path of ['/api/v1/urls', '/api/v1/users', '/api/v1/timeline', '/api/v1/posts', '/{code}', '/api/v1/urls/{code}/redirect']) assert.ok(doc.paths[path], `missing ${path}`)
    // What the web UI's panel reads is documented: the cache outcome and each item's source.
    assert.ok(doc.paths['/{code}'].get.responses['302'].headers['cache-status'])
    const item = doc.paths['/api/v1/timeline'].get.responses['200'].content['application/json'].schema.properties.items.items
    assert.match(JSON.stringify(item.properties.source), /"push".*"pull"/)
    // The docs UI's "Authorize" applies to every operation that takes a token, and only to those.
    assert.deepEqual(doc.components.securitySchemes.bearer, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    const secured = (path: string, method: string) => JSON.stringify(doc.paths[path][method].security ?? null)
    for (const [path, method] of [['/api/v1/timeline', 'get'], ['/api/v1/posts', 'post'], ['/api/v1/me/urls', 'get'], ['/api/v1/me/following/{userId}', 'put'], ['/api/v1/urls/{code}', 'delete']] as const) {
      assert.equal(secured(path, method), '[{"bearer":[]}]', `${method} ${path}`)
    }
    assert.equal(secured('/api/v1/urls', 'post'), '[{"bearer":[]},{}]', 'shortening takes a token but does not need one')
    for (const [path, method] of [['/{code}', 'get'], ['/api/v1/users', 'post'], ['/api/v1/auth/token', 'post']] as const) assert.equal(secured(path, method), 'null', `${method} ${path}`)
    assert.equal(doc.paths['/health/ready'], undefined)
    assert.equal((await gateway.inject({ url: '/openapi.json' })).statusCode, 404, 'one public document, not the edge\'s own')
    assert.equal((await gateway.inject({ url: '/docs/' })).statusCode, 200)
  })
})

describe('authentication', () => {
  const call = (authorization?: string) => gateway.inject({ url: '/api/v1/timeline', headers: authorization ? { authorization } : {} })

  test('a valid token reaches the upstream as the verified user', async () => {
    const user = await signUp()
    assert.equal((await call(`Bearer ${user.token}`)).statusCode, 200)
  })

  test('no token on a protected route is 401', async () => {
    const res = await call()
    assert.equal(res.statusCode, 401)
    assert.equal(res.json().code, 'AUTH_REQUIRED')
  })

  test('alg none, a foreign key, HS256 with the public key, a malformed token, one without expiry and an expired one are all 401', async () => {
    const user = await signUp()
    const header = (h: object) => base64url.encode(JSON.stringify(h))
    const claims = { sub: user.id, iss: 'shortfeed-timeline', aud: 'shortfeed', exp: Math.floor(Date.now() / 1000) + 600 }
    const none = `${header({ alg: 'none', typ: 'JWT' })}.${header(claims)}.`
    const foreign = await new SignJWT({}).setProtectedHeader({ alg: 'EdDSA', kid }).setSubject(user.id).setIssuer('shortfeed-timeline').setAudience('shortfeed').setExpirationTime('10m')
      .sign(generateKeyPairSync('ed25519').privateKey)
    const confused = await new SignJWT({}).setProtectedHeader({ alg: 'HS256', kid }).setSubject(user.id).setIssuer('shortfeed-timeline').setAudience('shortfeed').setExpirationTime('10m')
      .sign(new TextEncoder().encode(JSON.stringify(jwks.keys[0])))
    const expired = await new SignJWT({}).setProtectedHeader({ alg: 'EdDSA', kid }).setSubject(user.id).setIssuer('shortfeed-timeline').setAudience('shortfeed').setIssuedAt(Math.floor(Date.now() / 1000) - 3600).setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(devKey)
    const wrongAudience = await new SignJWT({}).setProtectedHeader({ alg: 'EdDSA', kid }).setSubject(user.id).setIssuer('shortfeed-timeline').setAudience('someone-else').setExpirationTime('10m').sign(devKey)
    const neverExpires = await new SignJWT({}).setProtectedHeader({ alg: 'EdDSA', kid }).setSubject(user.id).setIssuer('shortfeed-timeline').setAudience('shortfeed').sign(devKey)
    for (const [name, authorization, code] of [
      ['alg none', `Bearer ${none}`, 'AUTH_TOKEN_INVALID'],
      ['foreign key', `Bearer ${foreign}`, 'AUTH_TOKEN_INVALID'],
      ['HS256 confusion', `Bearer ${confused}`, 'AUTH_TOKEN_INVALID'],
      ['wrong audience', `Bearer ${wrongAudience}`, 'AUTH_TOKEN_INVALID'],
      ['no expiry, even with the real key', `Bearer ${neverExpires}`, 'AUTH_TOKEN_INVALID'],
      ['malformed', 'Bearer not-a-jwt', 'AUTH_TOKEN_INVALID'],
      ['another scheme', `Basic ${Buffer.from('a:b').toString('base64')}`, 'AUTH_TOKEN_INVALID'],
      ['expired', `Bearer ${expired}`, 'AUTH_TOKEN_EXPIRED']
    ] as const) {
      const res = await call(authorization)
      assert.equal(res.statusCode, 401, name)
      assert.equal(res.json().code, code, name)
    }
  })

  test('a verified token is remembered, but never past its expiry', async (t) => {
    // Minted here rather than signed up for: the login budget (10 a minute) is the file's to share.
    const exp = Math.floor(Date.now() / 1000) + 30
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'EdDSA', kid }).setSubject('4242').setIssuer('shortfeed-timeline').setAudience('shortfeed').setExpirationTime(exp).sign(devKey)
    assert.equal((await call(`Bearer ${token}`)).statusCode, 200)
    assert.equal((await call(`Bearer ${token}`)).statusCode, 200)
    // The clock past exp and the 5 s tolerance: the remembered verification no longer counts.
    t.mock.timers.enable({ apis: ['Date'], now: (exp + 6) * 1000 })
    const late = await call(`Bearer ${token}`)
    t.mock.timers.reset()
    assert.equal(late.statusCode, 401)
    assert.equal(late.json().code, 'AUTH_TOKEN_EXPIRED')
  })

  test('identity headers sent by a client are stripped: it cannot act as someone else', async () => {
    const victim = await signUp()
    const forged = { 'x-shortfeed-user-id': victim.id, 'x-shortfeed-identity': 'v1.1.forged' }
    assert.equal((await gateway.inject({ url: '/api/v1/timeline', headers: forged })).statusCode, 401)
    const link = await gateway.inject({ method: 'POST', url: '/api/v1/urls', headers: { ...json, ...forged }, payload: JSON.stringify({ url: 'https://example.com/forged' }) })
    assert.equal(link.statusCode, 201)
    const mine = await gateway.inject({ url: '/api/v1/me/urls', headers: { authorization: `Bearer ${victim.token}` } })
    assert.deepEqual(mine.json().items, [], `the link was created anonymously, not as the victim: ${mine.statusCode} ${mine.body}`)
  })
})

describe('rate limiting', () => {
  test('two gateway instances share one budget; the 429 says when to retry, and the budget refills', async () => {
    const shared = `${uniqueName('shared')}:`
    // 4 an hour: one token every 900 s, so no token comes back while the test runs, however
    // slowly; the refill is then shown on the stored state, not by waiting.
    const env = { UPSTREAM_SHORTENER: shortener, UPSTREAM_TIMELINE: timeline, REDIS_KEY_PREFIX: shared, RATE_LIMIT_READ: '4/3600' }
    const [a, b] = [await buildGateway(env), await buildGateway(env)]
    const statuses = []
    for (let i = 0; i < 3; i++) {
      statuses.push((await a.inject({ url: '/api/v1/urls/abc1234' })).statusCode)
      statuses.push((await b.inject({ url: '/api/v1/urls/abc1234' })).statusCode)
    }
    assert.deepEqual(statuses, [404, 404, 404, 404, 429, 429])
    const limited = await a.inject({ url: '/api/v1/urls/abc1234' })
    assert.equal(limited.statusCode, 429)
    assert.equal(limited.json().code, 'GATEWAY_RATE_LIMITED')
    assert.equal(limited.headers['ratelimit-remaining'], '0')
    const retryAfter = Number(limited.headers['retry-after'])
    assert.ok(retryAfter > 800 && retryAfter <= 900, `retry-after ${retryAfter}`)
    // 900 s later, as the limiter's script sees it: the theoretical arrival time it stores (µs,
    // on Redis' clock) moved back by one emission interval leaves exactly one token.
    const [seconds, micros] = await a.redis.time()
    const now = Number(seconds) * 1e6 + Number(micros)
    await a.redis.set('rl:read:ip:127.0.0.1', String(now + 3600e6 - 900e6), 'PX', 3_600_000)
    assert.equal((await b.inject({ url: '/api/v1/urls/abc1234' })).statusCode, 404)
    assert.equal((await a.inject({ url: '/api/v1/urls/abc1234' })).statusCode, 429)
  })

  test('with leases, two gateways together never admit more than the shared budget, and refuse early by at most 2 leases', async () => {
    // 400 an hour: leases of up to 20 tokens (leaseCap). Each gateway takes tokens from the
    // shared budget before spending them, so the sum stays within the budget; what one holds
    // unspent when the budget runs out is all the other can be refused early.
    const shared = `${uniqueName('lease')}:`
    const env = { UPSTREAM_SHORTENER: shortener, UPSTREAM_TIMELINE: timeline, REDIS_KEY_PREFIX: shared, RATE_LIMIT_READ: '400/3600' }
    const [a, b] = [await buildGateway(env), await buildGateway(env)]
    const started = Date.now()
    let admitted = 0
    let refused = 0
    for (let round = 0; round < 20; round++) {
      const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? a : b).inject({ url: '/api/v1/urls/abc1234' })))
      for (const answer of answers) {
        if (answer.statusCode === 404) admitted++
        else if (answer.statusCode === 429) refused++
        else assert.fail(`unexpected ${answer.statusCode}: ${answer.body}`)
      }
    }
    // Tokens come back at 400 an hour: what the run's own length (and one lease span) adds.
    const refilled = Math.ceil(((Date.now() - started) / 1000 + 1) * 400 / 3600)
    assert.equal(admitted + refused, 600)
    assert.ok(admitted <= 400 + refilled, `admitted ${admitted}, budget 400 + ${refilled}`)
    assert.ok(admitted >= 400 - 2 * 20, `admitted ${admitted}: refused early by more than two leases`)
  })

  test('a limit too high to ever refuse is still decided in Redis, not by the fail-open fallback', async () => {
    // A budget of a billion per second rounds the GCRA interval to 0 µs; the key's expiry must
    // stay valid (PX ≥ 1), or every request would fall back to the local limiter.
    const open = await buildGateway({ UPSTREAM_SHORTENER: shortener, UPSTREAM_TIMELINE: timeline, RATE_LIMIT_READ: '1000000000/1' })
    const failOpen = await counter(open, 'gateway_ratelimit_fail_open')
    for (let i = 0; i < 3; i++) assert.equal((await open.inject({ url: '/api/v1/urls/abc1234' })).statusCode, 404)
    assert.equal(await counter(open, 'gateway_ratelimit_fail_open') - failOpen, 0)
  })

  test('login attempts have their own, stricter budget per address', async () => {
    // An hour's window: no token comes back during the test, however slowly it runs.
    const strict = await buildGateway({ UPSTREAM_SHORTENER: shortener, UPSTREAM_TIMELINE: timeline, RATE_LIMIT_LOGIN: '3/3600' })
    const attempts = []
    for (let i = 0; i < 5; i++) {
      attempts.push((await strict.inject({ method: 'POST', url: '/api/v1/auth/token', headers: json, payload: JSON.stringify({ handle: 'nobody', password: `guess ${i}` }) })).statusCode)
    }
    assert.deepEqual(attempts, [401, 401, 401, 429, 429])
    // Reads are a different budget.
    assert.equal((await strict.inject({ url: '/api/v1/urls/abc1234' })).statusCode, 404)
  })
})
