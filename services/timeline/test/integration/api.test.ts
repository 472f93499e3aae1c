// Users, tokens, follows and posts through the HTTP API against real servers.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createLocalJWKSet, jwtVerify } from 'jose'
import { loadConfig } from '@shortfeed/common'
import { TimelineConfig } from '../../src/config.ts'
import { asUser, buildApp, buildStack, follow, post, register, uniqueName } from '../helper.ts'

const { api, env } = await buildStack({}, { fanout: false })

describe('registration and tokens', () => {
  test('when a user registers, then 201 with a profile and no password anywhere', async () => {
    const handle = uniqueName('Ann').slice(0, 30)
    const res = await api.inject({ method: 'POST', url: '/api/v1/users', payload: { handle, password: 'correct horse', displayName: '  Ann  ' } })
    assert.equal(res.statusCode, 201)
    const body = res.json()
    assert.match(body.id, /^\d+$/)
    assert.deepEqual({ ...body, id: undefined, createdAt: undefined }, { id: undefined, createdAt: undefined, handle, displayName: 'Ann', followerCount: 0, followingCount: 0 })
    assert.doesNotMatch(res.body, /correct horse|scrypt/)
  })

  test('a profile can be found by its handle, whatever the case', async () => {
    const user = await register(api)
    const res = await api.inject({ url: `/api/v1/users/by-handle/${user.handle.toUpperCase()}` })
    assert.equal(res.statusCode, 200)
    assert.equal(res.json().id, user.id)
    assert.equal((await api.inject({ url: '/api/v1/users/by-handle/nobody_at_all' })).statusCode, 404)
  })

  test('when a handle is taken in any case, then 409', async () => {
    const handle = uniqueName('Bob').slice(0, 30)
    await register(api, handle)
    const res = await api.inject({ method: 'POST', url: '/api/v1/users', payload: { handle: handle.toUpperCase(), password: 'another password' } })
    assert.equal(res.statusCode, 409)
    assert.equal(res.json().code, 'TIMELINE_HANDLE_TAKEN')
  })

  test('when the registration is malformed, then 400 naming the field', async () => {
    for (const [payload, pointer] of [
      [{ handle: 'a b', password: 'correct horse' }, '/handle'],
      [{ handle: 'ok_handle', password: 'short' }, '/password'],
      [{ handle: 'ok_handle' }, '/password'],
      [{ handle: 42, password: 'correct horse' }, '/handle']
    ] as const) {
      const res = await api.inject({ method: 'POST', url: '/api/v1/users', payload })
      assert.equal(res.statusCode, 400, JSON.stringify(payload))
      assert.ok(res.json().errors.some((e: { pointer: string }) => e.pointer === pointer), res.body)
    }
  })

  test('when the password is right, then a short-lived EdDSA token verifiable with the JWKS', async () => {
    const user = await register(api)
    const res = await api.inject({ method: 'POST', url: '/api/v1/auth/token', payload: { handle: user.handle.toUpperCase(), password: 'correct horse battery' } })
    assert.equal(res.statusCode, 200)
    const { accessToken, tokenType, expiresIn } = res.json()
    assert.equal(tokenType, 'Bearer')
    assert.equal(expiresIn, 900)
    // RFC 6749 §5.1: no cache on the way may keep a token.
    assert.equal(res.headers['cache-control'], 'no-store')
    const jwks = (await api.inject({ url: '/.well-known/jwks.json' })).json()
    const { payload, protectedHeader } = await jwtVerify(accessToken, createLocalJWKSet(jwks), { issuer: 'shortfeed-timeline', audience: 'shortfeed', algorithms: ['EdDSA'] })
    assert.equal(payload.sub, user.id)
    assert.equal(protectedHeader.alg, 'EdDSA')
    assert.ok(payload.exp! - payload.iat! === 900)
  })

  test('when the password is wrong or the handle unknown, then the same 401', async () => {
    const user = await register(api)
    const wrong = await api.inject({ method: 'POST', url: '/api/v1/auth/token', payload: { handle: user.handle, password: 'nope nope nope' } })
    const unknown = await api.inject({ method: 'POST', url: '/api/v1/auth/token', payload: { handle: 'nobody_here', password: 'nope nope nope' } })
    assert.equal(wrong.statusCode, 401)
    assert.equal(unknown.statusCode, 401)
    assert.equal(wrong.json().detail, unknown.json().detail)
  })

  test('when sign-ins outrun password hashing, then the excess is a 503 with Retry-After and nothing is stored', async (t) => {
    // A second instance on the same database that hashes one at a time and lets nobody wait.
    const busy = await buildApp(loadConfig('timeline', TimelineConfig, { ...env, PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_MAX_WAIT_MS: '1' }))
    t.after(() => busy.close())
    const handles = Array.from({ length: 3 }, (_, i) => uniqueName(`rush${i}`).slice(0, 30))
    const answers = await Promise.all(handles.map((handle) =>
      busy.inject({ method: 'POST', url: '/api/v1/users', payload: { handle, password: 'correct horse battery' } })))
    assert.deepEqual(answers.map((a) => a.statusCode).sort(), [201, 503, 503])
    for (const [i, answer] of answers.entries()) {
      const exists = (await api.inject({ url: `/api/v1/users/by-handle/${handles[i]}` })).statusCode
      if (answer.statusCode === 201) { assert.equal(exists, 200); continue }
      assert.equal(answer.headers['content-type'], 'application/problem+json; charset=utf-8')
      assert.equal(answer.headers['retry-after'], '1')
      assert.equal(answer.json().code, 'TIMELINE_PASSWORD_HASHING_BUSY')
      assert.equal(exists, 404, 'a refused registration stored nothing')
    }
    // The queue drains: one at a time, everyone gets in.
    const refused = handles.filter((_, i) => answers[i]!.statusCode === 503)
    for (const handle of refused) {
      assert.equal((await busy.inject({ method: 'POST', url: '/api/v1/users', payload: { handle, password: 'correct horse battery' } })).statusCode, 201)
      assert.equal((await busy.inject({ method: 'POST', url: '/api/v1/auth/token', payload: { handle, password: 'correct horse battery' } })).statusCode, 200)
    }
  })

  test('when the handle cannot be one (a NUL, a quote, too long), then 400 before any lookup', async () => {
    for (const handle of ['a\u0000b', "x' OR '1'='1", 'a'.repeat(31), '']) {
      const res = await api.inject({ method: 'POST', url: '/api/v1/auth/token', payload: { handle, password: 'whatever it is' } })
      assert.equal(res.statusCode, 400, JSON.stringify(handle))
      assert.equal(res.json().errors[0].pointer, '/handle')
    }
  })
})

