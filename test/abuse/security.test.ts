// The OWASP API Security Top 10 (2023) against the whole system through the gateway: whose
// objects a user can touch (API1), forged and stale tokens (API2), fields a client must not
// set or see (API3), limits (API4, API6), functions and documents that are not public (API5,
// API9), server-side fetches a token could trigger (API7), the gateway's headers (API8), and
// that no secret reaches a log line — every process runs at LOG_LEVEL=trace with its output
// captured. docs/security.md maps each item to these tests.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { after, describe, test } from 'node:test'
import pg from 'pg'
import { eventually, uniqueName } from '../harness.ts'
import { call, createFixture, notificationIds, signUp } from './fixture.ts'
import { rawRequest } from './raw-http.ts'
import { INTERNAL_AUTH_SECRET, outputOf, startAbuseStack, startGateway, type ServiceName } from './stack.ts'
import { forgedTokens } from './tokens.ts'

const stack = await startAbuseStack({ logLevel: 'trace' })
const f = await createFixture(stack)

/** A server that must never be called: forged token headers point at it. */
let canaryCalls = 0
const canary = createServer((_req, res) => { canaryCalls++; res.writeHead(404).end() })
await new Promise<void>((resolve) => canary.listen(0, '127.0.0.1', resolve))
after(() => { canary.close() })
const canaryUrl = `http://127.0.0.1:${(canary.address() as { port: number }).port}/`

async function query<T extends pg.QueryResultRow> (database: keyof typeof stack.databases, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: stack.databases[database] })
  await client.connect()
  try {
    return (await client.query<T>(sql, values)).rows
  } finally {
    await client.end()
  }
}

