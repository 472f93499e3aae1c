// The links API through HTTP (inject) against real Postgres, Redis and Kafka.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { asUser, buildForFile, uniqueName } from '../helper.ts'

const app = await buildForFile({ CLICK_AGGREGATOR_ENABLED: 'false' })

const json = { 'content-type': 'application/json' }

describe('POST /api/v1/urls', () => {
  test('when a URL is shortened, then 201 returns a 7-character code, its short URL and no expiry', async () => {
    const before = Date.now()
    const res = await app.inject({ method: 'POST', url: '/api/v1/urls', payload: { url: 'https://example.com/a?b=c' } })
    const after = Date.now()
    assert.equal(res.statusCode, 201)
    const body = res.json()
    assert.match(body.code, /^[0-9A-Za-z]{7}$/)
    assert.equal(body.shortUrl, `http://sho.rt/${body.code}`)
    assert.equal(body.url, 'https://example.com/a?b=c')
    assert.equal(body.expiresAt, null)
    // Postgres' clock and ours may differ by a little; the bracket is the request's own span.
    assert.ok(Date.parse(body.createdAt) >= before - 1_000 && Date.parse(body.createdAt) <= after + 1_000, body.createdAt)
    assert.equal(res.headers.location, `/api/v1/urls/${body.code}`)
  })

  test('when two URLs are shortened one after the other, then their codes are not neighbours', async () => {
    const codes = []
    for (let i = 0; i < 3; i++) codes.push((await app.inject({ method: 'POST', url: '/api/v1/urls', payload: { url: `https://example.com/${i}` } })).json().code)
    assert.equal(new Set(codes).size, 3)
    // Consecutive ids must not give codes that share all but their last character.
    assert.notEqual(codes[0].slice(0, 6), codes[1].slice(0, 6))
  })

  test('when a ttl is given, then expiresAt is that far ahead', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/urls', payload: { url: 'https://example.com', ttlSeconds: 3600 } })
    assert.equal(res.statusCode, 201)
    const expiresIn = Date.parse(res.json().expiresAt) - Date.parse(res.json().createdAt)
    assert.equal(expiresIn, 3_600_000)
  })

  test('when an alias is free, then it becomes the code; when taken, then 409 problem', async () => {
    const alias = uniqueName('a').slice(0, 30)
    const first = await app.inject({ method: 'POST', url: '/api/v1/urls', payload: { url: 'https://example.com/1', alias } })
    assert.equal(first.statusCode, 201)
    assert.equal(first.json().code, alias)
    const second = await app.inject({ method: 'POST', url: '/api/v1/urls', payload: { url: 'https://example.com/2', alias } })
    assert.equal(second.statusCode, 409)
    assert.equal(second.json().code, 'SHORTENER_ALIAS_TAKEN')
    assert.match(String(second.headers['content-type']), /^application\/problem\+json/)
  })

  test('when the same alias is raced by 20 creates, then exactly one wins and the rest get 409', async () => {
    const alias = uniqueName('race').slice(0, 30)
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      app.inject({ method: 'POST', url: '/api/v1/urls', payload: { url: `https://example.com/${i}`, alias } })))
    const statuses = results.map((r) => r.statusCode).sort()
    assert.deepEqual(statuses, [201, ...Array(19).fill(409)])
  })

  test('when the alias is reserved or malformed, then 400 problem', async () => {
    for (const alias of ['api', 'Docs', 'ab', 'no spaces', 'x'.repeat(33)]) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/urls', payload: { url: 'https://example.com', alias } })
      assert.equal(res.statusCode, 400, alias)
      assert.equal(res.json().status, 400)
    }
  })

  test('when the input is bad, then 400 problems say why and nothing is stored', async () => {
    const owner = asUser(uniqueName('u'))
    const cases: Array<[unknown, RegExp]> = [
      [{ url: 'ftp://example.com' }, /Only http and https/],
      [{ url: 'https://u:p@example.com' }, /credentials/],
      [{ url: 'http://sho.rt/abc' }, /points back/],
      [{ url: `https://example.com/${'x'.repeat(2100)}` }, /2048/],
      [{ url: 'not a url' }, /whitespace|absolute/],
      [{ url: 42 }, /body\/url must be string/],
      [{}, /body\/url is required/],
      [{ url: 'https://example.com', ttlSeconds: 5 }, /ttlSeconds/],
      [{ url: 'https://example.com', ttlSeconds: 'soon' }, /ttlSeconds/],
      [[], /body must be object/]
    ]
    for (const [payload, detail] of cases) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/urls', headers: owner, payload: payload as object })
      assert.equal(res.statusCode, 400, JSON.stringify(payload))
      assert.match(res.json().detail, detail, JSON.stringify(payload))
    }
    const broken = await app.inject({ method: 'POST', url: '/api/v1/urls', headers: { ...owner, ...json }, payload: '{"url":' })
    assert.equal(broken.statusCode, 400)
    const list = await app.inject({ url: '/api/v1/me/urls', headers: owner })
    assert.deepEqual(list.json().items, [])
  })

  test('unknown fields are ignored, never stored', async () => {
    const owner = asUser(uniqueName('u'))
    const res = await app.inject({ method: 'POST', url: '/api/v1/urls', headers: owner, payload: { url: 'https://example.com', ownerId: 'someone-else', clicks: 1000 } })
    assert.equal(res.statusCode, 201)
    const details = await app.inject({ url: `/api/v1/urls/${res.json().code}` })
    assert.equal(details.json().clicks, 0)
    assert.equal((await app.inject({ url: '/api/v1/me/urls', headers: owner })).json().items.length, 1)
  })
})

