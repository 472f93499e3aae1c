// Load shedding: when the gateway's event loop falls behind (here: held busy in 200 ms slices
// for 2.5 s, longer than two of @fastify/under-pressure's 1 s samples), new requests are
// refused at once with a 503 problem and Retry-After instead of queueing behind the backlog,
// and served again once the loop has caught up. The pressure is made of wall-clock time, so
// the outcome does not depend on how fast the machine is.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import { buildGateway, eventually, fakeUpstream } from '../helper.ts'

const upstream = await fakeUpstream((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end('{"items":[],"nextCursor":null}') })
const gateway = await buildGateway({ UPSTREAM_SHORTENER: upstream.url, UPSTREAM_TIMELINE: upstream.url, MAX_EVENT_LOOP_DELAY_MS: '100' })

async function holdTheLoop (totalMs: number, sliceMs: number) {
  const until = Date.now() + totalMs
  while (Date.now() < until) {
    const sliceEnd = Date.now() + sliceMs
    while (Date.now() < sliceEnd) { /* busy: the event loop cannot run */ }
    await yieldToLoop()
  }
}

test('when the event loop falls behind, then new requests get 503 with Retry-After, and are served once it catches up', async () => {
  // Start-up itself (loading and compiling modules) can hold the loop for a sample: settle first.
  await eventually(() => gateway.inject({ url: '/api/v1/users/123/posts' }), (res) => res.statusCode === 200)
  const before = upstream.state.calls

  await holdTheLoop(2_500, 200)
  const shed = await gateway.inject({ url: '/api/v1/users/123/posts' })
  assert.equal(shed.statusCode, 503)
  assert.equal(shed.headers['retry-after'], '5')
  assert.match(String(shed.headers['content-type']), /^application\/problem\+json/)
  assert.equal(shed.json().code, 'GATEWAY_OVERLOADED')
  assert.equal(upstream.state.calls, before, 'a shed request never reaches the upstream')

  const served = await eventually(() => gateway.inject({ url: '/api/v1/users/123/posts' }), (res) => res.statusCode !== 503)
  assert.equal(served.statusCode, 200)
})