describe('API1:2023 broken object-level authorization', () => {
  test('Bob cannot delete Alice\'s link: 404 as if it did not exist, and it still redirects', async () => {
    const deleted = await call(f.gateway, 'DELETE', `/api/v1/urls/${f.link.code}`, { token: f.bob.token })
    assert.equal(deleted.status, 404)
    const redirect = await rawRequest(f.gateway, { method: 'GET', path: `/${f.link.code}` })
    assert.equal(redirect.status, 302)
    assert.equal(redirect.headers['location'], f.link.url)
    const [row] = await query<{ deleted_at: Date | null, owner_id: string }>('shortener', 'SELECT deleted_at, owner_id FROM links WHERE code = $1', [f.link.code])
    assert.deepEqual(row, { deleted_at: null, owner_id: f.alice.id })
  })

  test('Bob\'s list of links never shows Alice\'s; a link\'s public stats do not name its owner', async () => {
    const mine = await call(f.gateway, 'GET', '/api/v1/me/urls?limit=100', { token: f.bob.token })
    assert.equal(mine.status, 200)
    // Bob may have links of his own (other tests make some); Alice's is never among them.
    assert.deepEqual((mine.json['items'] as Array<{ code: string }>).filter((l) => l.code === f.link.code), [])
    // Stats are public by design (the code is the capability; codes are not enumerable), so
    // they carry nothing about who made the link.
    const stats = await call(f.gateway, 'GET', `/api/v1/urls/${f.link.code}`, { token: f.bob.token })
    assert.equal(stats.status, 200)
    assert.deepEqual(Object.keys(stats.json).sort(), ['clicks', 'code', 'createdAt', 'expiresAt', 'permanent', 'shortUrl', 'url'])
  })

  test('Bob cannot read or mark Alice\'s notifications, by id or by "everything up to"', async () => {
    const aliceIds = f.notifications.alice
    assert.ok(aliceIds.length > 0)
    const bobsList = await notificationIds(f.gateway, f.bob)
    assert.equal(bobsList.filter((id) => aliceIds.includes(id)).length, 0)
    const byId = await call(f.gateway, 'POST', '/api/v1/notifications/read', { token: f.bob.token, body: { ids: aliceIds } })
    assert.deepEqual(byId.json, { marked: 0, unreadCount: 1 })
    const upTo = await call(f.gateway, 'POST', '/api/v1/notifications/read', { token: f.bob.token, body: { upToId: '9223372036854775807' } })
    assert.equal(upTo.json['marked'], 1, 'Bob marks his own one notification, nothing more')
    const alice = await call(f.gateway, 'GET', '/api/v1/notifications', { token: f.alice.token })
    assert.equal(alice.json['unreadCount'], 1)
  })

  test('a user\'s live stream never carries another user\'s notifications', async () => {
    // Users of its own, so that the fixture's (whose notifications other tests count) are untouched.
    const [owner, watcher] = await Promise.all([signUp(f.gateway, 'owner'), signUp(f.gateway, 'watcher')])
    const controller = new AbortController()
    const open = async (user: { token: string }) => {
      const stream = await fetch(`${f.gateway}/api/v1/notifications/stream`, { headers: { authorization: `Bearer ${user.token}` }, signal: controller.signal })
      assert.equal(stream.status, 200)
      const read = { text: '', done: Promise.resolve() }
      read.done = (async () => {
        try {
          for await (const chunk of stream.body!) read.text += Buffer.from(chunk).toString()
        } catch {}
      })()
      await eventually(async () => read.text, (text) => text.startsWith('retry: '))
      return read
    }
    const watching = await open(watcher)
    const owners = await open(owner)
    const carol = await signUp(f.gateway, 'carol')
    assert.equal((await call(f.gateway, 'PUT', `/api/v1/me/following/${owner.id}`, { token: carol.token })).status, 204)
    // The owner's own stream gets it: the control that the event did travel. Every test file's
    // events share the topics and this notifier consumes them all, so on a loaded machine
    // the follow can queue behind thousands of others.
    await eventually(async () => owners.text, (text) => text.includes(carol.handle), 90_000)
    // Then a notification of the watcher's own, the sentinel: the hub hands notifications on in
    // the order Redis delivers them, so had the owner's gone to the watcher, it would be there first.
    const dave = await signUp(f.gateway, 'dave')
    assert.equal((await call(f.gateway, 'PUT', `/api/v1/me/following/${watcher.id}`, { token: dave.token })).status, 204)
    await eventually(async () => watching.text, (text) => text.includes(dave.handle), 90_000)
    controller.abort()
    await Promise.all([watching.done, owners.done])
    assert.doesNotMatch(watching.text, new RegExp(carol.handle))
  })

  test('nobody posts, follows or mutes as somebody else: the user is always the token\'s', async () => {
    const post = await call(f.gateway, 'POST', '/api/v1/posts', { token: f.bob.token, body: { text: 'who wrote this?', authorId: f.alice.id, authorHandle: f.alice.handle } })
    assert.equal(post.status, 201)
    assert.equal(post.json['authorId'], f.bob.id)
    const prefs = await call(f.gateway, 'PUT', '/api/v1/notifications/preferences', { token: f.bob.token, body: { muted: ['mention'], userId: f.alice.id } })
    assert.equal(prefs.status, 200)
    assert.deepEqual(await query('notifier', 'SELECT user_id, muted FROM preferences ORDER BY user_id'), [{ user_id: f.bob.id, muted: ['mention'] }])
    // Identity headers from a client are dropped at the edge: this link is anonymous.
    const link = await call(f.gateway, 'POST', '/api/v1/urls', { body: { url: 'https://example.com/spoofed' }, headers: { 'x-shortfeed-user-id': f.alice.id, 'x-shortfeed-identity': `v1.${Math.floor(Date.now() / 1000)}.forged` } })
    assert.equal(link.status, 201)
    assert.deepEqual(await query('shortener', 'SELECT owner_id FROM links WHERE code = $1', [link.json['code']]), [{ owner_id: null }])
  })

  test('the services refuse a forged identity when reached directly, behind the gateway\'s back', async () => {
    const forged = { 'x-shortfeed-user-id': f.alice.id, 'x-shortfeed-identity': `v1.${Math.floor(Date.now() / 1000)}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA` }
    for (const [service, path] of [['shortener', '/api/v1/me/urls'], ['timeline', '/api/v1/timeline'], ['notifier', '/api/v1/notifications']] as const) {
      const res = await fetch(`${stack.urls[service]}${path}`, { headers: forged })
      assert.equal(res.status, 401, service)
    }
  })
})