describe('following', () => {
  test('follow and unfollow are idempotent and keep both counts right', async () => {
    const [a, b] = [await register(api), await register(api)]
    for (let i = 0; i < 2; i++) assert.equal((await api.inject({ method: 'PUT', url: `/api/v1/me/following/${b.id}`, headers: asUser(a.id) })).statusCode, 204)
    assert.equal((await api.inject({ url: `/api/v1/users/${b.id}` })).json().followerCount, 1)
    assert.equal((await api.inject({ url: `/api/v1/users/${a.id}` })).json().followingCount, 1)
    for (let i = 0; i < 2; i++) assert.equal((await api.inject({ method: 'DELETE', url: `/api/v1/me/following/${b.id}`, headers: asUser(a.id) })).statusCode, 204)
    assert.equal((await api.inject({ url: `/api/v1/users/${b.id}` })).json().followerCount, 0)
    assert.equal((await api.inject({ url: `/api/v1/users/${a.id}` })).json().followingCount, 0)
  })

  test('when two users follow each other at the same moment, then both follows land', async () => {
    const [a, b] = [await register(api), await register(api)]
    await Promise.all(Array.from({ length: 10 }, (_, i) => i % 2 === 0 ? follow(api, a.id, b.id) : follow(api, b.id, a.id)))
    assert.equal((await api.inject({ url: `/api/v1/users/${a.id}` })).json().followerCount, 1)
    assert.equal((await api.inject({ url: `/api/v1/users/${b.id}` })).json().followerCount, 1)
  })

  test('self-follow is 400, an unknown user 404, no user 401, a bad id 400', async () => {
    const a = await register(api)
    assert.equal((await api.inject({ method: 'PUT', url: `/api/v1/me/following/${a.id}`, headers: asUser(a.id) })).statusCode, 400)
    assert.equal((await api.inject({ method: 'PUT', url: '/api/v1/me/following/123456789', headers: asUser(a.id) })).statusCode, 404)
    assert.equal((await api.inject({ method: 'PUT', url: `/api/v1/me/following/${a.id}` })).statusCode, 401)
    assert.equal((await api.inject({ method: 'PUT', url: '/api/v1/me/following/abc', headers: asUser(a.id) })).statusCode, 400)
  })
})

