// The app factory's shared behaviour through inject: problem details, health, request ids.
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { describe, test, type TestContext } from 'node:test'
import createError from '@fastify/error'
import { Type } from 'typebox'
import { createRetryableError } from '../../src/http/problem.ts'
import { createServer } from '../../src/http/server.ts'

const AliasTaken = createError('SHORTENER_ALIAS_TAKEN', 'Alias "%s" is taken', 409)
const Unavailable = createRetryableError('SHORTENER_DATABASE_UNAVAILABLE', 'The database is unavailable; retry shortly', 503)

async function build (t: TestContext, checks: Record<string, () => Promise<unknown>> = {}) {
  const app = await createServer({ service: 'test', config: { NODE_ENV: 'test', LOG_LEVEL: 'silent' }, bodyLimit: 1024 })
  for (const [name, check] of Object.entries(checks)) app.addReadinessCheck(name, check)
  app.post('/things', {
    schema: {
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 10 }), count: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
      querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) })
    }
  }, async (request, reply) => reply.code(201).send(request.body))
  app.get('/taken/:alias', async (request) => { throw new AliasTaken((request.params as { alias: string }).alias) })
  app.get('/boom', async () => { throw new Error('secret internals: password=hunter2') })
  app.get('/unavailable', async () => { throw new Unavailable(5) })
  t.after(() => app.close())
  return app
}

describe('problem details', () => {
  test('when the body fails validation, then 400 lists every bad field', async (t) => {
    const app = await build(t)
    const res = await app.inject({ method: 'POST', url: '/things?limit=500', payload: { name: '', count: -1 } })
    assert.equal(res.statusCode, 400)
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/)
    const body = res.json()
    assert.equal(body.type, 'urn:shortfeed:problem:validation-failed')
    assert.equal(body.status, 400)
    assert.equal(body.instance, '/things')
    assert.ok(body.errors.length >= 1)
    for (const e of body.errors) assert.ok(['body', 'querystring'].includes(e.in))
  })

  test('when required fields are missing and unknown ones sent, then each missing field is named', async (t) => {
    const app = await build(t)
    const res = await app.inject({ method: 'POST', url: '/things', payload: {} })
    assert.equal(res.statusCode, 400)
    const pointers = res.json().errors.map((e: { pointer: string }) => e.pointer).sort()
    assert.deepEqual(pointers, ['/count', '/name'])
  })

  test('when the JSON is broken, then 400 problem', async (t) => {
    const app = await build(t)
    const res = await app.inject({ method: 'POST', url: '/things', headers: { 'content-type': 'application/json' }, payload: '{"name":' })
    assert.equal(res.statusCode, 400)
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/)
  })

  test('when the body is over the limit, then 413 problem', async (t) => {
    const app = await build(t)
    const res = await app.inject({ method: 'POST', url: '/things', payload: { name: 'x'.repeat(5_000), count: 1 } })
    assert.equal(res.statusCode, 413)
    assert.equal(res.json().status, 413)
  })

  test('when the media type is not JSON, then 415 problem', async (t) => {
    const app = await build(t)
    const res = await app.inject({ method: 'POST', url: '/things', headers: { 'content-type': 'text/xml' }, payload: '<a/>' })
    assert.equal(res.statusCode, 415)
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/)
  })

  test('when a coded error is thrown, then its status, code and message reach the client', async (t) => {
    const app = await build(t)
    const res = await app.inject('/taken/hello')
    assert.equal(res.statusCode, 409)
    assert.deepEqual(res.json(), {
      type: 'urn:shortfeed:problem:shortener-alias-taken',
      title: 'Conflict',
      status: 409,
      detail: 'Alias "hello" is taken',
      instance: '/taken/hello',
      code: 'SHORTENER_ALIAS_TAKEN'
    })
  })

  test('when an unexpected error is thrown, then 500 hides the message and names the request id', async (t) => {
    const app = await build(t)
    const res = await app.inject({ url: '/boom', headers: { 'x-request-id': 'req-123' } })
    assert.equal(res.statusCode, 500)
    assert.doesNotMatch(res.body, /hunter2|internals/)
    assert.match(res.json().detail, /req-123/)
  })

  test('when a dependency is unavailable, then 503 carries Retry-After', async (t) => {
    const app = await build(t)
    const res = await app.inject('/unavailable')
    assert.equal(res.statusCode, 503)
    assert.equal(res.headers['retry-after'], '5')
    assert.equal(res.json().code, 'SHORTENER_DATABASE_UNAVAILABLE')
  })

  test('when the path has a broken percent-encoding, then 400 problem', async (t) => {
    const app = await build(t)
    const res = await app.inject({ url: '/taken/%ZZ' })
    assert.equal(res.statusCode, 400)
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/)
    assert.equal(res.json().status, 400)
  })

  test('when the HTTP parser refuses a request (a CR in a header, headers too large), then a problem document too', async (t) => {
    const app = await build(t)
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as { port: number }
    const send = (head: string) => new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1')
      let answer = ''
      socket.on('data', (chunk: Buffer) => { answer += chunk.toString('latin1') })
      socket.on('close', () => { resolve(answer) })
      socket.on('error', reject)
      socket.write(head)
    })
    for (const [head, status] of [
      ['GET /taken/abc HTTP/1.1\r\nhost: x\r\nx-evil: a\rb\r\n\r\n', 400],
      [`GET /taken/abc HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`, 431]
    ] as const) {
      const answer = await send(head)
      assert.match(answer, new RegExp(`^HTTP/1.1 ${status} `))
      assert.match(answer, /\r\ncontent-type: application\/problem\+json\r\n/)
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))
      assert.equal(body.status, status)
      assert.equal(typeof body.title, 'string')
    }
  })

  test('when no route matches, then 404 problem', async (t) => {
    const app = await build(t)
    const res = await app.inject('/nope?x=1')
    assert.equal(res.statusCode, 404)
    assert.equal(res.json().instance, '/nope')
  })
})