describe('API2:2023 broken authentication', () => {
  const forged = forgedTokens(f.alice.id, stack.signing, canaryUrl)

  test('Alice\'s real token works (the control for what follows)', async () => {
    assert.equal((await call(f.gateway, 'GET', '/api/v1/timeline', { token: f.alice.token })).status, 200)
  })

  for (const [name, token] of Object.entries(forged)) {
    test(`a forged token is refused with 401: ${name}`, async () => {
      const res = await call(f.gateway, 'GET', '/api/v1/timeline', { token })
      assert.equal(res.status, 401)
      assert.match(String(res.json['code']), /^AUTH_TOKEN_(INVALID|EXPIRED)$/)
    })
  }

  test('no forged header made the gateway fetch keys from where the token said (jku, x5u)', () => {
    assert.equal(canaryCalls, 0)
  })

  test('a token response may not be cached anywhere', async () => {
    const res = await call(f.gateway, 'POST', '/api/v1/auth/token', { body: { handle: f.alice.handle, password: f.alice.password } })
    assert.equal(res.status, 200)
    assert.equal(res.headers['cache-control'], 'no-store')
  })

  test('login attempts are limited per address: the 6th within the window is 429 even with the right password', async () => {
    // An hour's window: with scrypt behind each attempt a loaded machine can take a minute for
    // these six, and a shorter window would hand a token back meanwhile.
    const strict = await startGateway(stack, { RATE_LIMIT_LOGIN: '5/3600' })
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) statuses.push((await call(strict, 'POST', '/api/v1/auth/token', { body: { handle: f.alice.handle, password: `guess number ${i}` } })).status)
    const right = await call(strict, 'POST', '/api/v1/auth/token', { body: { handle: f.alice.handle, password: f.alice.password } })
    assert.deepEqual([...statuses, right.status], [401, 401, 401, 401, 401, 429])
    assert.ok(Number(right.headers['retry-after']) >= 1)
    assert.equal(right.json['code'], 'GATEWAY_RATE_LIMITED')
  })
})

describe('API3:2023 broken object property level authorization', () => {
  test('registering with id, counts, a role or a hash sets none of them', async () => {
    const handle = `mass_${Date.now().toString(36)}`
    const res = await call(f.gateway, 'POST', '/api/v1/users', { body: { handle, password: 'correct horse', id: '1', followerCount: 1_000_000, followingCount: 7, isAdmin: true, role: 'admin', passwordHash: 'x', createdAt: '2000-01-01T00:00:00Z' } })
    assert.equal(res.status, 201)
    assert.notEqual(res.json['id'], '1')
    assert.equal(res.json['followerCount'], 0)
    assert.deepEqual(Object.keys(res.json).sort(), ['createdAt', 'displayName', 'followerCount', 'followingCount', 'handle', 'id'])
    const [row] = await query<Record<string, unknown>>('timeline', 'SELECT * FROM users WHERE handle = $1', [handle])
    assert.equal(row!['id'], res.json['id'])
    assert.equal(row!['follower_count'], 0)
    assert.equal(row!['following_count'], 0)
    assert.notEqual(row!['password_hash'], 'x')
    assert.ok((row!['created_at'] as Date).getFullYear() > 2000)
    assert.equal(Object.keys(row!).some((column) => /admin|role/.test(column)), false)
  })

  test('a link with code, owner, clicks or a deletion date chosen by the client gets none of them', async () => {
    const res = await call(f.gateway, 'POST', '/api/v1/urls', { token: f.bob.token, body: { url: 'https://example.com/mass', code: 'chosen1', ownerId: f.alice.id, clicks: 5000, deletedAt: '2000-01-01T00:00:00Z', isAlias: true, id: '1' } })
    assert.equal(res.status, 201)
    assert.notEqual(res.json['code'], 'chosen1')
    const [{ id, ...row }] = await query<Record<string, unknown>>('shortener', 'SELECT id, owner_id, clicks, deleted_at, is_alias FROM links WHERE code = $1', [res.json['code']]) as [Record<string, unknown>]
    assert.deepEqual(row, { owner_id: f.bob.id, clicks: '0', deleted_at: null, is_alias: false })
    assert.notEqual(id, '1')
  })

  test('a post with its id, author or date chosen by the client gets none of them', async () => {
    const res = await call(f.gateway, 'POST', '/api/v1/posts', { token: f.bob.token, body: { text: 'mass assignment', id: '1', authorId: f.alice.id, authorHandle: f.alice.handle, createdAt: '2000-01-01T00:00:00Z', pushed: true } })
    assert.equal(res.status, 201)
    assert.notEqual(res.json['id'], '1')
    assert.equal(res.json['authorHandle'], f.bob.handle)
    assert.deepEqual(Object.keys(res.json).sort(), ['authorHandle', 'authorId', 'createdAt', 'id', 'text'])
  })

  test('a profile shows no credential or internal field', async () => {
    const profile = await call(f.gateway, 'GET', `/api/v1/users/${f.alice.id}`)
    assert.deepEqual(Object.keys(profile.json).sort(), ['createdAt', 'displayName', 'followerCount', 'followingCount', 'handle', 'id'])
    const byHandle = await call(f.gateway, 'GET', `/api/v1/users/by-handle/${f.alice.handle}`)
    assert.deepEqual(Object.keys(byHandle.json).sort(), ['createdAt', 'displayName', 'followerCount', 'followingCount', 'handle', 'id'])
  })
})