describe('Idempotency-Key', () => {
  test('when the same key and body are sent again, then the first response is returned and nothing new is created', async () => {
    const headers = { ...asUser(uniqueName('u')), 'idempotency-key': uniqueName('key') }
    const first = await app.inject({ method: 'POST', url: '/api/v1/urls', headers, payload: { url: 'https://example.com/x', ttlSeconds: 600 } })
    const again = await app.inject({ method: 'POST', url: '/api/v1/urls', headers, payload: { ttlSeconds: 600, url: 'https://example.com/x' } })
    assert.equal(first.statusCode, 201)
    assert.equal(again.statusCode, 201)
    assert.deepEqual(again.json(), first.json())
    assert.equal(again.headers['idempotent-replayed'], 'true')
    assert.equal((await app.inject({ url: '/api/v1/me/urls', headers })).json().items.length, 1)
  })

  test('when the same key comes with another body, then 422', async () => {
    const headers = { 'idempotency-key': uniqueName('key') }
    await app.inject({ method: 'POST', url: '/api/v1/urls', headers, payload: { url: 'https://example.com/x' } })
    const other = await app.inject({ method: 'POST', url: '/api/v1/urls', headers, payload: { url: 'https://example.com/y' } })
    assert.equal(other.statusCode, 422)
    assert.equal(other.json().code, 'IDEMPOTENCY_KEY_REUSED')
  })

  test('when one key is raced, then one link is created and every response is the same', async () => {
    const headers = { ...asUser(uniqueName('u')), 'idempotency-key': uniqueName('key') }
    const results = await Promise.all(Array.from({ length: 10 }, () =>
      app.inject({ method: 'POST', url: '/api/v1/urls', headers, payload: { url: 'https://example.com/race' } })))
    assert.deepEqual(new Set(results.map((r) => r.statusCode)), new Set([201]))
    assert.equal(new Set(results.map((r) => r.json().code)).size, 1)
    assert.equal((await app.inject({ url: '/api/v1/me/urls', headers })).json().items.length, 1)
  })

  test('when the key is malformed, then 400', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/urls', headers: { 'idempotency-key': 'x'.repeat(300) }, payload: { url: 'https://example.com' } })
    assert.equal(res.statusCode, 400)
    assert.equal(res.json().code, 'IDEMPOTENCY_KEY_INVALID')
  })
})

