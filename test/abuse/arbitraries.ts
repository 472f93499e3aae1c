// fast-check arbitraries for requests to the public API: a route from the gateway's table with
// its segments kept or mutated, a method (mostly the route's own), a query string, headers
// (tokens real, forged or junk; content types; odd bytes) and a body that is JSON shaped like
// the endpoint's, JSON of any shape, or bytes.
import fc from 'fast-check'
import type { Fixture } from './fixture.ts'
import type { RawRequest } from './raw-http.ts'

/** The public routes as the gateway routes them (services/gateway/src/routing.ts). */
const ROUTES: Array<{ methods: string[], path: string[], body?: 'url' | 'user' | 'login' | 'post' | 'read' | 'preferences' }> = [
  { methods: ['POST'], path: ['api', 'v1', 'urls'], body: 'url' },
  { methods: ['GET', 'HEAD', 'DELETE'], path: ['api', 'v1', 'urls', '{code}'] },
  { methods: ['GET', 'HEAD'], path: ['api', 'v1', 'me', 'urls'] },
  { methods: ['POST'], path: ['api', 'v1', 'users'], body: 'user' },
  { methods: ['POST'], path: ['api', 'v1', 'auth', 'token'], body: 'login' },
  { methods: ['GET', 'HEAD'], path: ['api', 'v1', 'users', 'by-handle', '{handle}'] },
  { methods: ['GET', 'HEAD'], path: ['api', 'v1', 'users', '{id}'] },
  { methods: ['GET', 'HEAD'], path: ['api', 'v1', 'users', '{id}', 'posts'] },
  { methods: ['PUT', 'DELETE'], path: ['api', 'v1', 'me', 'following', '{id}'] },
  { methods: ['POST'], path: ['api', 'v1', 'posts'], body: 'post' },
  { methods: ['GET', 'HEAD'], path: ['api', 'v1', 'posts', '{id}'] },
  { methods: ['GET', 'HEAD'], path: ['api', 'v1', 'timeline'] },
  { methods: ['GET', 'HEAD'], path: ['api', 'v1', 'notifications', 'stream'] },
  { methods: ['GET', 'HEAD'], path: ['api', 'v1', 'notifications'] },
  { methods: ['PUT'], path: ['api', 'v1', 'notifications', 'preferences'], body: 'preferences' },
  { methods: ['POST'], path: ['api', 'v1', 'notifications', 'read'], body: 'read' },
  { methods: ['GET', 'HEAD'], path: ['{code}'] },
  { methods: ['GET'], path: ['docs', 'json'] }
]
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE']