describe('API4:2023 unrestricted resource consumption', () => {
  test('a body over 64 KB is refused by the gateway before it reads any of it', async () => {
    // Only the head is sent: the gateway answers on the declared length alone. (A client that
    // kept writing would have its unread bytes answered with a reset, which may overtake the 413.)
    const res = await rawRequest(f.gateway, { method: 'POST', path: '/api/v1/posts', headers: [['authorization', `Bearer ${f.alice.token}`], ['content-type', 'application/json'], ['content-length', '1000000']] })
    assert.equal(res.status, 413)
    assert.equal((res.json as { instance: string }).instance, '/api/v1/posts')
  })

  test('pages hold at most 100 items on every list', async () => {
    for (const [path, token] of [['/api/v1/me/urls', f.alice.token], [`/api/v1/users/${f.alice.id}/posts`, undefined], ['/api/v1/timeline', f.alice.token], ['/api/v1/notifications', f.alice.token]] as const) {
      assert.equal((await call(f.gateway, 'GET', `${path}?limit=100`, token ? { token } : {})).status, 200, path)
      assert.equal((await call(f.gateway, 'GET', `${path}?limit=101`, token ? { token } : {})).status, 400, path)
    }
  })

  test('expensive inputs are bounded before the work: passwords (scrypt) at 128 characters, mark-read at 100 ids', async () => {
    assert.equal((await call(f.gateway, 'POST', '/api/v1/auth/token', { body: { handle: f.alice.handle, password: 'p'.repeat(129) } })).status, 400)
    assert.equal((await call(f.gateway, 'POST', '/api/v1/notifications/read', { token: f.alice.token, body: { ids: Array.from({ length: 101 }, (_, i) => String(i + 1)) } })).status, 400)
  })

  test('writes are limited per user: past the budget a 429 with Retry-After, and nothing more is stored', async () => {
    const strict = await startGateway(stack, { RATE_LIMIT_WRITE: '3/3600' })
    const user = await signUp(f.gateway, 'writer')
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) statuses.push((await call(strict, 'POST', '/api/v1/urls', { token: user.token, body: { url: `https://example.com/write-${i}` } })).status)
    assert.deepEqual(statuses, [201, 201, 201, 429, 429])
    assert.deepEqual(await query('shortener', 'SELECT count(*)::int AS n FROM links WHERE owner_id = $1', [user.id]), [{ n: 3 }])
    const limited = await call(strict, 'POST', '/api/v1/urls', { token: user.token, body: { url: 'https://example.com/write-again' } })
    assert.ok(Number(limited.headers['retry-after']) >= 1)
    assert.equal(limited.headers['ratelimit-remaining'], '0')
  })
})