describe('health', () => {
  test('live answers without consulting dependencies', async (t) => {
    const app = await build(t, { db: async () => { throw new Error('down') } })
    const res = await app.inject('/health/live')
    assert.equal(res.statusCode, 200)
  })

  test('when every check passes, then ready is 200', async (t) => {
    const app = await build(t, { db: async () => {}, cache: async () => {} })
    const res = await app.inject('/health/ready')
    assert.equal(res.statusCode, 200)
    assert.deepEqual(res.json(), { status: 'ok', checks: { db: 'up', cache: 'up' } })
  })

  test('when a check fails or hangs, then ready is 503 and says which', async (t) => {
    const app = await build(t, { db: async () => { throw new Error('refused') }, cache: () => new Promise(() => {}), queue: async () => {} })
    const res = await app.inject('/health/ready')
    assert.equal(res.statusCode, 503)
    const body = res.json()
    assert.equal(body.checks.db, 'down: refused')
    assert.match(body.checks.cache, /^down: no answer within/)
    assert.equal(body.checks.queue, 'up')
  })
})

describe('metrics endpoint', () => {
  test('only loopback and private networks may read /metrics', async () => {
    const { isInternalAddress } = await import('../../src/http/networks.ts')
    for (const ip of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '10.1.2.3', '172.20.0.5', '192.168.1.1', 'fd00::1']) assert.equal(isInternalAddress(ip), true, ip)
    for (const ip of ['8.8.8.8', '172.32.0.1', '2001:db8::1', '::ffff:1.1.1.1', '']) assert.equal(isInternalAddress(ip), false, ip)
  })
})

describe('request ids and docs', () => {
  test('an incoming x-request-id is kept; otherwise one is generated', async (t) => {
    const app = await build(t)
    const seen: string[] = []
    app.addHook('onResponse', async (request) => { seen.push(request.id) })
    await app.inject({ url: '/health/live', headers: { 'x-request-id': 'abc' } })
    await app.inject('/health/live')
    assert.equal(seen[0], 'abc')
    assert.match(seen[1] ?? '', /^[0-9a-f-]{36}$/)
  })

  test('the OpenAPI document is generated from route schemas', async (t) => {
    const app = await build(t)
    const res = await app.inject('/openapi.json')
    assert.equal(res.statusCode, 200)
    assert.ok(res.json().paths['/things'].post)
  })
})
