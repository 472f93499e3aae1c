// Upstreams that hang, fail or flap, and a Redis that is gone: the gateway times out, retries
// only what is safe to retry, opens its breaker and fails fast, half-opens to probe, and keeps
// limiting locally when it cannot reach Redis.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { freePort } from '@shortfeed/infra'
import { buildGateway, counter, fakeUpstream } from '../helper.ts'

const ok = JSON.stringify({ code: 'abc1234', shortUrl: 'x', url: 'https://example.com', createdAt: new Date().toISOString(), expiresAt: null, clicks: 0, permanent: false })

async function gatewayFor (shortener: string, env: Record<string, string> = {}) {
  const timeline = await fakeUpstream((_req, res) => { res.writeHead(404).end() })
  return buildGateway({ UPSTREAM_SHORTENER: shortener, UPSTREAM_TIMELINE: timeline.url, RATE_LIMIT_ENABLED: 'false', ...env })
}

describe('resilience', () => {
  test('when an upstream hangs, then the call times out with a 504 problem that says when to retry', async () => {
    const hanging = await fakeUpstream(() => {})
    const gateway = await gatewayFor(hanging.url, { UPSTREAM_TIMEOUT_MS: '300', UPSTREAM_RETRIES: '0' })
    // The upstream never answers: only the gateway's own timeout can end this request.
    const res = await gateway.inject({ url: '/api/v1/urls/abc1234' })
    assert.equal(res.statusCode, 504)
    assert.equal(res.json().code, 'GATEWAY_UPSTREAM_TIMEOUT')
    assert.equal(res.headers['retry-after'], '2')
  })

  test('when an upstream answers 503 once, then an idempotent request is retried and succeeds; a POST is not retried', async () => {
    const flaky = await fakeUpstream((_req, res) => {
      if (flaky.state.calls % 2 === 1) res.writeHead(503, { 'retry-after': '1' }).end()
      else res.writeHead(200, { 'content-type': 'application/json' }).end(ok)
    })
    const gateway = await gatewayFor(flaky.url, { UPSTREAM_RETRIES: '2' })
    const retries = await counter(gateway, 'gateway_upstream_retries')
    const read = await gateway.inject({ url: '/api/v1/urls/abc1234' })
    assert.equal(read.statusCode, 200)
    assert.equal(flaky.state.calls, 2)
    assert.equal(await counter(gateway, 'gateway_upstream_retries') - retries, 1)

    flaky.state.calls = 0
    const write = await gateway.inject({ method: 'POST', url: '/api/v1/urls', headers: { 'content-type': 'application/json' }, payload: '{"url":"https://example.com"}' })
    assert.equal(write.statusCode, 503)
    assert.equal(flaky.state.calls, 1, 'a POST reached the upstream once')
  })

  test('when an upstream keeps failing, then the breaker opens (503 at once, upstream spared), half-opens, and closes when it recovers', async () => {
    let healthy = false
    const failing = await fakeUpstream((_req, res) => {
      if (healthy) res.writeHead(200, { 'content-type': 'application/json' }).end(ok)
      else res.writeHead(500, { 'content-type': 'application/json' }).end('{"status":500}')
    })
    const gateway = await gatewayFor(failing.url, { UPSTREAM_RETRIES: '0', BREAKER_VOLUME_THRESHOLD: '4', BREAKER_ERROR_PERCENT: '50', BREAKER_RESET_MS: '1000' })
    for (let i = 0; i < 4; i++) assert.equal((await gateway.inject({ url: '/api/v1/urls/abc1234' })).statusCode, 500)
    const callsWhenOpened = failing.state.calls
    const fast = await gateway.inject({ url: '/api/v1/urls/abc1234' })
    assert.equal(fast.statusCode, 503)
    assert.equal(fast.json().code, 'GATEWAY_UPSTREAM_UNAVAILABLE')
    assert.equal(fast.headers['retry-after'], '1')
    assert.equal(failing.state.calls, callsWhenOpened, 'the open breaker did not call the upstream')
    assert.match((await gateway.inject({ url: '/metrics' })).body, /gateway_breaker_state\{[^}]*upstream="shortener"[^}]*\} 2/)

    healthy = true
    await new Promise((resolve) => setTimeout(resolve, 1_100))
    // Half-open: one trial request goes through; its success closes the breaker.
    assert.equal((await gateway.inject({ url: '/api/v1/urls/abc1234' })).statusCode, 200)
    assert.equal((await gateway.inject({ url: '/api/v1/urls/abc1234' })).statusCode, 200)
    assert.match((await gateway.inject({ url: '/metrics' })).body, /gateway_breaker_state\{[^}]*upstream="shortener"[^}]*\} 0/)
  })

  test('when an upstream sheds load with 503s, then each reaches the client with its Retry-After and the breaker stays closed', async () => {
    // What the timeline does when sign-ins outrun its password hashing: a deliberate 503 is
    // the upstream protecting itself, not failing, so its other routes must stay reachable.
    const shedding = await fakeUpstream((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1' }).end('{"status":503,"code":"BUSY"}')
    })
    const gateway = await gatewayFor(shedding.url, { UPSTREAM_RETRIES: '0', BREAKER_VOLUME_THRESHOLD: '4', BREAKER_ERROR_PERCENT: '50' })
    for (let i = 0; i < 8; i++) {
      const res = await gateway.inject({ method: 'POST', url: '/api/v1/urls', headers: { 'content-type': 'application/json' }, payload: '{"url":"https://example.com"}' })
      assert.deepEqual([res.statusCode, res.headers['retry-after'], res.json().code], [503, '1', 'BUSY'])
    }
    assert.equal(shedding.state.calls, 8, 'every request reached the upstream')
    assert.match((await gateway.inject({ url: '/metrics' })).body, /gateway_breaker_state\{[^}]*upstream="shortener"[^}]*\} 0/)
  })

  test('when an upstream is down, then 502 — and requests go round-robin to the instances that are up', async () => {
    const up = await fakeUpstream((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end(ok) })
    const down = `http://127.0.0.1:${await freePort()}`
    const gateway = await gatewayFor(`${down},${up.url}`, { UPSTREAM_RETRIES: '1', BREAKER_VOLUME_THRESHOLD: '100' })
    for (let i = 0; i < 4; i++) assert.equal((await gateway.inject({ url: '/api/v1/urls/abc1234' })).statusCode, 200, 'the retry lands on the live instance')
    const onlyDown = await gatewayFor(down, { UPSTREAM_RETRIES: '0' })
    const res = await onlyDown.inject({ url: '/api/v1/urls/abc1234' })
    assert.equal(res.statusCode, 502)
    assert.equal(res.json().code, 'GATEWAY_UPSTREAM_UNREACHABLE')
    assert.equal(res.headers['retry-after'], '2')
  })

  test('when Redis is unreachable, then limits fail open to a local limiter, counted in a metric', async () => {
    const upstream = await fakeUpstream((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end(ok) })
    const timeline = await fakeUpstream((_req, res) => { res.writeHead(404).end() })
    const gateway = await buildGateway({
      UPSTREAM_SHORTENER: upstream.url,
      UPSTREAM_TIMELINE: timeline.url,
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      REDIS_COMMAND_TIMEOUT_MS: '100',
      RATE_LIMIT_READ: '2/3600'
    })
    const failOpen = await counter(gateway, 'gateway_ratelimit_fail_open')
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push((await gateway.inject({ url: '/api/v1/urls/abc1234' })).statusCode)
    assert.deepEqual(statuses, [200, 200, 429])
    assert.equal(await counter(gateway, 'gateway_ratelimit_fail_open') - failOpen, 3)
  })

  test('the request id and the W3C trace context reach the upstream; the client\'s Authorization does not', async () => {
    const seen: Array<Record<string, string | string[] | undefined>> = []
    const upstream = await fakeUpstream((req, res) => { seen.push(req.headers); res.writeHead(200, { 'content-type': 'application/json' }).end(ok) })
    const gateway = await gatewayFor(upstream.url)
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    await gateway.inject({ url: '/api/v1/urls/abc1234', headers: { 'x-request-id': 'req-42', traceparent: `00-${traceId}-00f067aa0ba902b7-01`, authorization: 'Bearer x.y.z', cookie: 'session=1' } })
    const headers = seen[0]!
    assert.equal(headers['x-request-id'], 'req-42')
    assert.match(String(headers['traceparent']), new RegExp(`^00-${traceId}-[0-9a-f]{16}-0[01]$`))
    assert.equal(headers['authorization'], undefined)
    assert.equal(headers['cookie'], undefined)
    assert.equal(headers['x-forwarded-for'], '127.0.0.1')
  })

  test('a body over the limit is refused at the edge with 413', async () => {
    const upstream = await fakeUpstream((_req, res) => { res.writeHead(201).end('{}') })
    const gateway = await gatewayFor(upstream.url, { BODY_LIMIT_BYTES: '2048' })
    const res = await gateway.inject({ method: 'POST', url: '/api/v1/urls', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ url: `https://example.com/${'x'.repeat(4000)}` }) })
    assert.equal(res.statusCode, 413)
    assert.equal(upstream.state.calls, 0)
  })
})