describe('API5:2023 broken function level authorization and API9:2023 improper inventory', () => {
  test('the public API is exactly the documented list of operations; nothing internal is routed', async () => {
    const doc = await (await fetch(`${f.gateway}/docs/json`)).json() as { paths: Record<string, Record<string, unknown>> }
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`)).sort()
    assert.deepEqual(operations, [
      'DELETE /api/v1/me/following/{userId}', 'DELETE /api/v1/urls/{code}', 'GET /api/v1/me/urls', 'GET /api/v1/notifications', 'GET /api/v1/notifications/stream',
      'GET /api/v1/posts/{id}', 'GET /api/v1/timeline', 'GET /api/v1/urls/{code}', 'GET /api/v1/urls/{code}/redirect',
      'GET /api/v1/urls/{code}/stats', 'GET /api/v1/users/by-handle/{handle}', 'GET /api/v1/users/{id}', 'GET /api/v1/users/{id}/posts',
      'GET /{code}', 'POST /api/v1/auth/token', 'POST /api/v1/notifications/read', 'POST /api/v1/posts', 'POST /api/v1/urls', 'POST /api/v1/users',
      'PUT /api/v1/me/following/{userId}', 'PUT /api/v1/notifications/preferences'
    ])
    for (const path of ['/.well-known/jwks.json', '/openapi.json', '/api/v1/admin', '/api/v0/urls', '/api/internal/users', '/health/../metrics']) {
      assert.equal((await rawRequest(f.gateway, { method: 'GET', path })).status, 404, path)
    }
  })

  test('read-only resources refuse writes with 405, never reaching a service', async () => {
    for (const [method, path] of [['DELETE', `/api/v1/posts/${f.post}`], ['PUT', `/api/v1/users/${f.alice.id}`], ['DELETE', `/api/v1/users/${f.alice.id}`], ['PATCH', `/api/v1/urls/${f.link.code}`], ['POST', '/api/v1/timeline']] as const) {
      const res = await rawRequest(f.gateway, { method, path, headers: [['authorization', `Bearer ${f.bob.token}`]] })
      assert.equal(res.status, 405, `${method} ${path}`)
    }
  })
})

describe('API6:2023 sensitive business flows', () => {
  test('sign-ups share the login budget per address, so accounts cannot be minted in bulk', async () => {
    const strict = await startGateway(stack, { RATE_LIMIT_LOGIN: '3/3600' })
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) statuses.push((await call(strict, 'POST', '/api/v1/users', { body: { handle: `bulk_${Date.now().toString(36)}_${i}`, password: 'correct horse' } })).status)
    assert.deepEqual(statuses, [201, 201, 201, 429, 429])
  })
})

describe('API8:2023 security misconfiguration', () => {
  const expected = {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'SAMEORIGIN',
    'strict-transport-security': 'max-age=31536000; includeSubDomains',
    'referrer-policy': 'no-referrer',
    'x-dns-prefetch-control': 'off',
    'x-download-options': 'noopen',
    'x-permitted-cross-domain-policies': 'none',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'cross-origin',
    'origin-agent-cluster': '?1',
    'x-xss-protection': '0'
  }

  test('every kind of answer from the gateway carries the security headers and no fingerprint', async () => {
    const answers = {
      'a proxied 200': await rawRequest(f.gateway, { method: 'GET', path: `/api/v1/users/${f.alice.id}` }),
      'a 302 redirect': await rawRequest(f.gateway, { method: 'GET', path: `/${f.link.code}` }),
      'a 401 problem': await rawRequest(f.gateway, { method: 'GET', path: '/api/v1/timeline' }),
      'a 404 problem from the edge': await rawRequest(f.gateway, { method: 'GET', path: '/nope/nope' }),
      'a 413 problem': await rawRequest(f.gateway, { method: 'POST', path: '/api/v1/urls', headers: [['content-type', 'application/json']], body: 'x'.repeat(70_000) })
    }
    for (const [name, res] of Object.entries(answers)) {
      for (const [header, value] of Object.entries(expected)) assert.equal(res.headers[header], value, `${name}: ${header}`)
      assert.equal(res.headers['x-powered-by'], undefined, name)
      assert.equal(res.headers['server'], undefined, name)
      assert.equal(Object.keys(res.headers).some((h) => h.startsWith('x-shortfeed-')), false, `${name} leaks an internal header`)
    }
  })

  test('no cross-origin access is granted, whatever the Origin', async () => {
    const res = await rawRequest(f.gateway, { method: 'GET', path: `/api/v1/users/${f.alice.id}`, headers: [['origin', 'https://evil.example']] })
    assert.equal(res.status, 200)
    assert.equal(res.headers['access-control-allow-origin'], undefined)
    assert.equal(res.headers['access-control-allow-credentials'], undefined)
    const preflight = await rawRequest(f.gateway, { method: 'OPTIONS', path: '/api/v1/posts', headers: [['origin', 'https://evil.example'], ['access-control-request-method', 'POST']] })
    assert.equal(preflight.headers['access-control-allow-origin'], undefined)
  })
})

describe('secrets never reach a log line (every process at LOG_LEVEL=trace)', () => {
  test('passwords, tokens, the identity secret and the signing key appear in no process\'s output', async () => {
    const wrongPassword = `wrong ${Date.now().toString(36)} horse`
    const shortPassword = `Q${Date.now().toString(36).slice(-5)}!`
    await call(f.gateway, 'POST', '/api/v1/auth/token', { body: { handle: f.alice.handle, password: wrongPassword } })
    await call(f.gateway, 'POST', '/api/v1/users', { body: { handle: 'short_pw_user', password: shortPassword } })
    await rawRequest(f.gateway, { method: 'POST', path: '/api/v1/auth/token', headers: [['content-type', 'application/json']], body: `{"handle":"${f.alice.handle}","password":"${f.alice.password}"` })
    await rawRequest(f.gateway, { method: 'GET', path: '/api/v1/timeline', headers: [['authorization', `Basic ${Buffer.from(`${f.alice.handle}:${f.alice.password}`).toString('base64')}`]] })
    await call(f.gateway, 'GET', `/api/v1/timeline?access_token=${f.bob.token}&password=${encodeURIComponent(f.bob.password)}`)
    await call(f.gateway, 'GET', '/api/v1/timeline', { token: f.alice.token, headers: { cookie: `session=${f.bob.token}` } })
    // Last, a request with a marker to each service: once a process has logged its marker, it
    // has written everything about the requests before it (a process logs in order), and it
    // shows that its trace-level output is captured, so the check below is not empty.
    const marker = uniqueName('marker')
    await call(f.gateway, 'GET', `/api/v1/timeline?marker=${marker}`, { token: f.alice.token })
    await call(f.gateway, 'GET', `/api/v1/urls/zzzzzzz?marker=${marker}`)
    await call(f.gateway, 'GET', `/api/v1/notifications?marker=${marker}`, { token: f.alice.token })
    const services: ServiceName[] = ['gateway', 'timeline', 'shortener', 'notifier']
    await eventually(async () => services.filter((service) => !outputOf(stack, service).includes(marker)), (silent) => silent.length === 0)

    const secrets: Record<string, string> = {
      'Alice\'s password': f.alice.password,
      'Bob\'s password': f.bob.password,
      'a wrong password': wrongPassword,
      'a password refused as too short': shortPassword,
      'Alice\'s token signature': f.alice.token.split('.')[2]!,
      'Bob\'s token signature': f.bob.token.split('.')[2]!,
      'Basic credentials': Buffer.from(`${f.alice.handle}:${f.alice.password}`).toString('base64'),
      'Bob\'s password as sent in a URL': encodeURIComponent(f.bob.password),
      'the internal identity secret': INTERNAL_AUTH_SECRET,
      'the token signing key': stack.signing.key.pem.split('\n')[1]!
    }
    const logs = stack.stack.processes.map((p) => [p.name, outputOf(stack, p.name as ServiceName)] as const)
    assert.match(logs.find(([s]) => s === 'gateway')![1], /\/api\/v1\/auth\/token/, 'the gateway logged the login requests')
    const leaks = logs.flatMap(([service, text]) => Object.entries(secrets).filter(([, secret]) => text.includes(secret)).map(([name]) => `${service} logged ${name}`))
    assert.deepEqual(leaks, [])
  })
})