describe('reading, listing and deleting', () => {
  test('GET /api/v1/urls/{code} returns the link with its clicks; unknown is 404', async () => {
    const { code } = (await app.inject({ method: 'POST', url: '/api/v1/urls', payload: { url: 'https://example.com/r' } })).json()
    const res = await app.inject({ url: `/api/v1/urls/${code}` })
    assert.equal(res.statusCode, 200)
    assert.deepEqual({ ...res.json() as Record<string, unknown>, createdAt: undefined }, { code, shortUrl: `http://sho.rt/${code}`, url: 'https://example.com/r', expiresAt: null, clicks: 0, permanent: false, createdAt: undefined })
    assert.equal((await app.inject({ url: '/api/v1/urls/zzzzzzz' })).statusCode, 404)
  })

  test('the owner pages through their links newest first with opaque cursors', async () => {
    const owner = asUser(uniqueName('u'))
    const created = []
    for (let i = 0; i < 5; i++) created.push((await app.inject({ method: 'POST', url: '/api/v1/urls', headers: owner, payload: { url: `https://example.com/${i}` } })).json().code)
    await app.inject({ method: 'POST', url: '/api/v1/urls', headers: asUser(uniqueName('other')), payload: { url: 'https://example.com/not-mine' } })
    const listPage = async (cursor: string | null) => {
      const res = await app.inject({ url: `/api/v1/me/urls?limit=2${cursor ? `&cursor=${cursor}` : ''}`, headers: owner })
      assert.equal(res.statusCode, 200)
      return res.json() as { items: Array<{ code: string }>, nextCursor: string | null }
    }
    const seen = []
    let cursor: string | null = null
    do {
      const page = await listPage(cursor)
      assert.ok(page.items.length <= 2)
      seen.push(...page.items.map((l) => l.code))
      cursor = page.nextCursor
    } while (cursor)
    assert.deepEqual(seen, created.reverse())
  })

  test('listing needs a user, a sane limit and a cursor we issued', async () => {
    const owner = asUser(uniqueName('u'))
    assert.equal((await app.inject({ url: '/api/v1/me/urls' })).statusCode, 401)
    assert.equal((await app.inject({ url: '/api/v1/me/urls?limit=0', headers: owner })).statusCode, 400)
    assert.equal((await app.inject({ url: '/api/v1/me/urls?limit=101', headers: owner })).statusCode, 400)
    const bad = await app.inject({ url: '/api/v1/me/urls?cursor=bm9wZQ', headers: owner })
    assert.equal(bad.statusCode, 400)
    assert.equal(bad.json().code, 'CURSOR_INVALID')
  })

  test('the owner deletes a link (204), then it is gone (410); another user gets 404, an anonymous one 401', async () => {
    const owner = asUser(uniqueName('u'))
    const { code } = (await app.inject({ method: 'POST', url: '/api/v1/urls', headers: owner, payload: { url: 'https://example.com/d' } })).json()
    assert.equal((await app.inject({ method: 'DELETE', url: `/api/v1/urls/${code}` })).statusCode, 401)
    assert.equal((await app.inject({ method: 'DELETE', url: `/api/v1/urls/${code}`, headers: asUser(uniqueName('x')) })).statusCode, 404)
    assert.equal((await app.inject({ url: `/${code}` })).statusCode, 302)
    assert.equal((await app.inject({ method: 'DELETE', url: `/api/v1/urls/${code}`, headers: owner })).statusCode, 204)
    assert.equal((await app.inject({ url: `/${code}` })).statusCode, 410)
    assert.equal((await app.inject({ url: `/api/v1/urls/${code}` })).statusCode, 410)
    assert.equal((await app.inject({ method: 'DELETE', url: `/api/v1/urls/${code}`, headers: owner })).statusCode, 404)
    assert.deepEqual((await app.inject({ url: '/api/v1/me/urls', headers: owner })).json().items, [])
  })

  test('a forged identity header is refused with 401', async () => {
    const res = await app.inject({ url: '/api/v1/me/urls', headers: { 'x-shortfeed-user-id': 'admin', 'x-shortfeed-identity': 'v1.1.forged' } })
    assert.equal(res.statusCode, 401)
    assert.equal(res.json().code, 'AUTH_IDENTITY_INVALID')
  })
})