/** Percent-encodes every byte of the UTF-8 (unpaired surrogates become U+FFFD, as a browser sends them). */
const percentEncode = (text: string) => [...Buffer.from(text, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')
const cursorOf = (position: string) => Buffer.from(`v1:${position}`).toString('base64url')

export function requestArbitrary (f: Fixture, forged: Record<string, string>): fc.Arbitrary<RawRequest> {
  const ids = [f.alice.id, f.bob.id, f.post, ...f.notifications.alice, ...f.notifications.bob]
  const unicode = fc.string({ unit: 'grapheme', maxLength: 60 })
  const anyText = fc.oneof(unicode, fc.string({ unit: 'binary', maxLength: 60 }), fc.string({ unit: 'grapheme-ascii', maxLength: 60 }))

  const segmentValue = (placeholder: string) => fc.oneof(
    { weight: 4, arbitrary: placeholder === '{code}' ? fc.constantFrom(f.link.code, 'abc1234', 'zzzzzzz') : placeholder === '{handle}' ? fc.constantFrom(f.alice.handle, f.bob.handle, 'nobody_here') : fc.constantFrom(...ids, '1') },
    { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/) },
    { weight: 2, arbitrary: fc.bigInt(0n, 10n ** 21n).map(String) },
    { weight: 2, arbitrary: anyText.map(percentEncode) },
    { weight: 1, arbitrary: fc.constantFrom('..', '%2e%2e', '.', '', '%00', '%2f', '..%2f..%2f', '%ZZ', '-1', '9223372036854775808') },
    // Unencoded printable characters, straight onto the request line.
    { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'abc019%/.?#;&=+\'"<>{}|^`~!$()*,:@[]'), maxLength: 20 }) }
  )

  const path = fc.constantFrom(...ROUTES).chain((route) => fc.tuple(
    fc.constant(route),
    fc.tuple(...route.path.map((segment) => segment.startsWith('{') ? segmentValue(segment) : fc.oneof({ weight: 12, arbitrary: fc.constant(segment) }, { weight: 1, arbitrary: segmentValue('{code}') }, { weight: 1, arbitrary: fc.constant(segment.toUpperCase()) }))),
    fc.oneof({ weight: 10, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('/', '//', '/extra', '/..') })
  ))

  const queryValue = fc.oneof(
    fc.integer({ min: -5, max: 150 }).map(String),
    fc.constantFrom(...ids).map(cursorOf),
    anyText.map(cursorOf),
    anyText.map(percentEncode),
    fc.stringMatching(/^[A-Za-z0-9_-]{0,30}$/)
  )
  const query = fc.oneof(
    { weight: 3, arbitrary: fc.constant('') },
    { weight: 3, arbitrary: fc.array(fc.tuple(fc.oneof(fc.constantFrom('limit', 'cursor'), fc.stringMatching(/^[a-z_[\]$]{1,10}$/)), queryValue), { minLength: 1, maxLength: 4 }).map((pairs) => `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`) },
    { weight: 1, arbitrary: anyText.map((t) => `?${percentEncode(t)}`) }
  )

  const authorization = fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 4, arbitrary: fc.constantFrom(f.alice.token, f.bob.token).map((t) => `Bearer ${t}`) },
    { weight: 2, arbitrary: fc.constantFrom(...Object.values(forged)).map((t) => `Bearer ${t}`) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 80 }).map((s) => `Bearer ${s.replace(/[\r\n]/g, '')}`) }
  )
  const contentType = fc.oneof(
    { weight: 8, arbitrary: fc.constant('application/json') },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'application/vnd.api+json', 'multipart/form-data', '*/*', 'application/json, text/plain') }
  )
  // Header values as Latin-1 text (what HTTP/1.1 carries); now and then a CR, LF or NUL.
  const headerValue = fc.oneof(
    { weight: 6, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 60 }).map((s) => s.replace(/[\r\n]/g, ' ')) },
    { weight: 2, arbitrary: fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 40 }) },
    { weight: 1, arbitrary: fc.constantFrom('a\rb', 'a\nb', 'a\u0000b', 'x'.repeat(9_000)) }
  )
  const extraHeaders = fc.array(fc.tuple(
    fc.oneof(fc.constantFrom('idempotency-key', 'last-event-id', 'accept', 'x-request-id', 'x-forwarded-for', 'x-shortfeed-user-id', 'x-shortfeed-identity', 'cookie', 'origin', 'referer', 'user-agent', 'if-none-match', 'accept-encoding'), fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/)),
    headerValue
  ), { maxLength: 4 })

  const jsonish = fc.oneof(fc.jsonValue({ maxDepth: 3 }), anyText, fc.integer(), fc.constant(null))
  const shaped = {
    url: fc.record({ url: fc.oneof(fc.webUrl({ withQueryParameters: true, withFragments: true }), anyText, jsonish), alias: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{3,32}$/), jsonish), ttlSeconds: fc.oneof(fc.integer({ min: -100, max: 400_000_000 }), jsonish), permanent: fc.oneof(fc.boolean(), jsonish), extra: jsonish }, { requiredKeys: [] }),
    user: fc.record({ handle: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_]{3,30}$/), anyText, jsonish), password: fc.oneof(anyText, jsonish), displayName: fc.oneof(unicode, jsonish), id: jsonish, followerCount: jsonish, isAdmin: fc.boolean() }, { requiredKeys: [] }),
    login: fc.record({ handle: fc.oneof(fc.constantFrom(f.alice.handle, f.bob.handle), anyText, jsonish), password: fc.oneof(anyText, jsonish) }, { requiredKeys: [] }),
    post: fc.record({ text: fc.oneof(unicode, anyText, fc.string({ unit: 'grapheme', minLength: 270, maxLength: 300 }), jsonish), authorId: jsonish, id: jsonish }, { requiredKeys: [] }),
    read: fc.record({ ids: fc.oneof(fc.array(fc.oneof(fc.constantFrom(...ids), fc.bigInt(0n, 10n ** 20n).map(String), anyText), { maxLength: 120 }), jsonish), upToId: fc.oneof(fc.constantFrom(...ids), fc.bigInt(0n, 10n ** 20n).map(String), jsonish) }, { requiredKeys: [] }),
    preferences: fc.record({ muted: fc.oneof(fc.subarray(['follow', 'mention', 'milestone', 'FOLLOW', 'spam', 'follow']), jsonish) }, { requiredKeys: [] })
  }
  const bodyFor = (kind: keyof typeof shaped | undefined) => fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 6, arbitrary: (kind ? shaped[kind] : fc.jsonValue({ maxDepth: 2 })).map((value) => JSON.stringify(value)) },
    { weight: 2, arbitrary: fc.json({ maxDepth: 4 }) },
    { weight: 1, arbitrary: fc.anything({ maxDepth: 3 }).map((value) => JSON.stringify(value) ?? 'undefined') },
    { weight: 1, arbitrary: anyText },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)) }
  )

  return path.chain(([route, segments, suffix]) => fc.record({
    method: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...route.methods) }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) }),
    target: query.map((q) => `/${segments.join('/')}${suffix}${q}`),
    authorization,
    contentType,
    extraHeaders,
    body: bodyFor(route.body)
  })).map(({ method, target, authorization, contentType, extraHeaders, body }): RawRequest => {
    const headers: Array<[string, string]> = []
    if (authorization !== undefined) headers.push(['authorization', authorization])
    if (body !== undefined && contentType !== undefined) headers.push(['content-type', contentType])
    headers.push(...extraHeaders)
    return { method, path: target, headers, ...(body === undefined ? {} : { body }) }
  })
}