describe('posts', () => {
  test('a post is trimmed, readable by id, and listed newest first on its author\'s page', async () => {
    const author = await register(api)
    const created = []
    for (let i = 0; i < 5; i++) created.push(await post(api, author.id, `  post ${i}  `))
    const one = await api.inject({ url: `/api/v1/posts/${created[0]!.id}` })
    assert.equal(one.json().text, 'post 0')
    assert.equal(one.json().authorHandle, author.handle)
    const first = (await api.inject({ url: `/api/v1/users/${author.id}/posts?limit=3` })).json()
    const second = (await api.inject({ url: `/api/v1/users/${author.id}/posts?limit=3&cursor=${first.nextCursor}` })).json()
    assert.deepEqual([...first.items, ...second.items].map((p: { text: string }) => p.text), ['post 4', 'post 3', 'post 2', 'post 1', 'post 0'])
    assert.equal(second.nextCursor, null)
  })

  test('text outside 1–280 characters, or anonymous, is refused and nothing is stored', async () => {
    const author = await register(api)
    for (const text of ['', '    ', 'x'.repeat(281)]) {
      const res = await api.inject({ method: 'POST', url: '/api/v1/posts', headers: asUser(author.id), payload: { text } })
      assert.equal(res.statusCode, 400, JSON.stringify(text))
    }
    assert.equal((await api.inject({ method: 'POST', url: '/api/v1/posts', payload: { text: 'hi' } })).statusCode, 401)
    assert.equal((await api.inject({ method: 'POST', url: '/api/v1/posts', headers: asUser(author.id), payload: { text: 5 } })).statusCode, 400)
    assert.deepEqual((await api.inject({ url: `/api/v1/users/${author.id}/posts` })).json().items, [])
  })

  test('the same Idempotency-Key posts once', async () => {
    const author = await register(api)
    const headers = { ...asUser(author.id), 'idempotency-key': uniqueName('k') }
    const [a, b] = await Promise.all([1, 2].map(() => api.inject({ method: 'POST', url: '/api/v1/posts', headers, payload: { text: 'once' } })))
    assert.equal(a!.json().id, b!.json().id)
    assert.equal((await api.inject({ url: `/api/v1/users/${author.id}/posts` })).json().items.length, 1)
  })

  test('unknown posts and users are 404, malformed ids 400', async () => {
    assert.equal((await api.inject({ url: '/api/v1/posts/1' })).statusCode, 404)
    assert.equal((await api.inject({ url: '/api/v1/users/1' })).statusCode, 404)
    assert.equal((await api.inject({ url: '/api/v1/users/1/posts' })).statusCode, 404)
    assert.equal((await api.inject({ url: '/api/v1/posts/12345678901234567890123' })).statusCode, 400)
    // Nineteen digits beyond Postgres bigint: refused, not a database error.
    for (const url of ['/api/v1/posts/9999999999999999999', '/api/v1/users/9223372036854775808', '/api/v1/users/9999999999999999999/posts']) {
      assert.equal((await api.inject({ url })).statusCode, 400, url)
    }
    assert.equal((await api.inject({ url: '/api/v1/posts/9223372036854775807' })).statusCode, 404)
  })
})
