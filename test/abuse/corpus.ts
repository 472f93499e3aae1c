// The bad-input corpus: malformed and hostile requests to every public endpoint, each of which
// must be refused with a 4xx problem document and change nothing. One case a line:
//
//   c('what it is', 'METHOD /path', { as, body, headers, contentType, rawFraming }, status?)
//
// `as` signs the request as Alice or Bob (so it is the input, not the missing token, that is
// refused); a string or Buffer body goes byte for byte, anything else as JSON; without a
// status any 4xx will do. Families at the end apply one list of defects to every endpoint.
import type { Fixture } from './fixture.ts'

export interface AbuseCase {
  name: string
  method: string
  /** The request target exactly as sent (raw: spaces, %-escapes and all). */
  path: string
  as?: 'alice' | 'bob'
  headers?: Array<[string, string]>
  /** A string or Buffer goes as-is; anything else as JSON. */
  body?: unknown
  /** Defaults to application/json when there is a body; null sends none. */
  contentType?: string | null
  /** Leave the body's framing to `headers` (no Content-Length is added). */
  rawFraming?: boolean
  /** The exact status expected; any 4xx when absent. */
  status?: number
}

type Options = Omit<AbuseCase, 'name' | 'method' | 'path' | 'status'>

function c (name: string, request: string, options: Options = {}, status?: number): AbuseCase {
  const space = request.indexOf(' ')
  return { name, method: request.slice(0, space), path: request.slice(space + 1), ...options, ...(status === undefined ? {} : { status }) }
}

/** Tokens that are not tokens, on a route that needs one: always 401. */
function authDefects (f: Fixture, forged: Record<string, string>): Array<[string, Array<[string, string]>]> {
  return [
    ['no token', []],
    ['an empty bearer', [['authorization', 'Bearer ']]],
    ['a bearer that is not a JWT', [['authorization', 'Bearer not-a-jwt']]],
    ['Basic credentials', [['authorization', `Basic ${Buffer.from(`${f.alice.handle}:${f.alice.password}`).toString('base64')}`]]],
    ['the token in lower-case "bearer"', [['authorization', `bearer ${f.alice.token}`]]],
    ['the token with junk after it', [['authorization', `Bearer ${f.alice.token}x.y`]]],
    ['alg none', [['authorization', `Bearer ${forged['alg none']!}`]]],
    ['an expired token', [['authorization', `Bearer ${forged['the real key, expired an hour ago']!}`]]],
    ['identity headers instead of a token', [['x-shortfeed-user-id', f.alice.id], ['x-shortfeed-identity', `v1.${Math.floor(Date.now() / 1000)}.forged`]]]
  ]
}

/** What can be wrong with a JSON body, whatever the endpoint. */
const BODY_DEFECTS: Array<[string, Options, number?]> = [
  ['truncated JSON', { body: '{"a":' }, 400],
  ['single-quoted JSON', { body: "{'a':1}" }, 400],
  ['a trailing comma', { body: '{"a":1,}' }, 400],
  ['a comment in JSON', { body: '{"a":1 /* hi */}' }, 400],
  ['NaN in JSON', { body: '{"a":NaN}' }, 400],
  ['an unquoted key', { body: '{a:1}' }, 400],
  ['two JSON documents', { body: '{}{}' }, 400],
  ['an empty body', { body: '' }, 400],
  ['a body of spaces', { body: '   ' }, 400],
  ['bytes that are not UTF-8', { body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]) }, 400],
  ['a UTF-16 body', { body: Buffer.from('{"a":1}', 'utf16le') }, 400],
  ['a __proto__ key', { body: '{"__proto__":{"isAdmin":true}}' }, 400],
  ['a constructor.prototype key', { body: '{"constructor":{"prototype":{"isAdmin":true}}}' }, 400],
  ['5 000 unclosed brackets', { body: '['.repeat(5_000) }, 400],
  ['null', { body: 'null' }, 400],
  ['an array', { body: '[]' }, 400],
  ['a string', { body: '"hello"' }, 400],
  ['a number', { body: '42' }, 400],
  ['true', { body: 'true' }, 400],
  ['an empty object', { body: {} }, 400],
  ['only unknown fields', { body: { isAdmin: true, role: 'admin' } }, 400],
  ['text/plain (read as a string, not an object)', { body: '{}', contentType: 'text/plain' }, 400],
  ['a form', { body: 'a=1&b=2', contentType: 'application/x-www-form-urlencoded' }, 415],
  ['multipart', { body: '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n', contentType: 'multipart/form-data; boundary=x' }, 415],
  ['XML', { body: '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>', contentType: 'application/xml' }, 415],
  ['no content type', { body: '{}', contentType: null }, 415],
  ['a look-alike content type', { body: '{}', contentType: 'application/jsonp' }, 415],
  ['70 KB of JSON (over the 64 KB limit)', { body: JSON.stringify({ a: 'x'.repeat(70_000) }) }, 413],
  ['a Content-Length of a terabyte', { body: '{}', rawFraming: true, headers: [['content-length', '1000000000000']] }, 413],
  ['200 KB sent chunked', { body: `${(50_000).toString(16)}\r\n${'x'.repeat(50_000)}\r\n`.repeat(4) + '0\r\n\r\n', rawFraming: true, headers: [['transfer-encoding', 'chunked']] }, 413],
  ['Content-Length and Transfer-Encoding together (smuggling)', { body: '0\r\n\r\nGET /api/v1/timeline HTTP/1.1\r\n\r\n', rawFraming: true, headers: [['content-length', '4'], ['transfer-encoding', 'chunked']] }, 400],
  ['a negative Content-Length', { body: '{}', rawFraming: true, headers: [['content-length', '-1']] }, 400],
  ['a Content-Length that is not a number', { body: '{}', rawFraming: true, headers: [['content-length', 'two']] }, 400],
  ['two different Content-Lengths', { body: '{}', rawFraming: true, headers: [['content-length', '2'], ['content-length', '3']] }, 400],
  ['a chunk size that is not hex', { body: 'zz\r\n{}\r\n0\r\n\r\n', rawFraming: true, headers: [['transfer-encoding', 'chunked']] }, 400]
]

/** Cursor and limit values a list must refuse. */
const PAGE_DEFECTS: Array<[string, string]> = [
  ['limit 0', 'limit=0'],
  ['a negative limit', 'limit=-1'],
  ['limit 101', 'limit=101'],
  ['a huge limit', 'limit=1000000000000'],
  ['a fractional limit', 'limit=1.5'],
  ['limit in exponent form past 100', 'limit=1e3'],
  ['a word for a limit', 'limit=ten'],
  ['an empty limit', 'limit='],
  ['two limits', 'limit=1&limit=2'],
  ['SQL in the limit', 'limit=1;DROP%20TABLE%20users'],
  ['a cursor that is not base64url', 'cursor=!!!'],
  ['an empty cursor', 'cursor='],
  ['a cursor of 201 characters', `cursor=${'A'.repeat(201)}`],
  ['a cursor we did not issue', `cursor=${Buffer.from('v2:123').toString('base64url')}`],
  ['a cursor around a word', `cursor=${Buffer.from('v1:abc').toString('base64url')}`],
  ['a cursor around a negative id', `cursor=${Buffer.from('v1:-1').toString('base64url')}`],
  ['a cursor around SQL', `cursor=${Buffer.from("v1:1' OR '1'='1").toString('base64url')}`],
  ['a cursor around a NoSQL operator', `cursor=${Buffer.from('v1:{"$gt":0}').toString('base64url')}`],
  ['a cursor past 64 bits', `cursor=${Buffer.from('v1:9999999999999999999').toString('base64url')}`],
  ['a padded base64 cursor', `cursor=${Buffer.from('v1:123').toString('base64')}==`],
  ['a cursor with a NUL', 'cursor=abc%00def'],
  ['two cursors', `cursor=${Buffer.from('v1:1').toString('base64url')}&cursor=${Buffer.from('v1:2').toString('base64url')}`]
]

export function corpus (f: Fixture, forged: Record<string, string>): AbuseCase[] {
  const self = new URL(f.gateway)
  const port = self.port
  const shorten = (name: string, url: unknown, status = 400) => c(`shorten ${name}`, 'POST /api/v1/urls', { as: 'alice', body: { url } }, status)
  const mark = (name: string, body: unknown, status = 400) => c(`mark read ${name}`, 'POST /api/v1/notifications/read', { as: 'alice', body }, status)

  const cases: AbuseCase[] = [
    // POST /api/v1/urls — schemes that are not http(s)
    shorten('javascript:', 'javascript:alert(document.cookie)'),
    shorten('JaVaScRiPt: in mixed case', 'JaVaScRiPt:alert(1)'),
    shorten('javascript: behind a space', ' javascript:alert(1)'),
    shorten('javascript: with an encoded newline', 'javascript://example.com/%0aalert(1)'),
    shorten('javascript: with a tab inside the scheme', 'java\tscript:alert(1)'),
    shorten('vbscript:', 'vbscript:msgbox(1)'),
    shorten('data: HTML', 'data:text/html,<script>alert(1)</script>'),
    shorten('data: base64', 'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=='),
    shorten('file:', 'file:///etc/passwd'),
    shorten('file: on localhost', 'file://localhost/etc/shadow'),
    shorten('ftp:', 'ftp://example.com/file.txt'),
    shorten('gopher:', 'gopher://example.com:70/_SSRF'),
    shorten('ws:', 'ws://example.com/socket'),
    shorten('mailto:', 'mailto:someone@example.com'),
    shorten('tel:', 'tel:+15555550100'),
    shorten('blob:', 'blob:https://example.com/1234'),
    shorten('about:', 'about:blank'),
    shorten('chrome:', 'chrome://settings'),
    shorten('a relative path', '/just/a/path'),
    shorten('a scheme-relative URL', '//example.com/x'),
    shorten('no scheme', 'example.com/x'),
    shorten('a bare scheme', 'https://'),
    shorten('an empty host with a port', 'https://:443/path'),
    shorten('an empty string', ''),
    shorten('spaces only', '   '),
    // credentials
    shorten('user:pass@', 'https://user:pass@example.com/'),
    shorten('a user alone', 'https://admin@example.com/'),
    shorten('a password alone', 'https://:secret@example.com/'),
    shorten('a trusted name as the user (example.com@evil)', 'https://example.com@evil.example/'),
    shorten('encoded credentials', 'https://us%65r:p%61ss@example.com/'),
    // loops to ourselves
    shorten('the gateway itself', `${f.gateway}/${f.link.code}`),
    shorten('the gateway\'s API', `${f.gateway}/api/v1/urls`),
    shorten('localhost on the gateway port', `http://localhost:${port}/x`),
    shorten('LOCALHOST with a trailing dot', `http://LOCALHOST.:${port}/x`),
    shorten('a name under .localhost', `http://shortener.localhost:${port}/x`),
    shorten('127.1', `http://127.1:${port}/x`),
    shorten('127.0.0.1 in hex', 'http://0x7f000001/x'),
    shorten('127.0.0.1 as one decimal', 'http://2130706433/x'),
    shorten('127.0.0.1 in octal', 'http://0177.0.0.1/x'),
    shorten('127.0.0.2', `http://127.0.0.2:${port}/x`),
    shorten('0.0.0.0', `http://0.0.0.0:${port}/x`),
    shorten('0', `http://0:${port}/x`),
    shorten('[::1]', `http://[::1]:${port}/x`),
    shorten('[::]', `http://[::]:${port}/x`),
    shorten('IPv4-mapped loopback', `http://[::ffff:127.0.0.1]:${port}/x`),
    shorten('localhost in full-width letters', `http://ｌｏｃａｌｈｏｓｔ:${port}/x`),
    shorten('127.0.0.1 with a full-width digit', `http://1２7.0.0.1:${port}/x`),
    shorten('localhost percent-encoded', `http://%6c%6f%63%61%6c%68%6f%73%74:${port}/x`),
    // IDN and invisible characters
    shorten('a Cyrillic а in paypal', 'https://pаypal.com/login'),
    shorten('a Greek ο in google', 'https://gοogle.com/'),
    shorten('Cyrillic letters posing as apple', 'https://аррӏе.com/'),
    shorten('the same lookalike in punycode', 'https://xn--80ak6aa92e.com/'),
    shorten('an xn-- label that is not punycode', 'https://xn--a.com/'),
    shorten('an empty xn-- label', 'https://xn--.com/'),
    shorten('a zero-width space in the host', 'https://exa\u200bmple.com/'),
    shorten('a right-to-left override', 'https://example.com/\u202egnp.exe'),
    shorten('a byte order mark', '\ufeffhttps://example.com/'),
    shorten('a no-break space in the host', 'https://exa\u00a0mple.com/'),
    shorten('a NUL', 'https://example.com/\u0000'),
    shorten('a newline the parser would drop', 'https://exa\nmple.com/'),
    shorten('CRLF header injection', 'https://example.com/\r\nSet-Cookie: a=b'),
    shorten('a NEL (U+0085)', 'https://example.com/\u0085'),
    shorten('a line separator', 'https://example.com/\u2028'),
    shorten('an invalid host character', 'https://exa<mple.com/'),
    shorten('a port past 65535', 'https://example.com:70000/'),
    // lengths and types
    shorten('2 049 characters', `https://example.com/${'a'.repeat(2_029)}`),
    shorten('a URL that grows past 2 048 once encoded', `https://example.com/${'é'.repeat(700)}`),
    shorten('a number', 42),
    shorten('null', null),
    shorten('true', true),
    shorten('an array', ['https://example.com/']),
    shorten('an object', { href: 'https://example.com/' }),
    shorten('a NoSQL operator', { $gt: '' }),
    c('shorten without a url', 'POST /api/v1/urls', { as: 'alice', body: { alias: 'no-url-here' } }, 400),
    c('shorten with the url twice, the last one javascript:', 'POST /api/v1/urls', { as: 'alice', body: '{"url":"https://example.com/","url":"javascript:alert(1)"}' }, 400),
    // alias
    c('alias too short', 'POST /api/v1/urls', { as: 'alice', body: { url: 'https://example.com/', alias: 'ab' } }, 400),
    c('alias of 33 characters', 'POST /api/v1/urls', { as: 'alice', body: { url: 'https://example.com/', alias: 'a'.repeat(33) } }, 400),
    c('alias reserved: api', 'POST /api/v1/urls', { as: 'alice', body: { url: 'https://example.com/', alias: 'api' } }, 400),
    c('alias reserved in another case: DOCS', 'POST /api/v1/urls', { as: 'alice', body: { url: 'https://example.com/', alias: 'DOCS' } }, 400),
    c('alias reserved: metrics', 'POST /api/v1/urls', { as: 'alice', body: { url: 'https://example.com/', alias: 'metrics' } }, 400),
    c('alias with a slash', 'POST /api/v1/urls', { as: 'alice', body: { url: 'https://example.com/', alias: 'a/b/c' } }, 400),
    c('alias with a path traversal', 'POST /api/v1/urls', { as: 'alice', body: { url: 'https://example.com/', alias: '../../etc' } }, 400),
    c('alias with SQL', 'POST /api/v1/urls', { as: 'alice', body: { url: 'https://example.com/', alias: "x' OR '1'='1" } }, 400),
    c('alias in Cyrillic', 'POST /api/v1/urls', { as: 'alice', body: { url: 'https://example.com/', alias: 'аррӏе' } }, 400),
    c('alias with a NUL', 'POST /api/v1/urls', { as: 'alice', body: { url: 'https://example.com/', alias: 'abc\u0000def' } }, 400),
    c('alias a number', 'POST /api/v1/urls', { as: 'alice', body: { url: 'https://example.com/', alias: 12345 } }, 400),
    c('alias already taken', 'POST /api/v1/urls', { as: 'bob', body: { url: 'https://example.com/other', alias: f.link.code } }, 409),
    // ttlSeconds and permanent
    c('ttl below a minute', 'POST /api/v1/urls', { as: 'alice', body: { url: 'https://example.com/', ttlSeconds: 59 } }, 400),
    c('ttl zero', 'POST /api/v1/urls', { as: 'alice', body: { url: 'https://example.com/', ttlSeconds: 0 } }, 400),
    c('ttl negative', 'POST /api/v1/urls', { as: 'alice', body: { url: 'https://example.com/', ttlSeconds: -60 } }, 400),
    c('ttl fractional', 'POST /api/v1/urls', { as: 'alice', body: { url: 'https://example.com/', ttlSeconds: 60.5 } }, 400),
    c('ttl past ten years', 'POST /api/v1/urls', { as: 'alice', body: { url: 'https://example.com/', ttlSeconds: 315_360_001 } }, 400),
    c('ttl 1e309 (Infinity)', 'POST /api/v1/urls', { as: 'alice', body: '{"url":"https://example.com/","ttlSeconds":1e309}' }, 400),
    c('ttl as a string', 'POST /api/v1/urls', { as: 'alice', body: { url: 'https://example.com/', ttlSeconds: '3600' } }, 400),
    c('permanent as a string', 'POST /api/v1/urls', { as: 'alice', body: { url: 'https://example.com/', permanent: 'yes' } }, 400),
    c('permanent as 1', 'POST /api/v1/urls', { as: 'alice', body: { url: 'https://example.com/', permanent: 1 } }, 400),
    // Idempotency-Key
    c('the same Idempotency-Key with another body', 'POST /api/v1/urls', { as: 'alice', body: { url: 'https://example.com/another' }, headers: [['idempotency-key', f.link.idempotencyKey]] }, 422),
    c('an Idempotency-Key of 201 characters', 'POST /api/v1/urls', { as: 'alice', body: { url: 'https://example.com/' }, headers: [['idempotency-key', 'k'.repeat(201)]] }, 400),
    c('an Idempotency-Key with spaces', 'POST /api/v1/urls', { as: 'alice', body: { url: 'https://example.com/' }, headers: [['idempotency-key', 'a key with spaces']] }, 400),
    c('an Idempotency-Key with Latin-1 bytes', 'POST /api/v1/urls', { as: 'alice', body: { url: 'https://example.com/' }, headers: [['idempotency-key', 'cl\u00e9']] }, 400),
    c('an empty Idempotency-Key', 'POST /api/v1/urls', { as: 'alice', body: { url: 'https://example.com/' }, headers: [['idempotency-key', '']] }, 400),
    c('post: an Idempotency-Key of 201 characters', 'POST /api/v1/posts', { as: 'alice', body: { text: 'x' }, headers: [['idempotency-key', 'k'.repeat(201)]] }, 400),

    // GET/HEAD/DELETE /api/v1/urls/{code}
    c('link: an unknown code', 'GET /api/v1/urls/zzzzzzzz', {}, 404),
    c('link: a code too short for a route', 'GET /api/v1/urls/ab', {}, 404),
    c('link: a code of 33 characters', `GET /api/v1/urls/${'a'.repeat(33)}`, {}, 404),
    c('link: a path traversal', 'GET /api/v1/urls/../../etc/passwd', {}, 404),
    c('link: an encoded path traversal', 'GET /api/v1/urls/..%2f..%2fetc%2fpasswd', {}, 404),
    c('link: a double-encoded traversal', 'GET /api/v1/urls/%252e%252e%252f', {}, 404),
    c('link: SQL in the code', "GET /api/v1/urls/abc'%20OR%20'1'='1", {}, 404),
    c('link: a NUL in the code', 'GET /api/v1/urls/abc%00def', {}, 404),
    c('link: CRLF in the code', 'GET /api/v1/urls/abc%0d%0aSet-Cookie:%20a=b', {}, 404),
    c('link: a broken percent-encoding', 'GET /api/v1/urls/%ZZ', {}, 400),
    c('link: a raw space in the path', 'GET /api/v1/urls/a b', {}, 400),
    c('link: unicode in the code', 'GET /api/v1/urls/%D0%B0%D1%80%D1%80', {}, 404),
    c('link: a trailing slash', `GET /api/v1/urls/${f.link.code}/`, {}, 404),
    c('link: HEAD of an unknown code', 'HEAD /api/v1/urls/zzzzzzzz', {}, 404),
    c('delete: another user\'s link', `DELETE /api/v1/urls/${f.link.code}`, { as: 'bob' }, 404),
    c('delete: an unknown code', 'DELETE /api/v1/urls/zzzzzzzz', { as: 'alice' }, 404),
    c('delete: a traversal', 'DELETE /api/v1/urls/..%2f..%2f', { as: 'alice' }, 404),
    c('link: PATCH is not a method here', `PATCH /api/v1/urls/${f.link.code}`, { as: 'alice', body: { url: 'https://evil.example/' } }, 405),
    c('link: PUT is not a method here', `PUT /api/v1/urls/${f.link.code}`, { as: 'alice', body: { url: 'https://evil.example/' } }, 405),

    // GET /api/v1/urls/{code}/redirect (the redirect's lookup as JSON)
    c('redirect preview: an unknown code', 'GET /api/v1/urls/zzzzzzzz/redirect', {}, 404),
    c('redirect preview: SQL in the code', "GET /api/v1/urls/abc'%20OR%20'1'='1/redirect", {}, 404),
    c('redirect preview: a code of 33 characters', `GET /api/v1/urls/${'a'.repeat(33)}/redirect`, {}, 404),
    c('redirect preview: an encoded traversal', 'GET /api/v1/urls/..%2f..%2fredirect', {}, 404),
    c('redirect preview: HEAD of an unknown code', 'HEAD /api/v1/urls/zzzzzzzz/redirect', {}, 404),
    c('redirect preview: POST is not a method here', `POST /api/v1/urls/${f.link.code}/redirect`, { as: 'alice', body: {} }, 405),

    // GET /api/v1/urls/{code}/stats (the owner's analytics)
    c('stats: anonymous', `GET /api/v1/urls/${f.link.code}/stats`, {}, 401),
    c('stats: another user\'s link', `GET /api/v1/urls/${f.link.code}/stats`, { as: 'bob' }, 404),
    c('stats: an unknown code', 'GET /api/v1/urls/zzzzzzzz/stats', { as: 'alice' }, 404),
    c('stats: a range that ends before it starts', `GET /api/v1/urls/${f.link.code}/stats?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z`, { as: 'alice' }, 400),
    c('stats: ten years of hours', `GET /api/v1/urls/${f.link.code}/stats?from=2016-01-01T00:00:00Z&to=2026-01-01T00:00:00Z`, { as: 'alice' }, 400),
    c('stats: a date that is not one', `GET /api/v1/urls/${f.link.code}/stats?from=yesterday`, { as: 'alice' }, 400),
    c('stats: a granularity it does not have', `GET /api/v1/urls/${f.link.code}/stats?granularity=minute`, { as: 'alice' }, 400),
    c('stats: SQL in the granularity', `GET /api/v1/urls/${f.link.code}/stats?granularity=hour'%3B%20DROP%20TABLE%20click_stats--`, { as: 'alice' }, 400),
    c('stats: POST is not a method here', `POST /api/v1/urls/${f.link.code}/stats`, { as: 'alice', body: {} }, 405),

    // GET /{code}
    c('redirect: an unknown code', 'GET /zzzzzzzz', {}, 404),
    c('redirect: /../etc/passwd', 'GET /../etc/passwd', {}, 404),
    c('redirect: /%2e%2e/%2e%2e/etc/passwd', 'GET /%2e%2e/%2e%2e/etc/passwd', {}, 404),
    c('redirect: //evil.example (open redirect probe)', 'GET //evil.example', {}, 404),
    c('redirect: /\\evil.example', 'GET /\\evil.example', {}, 404),
    c('redirect: /.env', 'GET /.env', {}, 404),
    c('redirect: /.git/config', 'GET /.git/config', {}, 404),
    c('redirect: /wp-admin', 'GET /wp-admin/', {}, 404),
    c('redirect: a code with a NUL', 'GET /abc%00', {}, 404),
    c('redirect: a code with CRLF', 'GET /abc%0d%0aLocation:%20https://evil.example', {}, 404),
    c('redirect: a code with SQL', "GET /abc'--", {}, 404),
    c('redirect: HEAD of an unknown code', 'HEAD /zzzzzzzz', {}, 404),
    c('redirect: POST to a code', `POST /${f.link.code}`, { body: {} }, 405),
    c('redirect: an absolute-form target', `GET http://evil.example/${f.link.code}`, {}, 404),
    c('redirect: an 8 000-character path', `GET /${'a'.repeat(8_000)}`, {}, 404),
    c('redirect: a 20 000-character path (over the header limit)', `GET /${'a'.repeat(20_000)}`, {}, 431),

    // GET /api/v1/me/urls
    ...PAGE_DEFECTS.map(([name, query]) => c(`my links: ${name}`, `GET /api/v1/me/urls?${query}`, { as: 'alice' }, 400)),

    // POST /api/v1/users
    c('register: no handle', 'POST /api/v1/users', { body: { password: 'correct horse' } }, 400),
    c('register: no password', 'POST /api/v1/users', { body: { handle: 'nopassword_1' } }, 400),
    c('register: a handle of 2 characters', 'POST /api/v1/users', { body: { handle: 'ab', password: 'correct horse' } }, 400),
    c('register: a handle of 31 characters', 'POST /api/v1/users', { body: { handle: 'a'.repeat(31), password: 'correct horse' } }, 400),
    c('register: a handle with a space', 'POST /api/v1/users', { body: { handle: 'a b c', password: 'correct horse' } }, 400),
    c('register: a handle with SQL', 'POST /api/v1/users', { body: { handle: "x'); DROP TABLE users; --", password: 'correct horse' } }, 400),
    c('register: a handle in Cyrillic', 'POST /api/v1/users', { body: { handle: 'аdmin', password: 'correct horse' } }, 400),
    c('register: a handle with a NUL', 'POST /api/v1/users', { body: { handle: 'abc\u0000def', password: 'correct horse' } }, 400),
    c('register: a handle with a zero-width space', 'POST /api/v1/users', { body: { handle: 'ad\u200bmin', password: 'correct horse' } }, 400),
    c('register: a handle as a NoSQL operator', 'POST /api/v1/users', { body: { handle: { $ne: null }, password: 'correct horse' } }, 400),
    c('register: Alice\'s handle in capitals', 'POST /api/v1/users', { body: { handle: f.alice.handle.toUpperCase(), password: 'correct horse' } }, 409),
    c('register: a password of 7 characters', 'POST /api/v1/users', { body: { handle: 'shortpass_1', password: '1234567' } }, 400),
    c('register: a password of 129 characters', 'POST /api/v1/users', { body: { handle: 'longpass_1', password: 'p'.repeat(129) } }, 400),
    c('register: a password of 10 KB (never hashed)', 'POST /api/v1/users', { body: { handle: 'hugepass_1', password: 'p'.repeat(10_000) } }, 400),
    c('register: a password of 60 KB (over the service\'s 16 KB body limit)', 'POST /api/v1/users', { body: { handle: 'hugepass_2', password: 'p'.repeat(60_000) } }, 413),
    c('register: a password as a number', 'POST /api/v1/users', { body: { handle: 'numpass_1', password: 12345678 } }, 400),
    c('register: an empty display name', 'POST /api/v1/users', { body: { handle: 'emptyname_1', password: 'correct horse', displayName: '' } }, 400),
    c('register: a display name of 51 characters', 'POST /api/v1/users', { body: { handle: 'longname_1', password: 'correct horse', displayName: 'n'.repeat(51) } }, 400),
    c('register: a display name with a bidi override', 'POST /api/v1/users', { body: { handle: 'bidiname_1', password: 'correct horse', displayName: 'evil\u202egnp.exe' } }, 400),
    c('register: a display name with a NUL', 'POST /api/v1/users', { body: { handle: 'nulname_1', password: 'correct horse', displayName: 'a\u0000b' } }, 400),
    c('register: a display name with a newline', 'POST /api/v1/users', { body: { handle: 'nlname_1', password: 'correct horse', displayName: 'line\nbreak' } }, 400),
    c('register: a display name as an object', 'POST /api/v1/users', { body: { handle: 'objname_1', password: 'correct horse', displayName: { first: 'a' } } }, 400),

    // POST /api/v1/auth/token
    c('login: the wrong password', 'POST /api/v1/auth/token', { body: { handle: f.alice.handle, password: 'not her password' } }, 401),
    c('login: an unknown handle', 'POST /api/v1/auth/token', { body: { handle: 'nobody_at_all', password: 'correct horse' } }, 401),
    c('login: SQL in the handle', 'POST /api/v1/auth/token', { body: { handle: "' OR '1'='1' --", password: 'x' } }, 400),
    c('login: SQL in the password', 'POST /api/v1/auth/token', { body: { handle: f.alice.handle, password: "' OR '1'='1' --" } }, 401),
    c('login: NoSQL operators', 'POST /api/v1/auth/token', { body: { handle: { $ne: null }, password: { $ne: null } } }, 400),
    c('login: a $where', 'POST /api/v1/auth/token', { body: { handle: f.alice.handle, password: { $where: 'return true' } } }, 400),
    c('login: arrays', 'POST /api/v1/auth/token', { body: { handle: [f.alice.handle], password: [f.alice.password] } }, 400),
    c('login: a NUL in the handle', 'POST /api/v1/auth/token', { body: { handle: `${f.alice.handle}\u0000`, password: f.alice.password } }, 400),
    c('login: a handle of 31 characters', 'POST /api/v1/auth/token', { body: { handle: 'a'.repeat(31), password: 'x' } }, 400),
    c('login: an empty password', 'POST /api/v1/auth/token', { body: { handle: f.alice.handle, password: '' } }, 400),
    c('login: a password of 129 characters', 'POST /api/v1/auth/token', { body: { handle: f.alice.handle, password: 'p'.repeat(129) } }, 400),
    c('login: the handle in the query string instead', `POST /api/v1/auth/token?handle=${f.alice.handle}&password=x`, { body: {} }, 400),
    c('login: GET', 'GET /api/v1/auth/token', {}, 405),

    // GET /api/v1/users/by-handle/{handle}, /api/v1/users/{id}[/posts]
    c('profile by handle: unknown', 'GET /api/v1/users/by-handle/nobody_at_all', {}, 404),
    c('profile by handle: SQL', "GET /api/v1/users/by-handle/x'%20OR%201=1", {}, 404),
    c('profile by handle: too long', `GET /api/v1/users/by-handle/${'a'.repeat(31)}`, {}, 404),
    c('profile by handle: traversal', 'GET /api/v1/users/by-handle/..%2f..%2f', {}, 404),
    c('profile: an unknown id', 'GET /api/v1/users/1', {}, 404),
    c('profile: an id past 64 bits', 'GET /api/v1/users/9999999999999999999', {}, 400),
    c('profile: 2^63', 'GET /api/v1/users/9223372036854775808', {}, 400),
    c('profile: an id of 20 digits', 'GET /api/v1/users/12345678901234567890', {}, 404),
    c('profile: a negative id', 'GET /api/v1/users/-1', {}, 404),
    c('profile: a word', 'GET /api/v1/users/alice', {}, 404),
    c('profile: SQL', 'GET /api/v1/users/1%20OR%201=1', {}, 404),
    c('profile: an id in hex', 'GET /api/v1/users/0x10', {}, 404),
    c('profile: an id with a plus', 'GET /api/v1/users/+1', {}, 404),
    c('posts of: an unknown user', 'GET /api/v1/users/1/posts', {}, 404),
    c('posts of: an id past 64 bits', 'GET /api/v1/users/9999999999999999999/posts', {}, 400),
    ...PAGE_DEFECTS.map(([name, query]) => c(`posts of Alice: ${name}`, `GET /api/v1/users/${f.alice.id}/posts?${query}`, {}, 400)),

    // PUT/DELETE /api/v1/me/following/{userId}
    c('follow: oneself', `PUT /api/v1/me/following/${f.alice.id}`, { as: 'alice' }, 400),
    c('follow: an unknown user', 'PUT /api/v1/me/following/1', { as: 'alice' }, 404),
    c('follow: an id past 64 bits', 'PUT /api/v1/me/following/9999999999999999999', { as: 'alice' }, 400),
    c('follow: a word', 'PUT /api/v1/me/following/bob', { as: 'alice' }, 404),
    c('follow: SQL', 'PUT /api/v1/me/following/1;DELETE%20FROM%20follows', { as: 'alice' }, 404),
    c('follow: POST is not a method here', `POST /api/v1/me/following/${f.bob.id}`, { as: 'alice', body: {} }, 405),
    c('unfollow: an id past 64 bits', 'DELETE /api/v1/me/following/9999999999999999999', { as: 'bob' }, 400),
    c('unfollow: someone else\'s follow by path', `DELETE /api/v1/users/${f.bob.id}/following/${f.alice.id}`, { as: 'alice' }, 404),

    // POST /api/v1/posts, GET /api/v1/posts/{id}
    c('post: no text', 'POST /api/v1/posts', { as: 'alice', body: { body: 'wrong field' } }, 400),
    c('post: empty text', 'POST /api/v1/posts', { as: 'alice', body: { text: '' } }, 400),
    c('post: only spaces', 'POST /api/v1/posts', { as: 'alice', body: { text: '   \n\t  ' } }, 400),
    c('post: 281 characters', 'POST /api/v1/posts', { as: 'alice', body: { text: 'x'.repeat(281) } }, 400),
    c('post: 281 emoji', 'POST /api/v1/posts', { as: 'alice', body: { text: '🙂'.repeat(281) } }, 400),
    c('post: 2 001 characters', 'POST /api/v1/posts', { as: 'alice', body: { text: 'x'.repeat(2_001) } }, 400),
    c('post: a NUL', 'POST /api/v1/posts', { as: 'alice', body: { text: 'hello\u0000world' } }, 400),
    c('post: a bidi override', 'POST /api/v1/posts', { as: 'alice', body: { text: 'see \u202egnp.exe' } }, 400),
    c('post: an escape sequence', 'POST /api/v1/posts', { as: 'alice', body: { text: 'clear \u001b[2J screen' } }, 400),
    c('post: text as a number', 'POST /api/v1/posts', { as: 'alice', body: { text: 280 } }, 400),
    c('post: text as an array', 'POST /api/v1/posts', { as: 'alice', body: { text: ['a', 'b'] } }, 400),
    c('post: text as null', 'POST /api/v1/posts', { as: 'alice', body: { text: null } }, 400),
    c('post: a NoSQL operator', 'POST /api/v1/posts', { as: 'alice', body: { text: { $gt: '' } } }, 400),
    c('post: a NUL and an unpaired surrogate', 'POST /api/v1/posts', { as: 'alice', body: '{"text":"\\u0000\\ud800"}' }, 400),
    c('post: an unknown post', 'GET /api/v1/posts/1', {}, 404),
    c('post: an id past 64 bits', 'GET /api/v1/posts/9999999999999999999', {}, 400),
    c('post: a word', 'GET /api/v1/posts/latest', {}, 404),
    c('post: HEAD of an id past 64 bits', 'HEAD /api/v1/posts/9999999999999999999', {}, 400),
    c('post: DELETE is not a method here', `DELETE /api/v1/posts/${f.post}`, { as: 'bob' }, 405),
    c('post: PUT is not a method here', `PUT /api/v1/posts/${f.post}`, { as: 'bob', body: { text: 'edited by bob' } }, 405),

    // GET /api/v1/timeline
    ...PAGE_DEFECTS.map(([name, query]) => c(`timeline: ${name}`, `GET /api/v1/timeline?${query}`, { as: 'alice' }, 400)),

    // /api/v1/notifications
    ...PAGE_DEFECTS.map(([name, query]) => c(`notifications: ${name}`, `GET /api/v1/notifications?${query}`, { as: 'alice' }, 400)),
    mark('with nothing to mark', {}),
    mark('with an empty id list', { ids: [] }),
    mark('with 101 ids', { ids: Array.from({ length: 101 }, (_, i) => String(i + 1)) }),
    mark('with a word for an id', { ids: ['abc'] }),
    mark('with a number for an id', { ids: [1] }),
    mark('with an id past 64 bits', { ids: ['9999999999999999999'] }),
    mark('with SQL for an id', { ids: ['1) OR (1=1'] }),
    mark('with upToId a word', { upToId: 'latest' }),
    mark('with upToId past 64 bits', { upToId: '9999999999999999999' }),
    mark('with upToId negative', { upToId: '-1' }),
    mark('with a NoSQL operator', { upToId: { $gt: '0' } }),
    mark('with ids as a string', { ids: '1,2,3' }),
    mark('with only a user id (mass assignment)', { userId: f.bob.id }),
    c('mark read: PUT is not a method here', 'PUT /api/v1/notifications/read', { as: 'alice', body: { upToId: '1' } }, 405),
    c('preferences: muted as a string', 'PUT /api/v1/notifications/preferences', { as: 'alice', body: { muted: 'follow' } }, 400),
    c('preferences: an unknown type', 'PUT /api/v1/notifications/preferences', { as: 'alice', body: { muted: ['spam'] } }, 400),
    c('preferences: a type twice', 'PUT /api/v1/notifications/preferences', { as: 'alice', body: { muted: ['follow', 'follow'] } }, 400),
    c('preferences: four types', 'PUT /api/v1/notifications/preferences', { as: 'alice', body: { muted: ['follow', 'mention', 'milestone', 'follow'] } }, 400),
    c('preferences: a type in capitals', 'PUT /api/v1/notifications/preferences', { as: 'alice', body: { muted: ['FOLLOW'] } }, 400),
    c('preferences: null', 'PUT /api/v1/notifications/preferences', { as: 'alice', body: { muted: null } }, 400),
    c('preferences: a NoSQL operator', 'PUT /api/v1/notifications/preferences', { as: 'alice', body: { muted: { $in: ['follow'] } } }, 400),
    c('preferences: GET is not a method here', 'GET /api/v1/notifications/preferences', { as: 'alice' }, 405),
    c('stream: a Last-Event-ID that is a word', 'GET /api/v1/notifications/stream', { as: 'alice', headers: [['last-event-id', 'latest']] }, 400),
    c('stream: a negative Last-Event-ID', 'GET /api/v1/notifications/stream', { as: 'alice', headers: [['last-event-id', '-1']] }, 400),
    c('stream: a Last-Event-ID past 64 bits', 'GET /api/v1/notifications/stream', { as: 'alice', headers: [['last-event-id', '9999999999999999999']] }, 400),
    c('stream: SQL in Last-Event-ID', 'GET /api/v1/notifications/stream', { as: 'alice', headers: [['last-event-id', '0 OR 1=1']] }, 400),
    c('stream: POST is not a method here', 'POST /api/v1/notifications/stream', { as: 'alice', body: {} }, 405),

    // The edge itself: methods, paths, headers
    c('edge: an unknown method', 'FOO /api/v1/urls', {}, 400),
    c('edge: TRACE', 'TRACE /api/v1/urls', {}, 404),
    c('edge: OPTIONS', 'OPTIONS /api/v1/urls', {}, 405),
    c('edge: OPTIONS *', 'OPTIONS *', {}, 404),
    c('edge: another API version', 'GET /api/v2/urls/abcdefg', {}, 404),
    c('edge: upper-case path', 'GET /API/V1/TIMELINE', { as: 'alice' }, 404),
    c('edge: a doubled slash', 'GET /api/v1//timeline', { as: 'alice' }, 404),
    c('edge: an encoded slash', 'GET /api%2Fv1%2Ftimeline', { as: 'alice' }, 404),
    c('edge: a dot segment', 'GET /api/v1/./timeline', { as: 'alice' }, 404),
    c('edge: a service\'s internal JWKS', 'GET /.well-known/jwks.json', {}, 404),
    c('edge: a service\'s openapi through a traversal', 'GET /api/v1/../../openapi.json', {}, 404),
    c('edge: the docs assets by traversal', 'GET /docs/static/../../../../etc/passwd', {}, 403),
    c('edge: the docs assets by encoded traversal', 'GET /docs/static/..%2f..%2f..%2fpackage.json', {}, 404),
    c('edge: a CR inside a header value', 'GET /api/v1/urls/abcdefg', { headers: [['x-evil', 'a\rb']] }, 400),
    c('edge: a LF inside a header value (response splitting)', 'GET /api/v1/urls/abcdefg', { headers: [['x-evil', 'a\nSet-Cookie: b=c']] }, 400),
    c('edge: a NUL inside a header value', 'GET /api/v1/urls/abcdefg', { headers: [['x-evil', 'a\u0000b']] }, 400),
    c('edge: a space inside a header name', 'GET /api/v1/urls/abcdefg', { headers: [['x evil', 'a']] }, 400),
    c('edge: a 20 KB header', 'GET /api/v1/urls/abcdefg', { headers: [['x-big', 'a'.repeat(20_000)]] }, 431),
    c('edge: 1 000 headers', 'GET /api/v1/urls/abcdefg', { headers: Array.from({ length: 1_000 }, (_, i): [string, string] => [`x-h${i}`, 'aaaaaaaaaaaaaaaa']) }, 431),
    c('edge: a 20 KB cookie', 'GET /api/v1/timeline', { as: 'alice', headers: [['cookie', `a=${'b'.repeat(20_000)}`]] }, 431),
    c('edge: a 20 KB token', 'GET /api/v1/timeline', { headers: [['authorization', `Bearer ${'a'.repeat(20_000)}.b.c`]] }, 431),
    c('edge: a 10 KB token under the header limit', 'GET /api/v1/timeline', { headers: [['authorization', `Bearer ${'a'.repeat(10_000)}.b.c`]] }, 401),
    c('edge: an alg-none token before Alice\'s real one', 'GET /api/v1/timeline', { headers: [['authorization', `Bearer ${forged['alg none']!}`], ['authorization', `Bearer ${f.alice.token}`]] }, 401),
    c('edge: the token in a query string', `GET /api/v1/timeline?access_token=${f.alice.token}`, {}, 401),
    c('edge: the token in a cookie', 'GET /api/v1/timeline', { headers: [['cookie', `token=${f.alice.token}`]] }, 401)
  ]

  // Every body endpoint, every body defect.
  const bodyEndpoints: Array<[string, 'alice' | undefined]> = [
    ['POST /api/v1/urls', 'alice'],
    ['POST /api/v1/users', undefined],
    ['POST /api/v1/auth/token', undefined],
    ['POST /api/v1/posts', 'alice'],
    ['POST /api/v1/notifications/read', 'alice'],
    ['PUT /api/v1/notifications/preferences', 'alice']
  ]
  for (const [endpoint, as] of bodyEndpoints) {
    for (const [name, options, status] of BODY_DEFECTS) {
      cases.push(c(`${endpoint}: ${name}`, endpoint, { ...(as ? { as } : {}), ...options }, status))
    }
  }

  // Every route that needs a user, every way of not being one.
  const protectedRoutes: Array<[string, string, unknown?]> = [
    ['DELETE /api/v1/urls/{code}', `DELETE /api/v1/urls/${f.link.code}`],
    ['GET /api/v1/me/urls', 'GET /api/v1/me/urls'],
    ['PUT /api/v1/me/following/{id}', `PUT /api/v1/me/following/${f.bob.id}`],
    ['DELETE /api/v1/me/following/{id}', `DELETE /api/v1/me/following/${f.alice.id}`],
    ['POST /api/v1/posts', 'POST /api/v1/posts', { text: 'posted without a user' }],
    ['GET /api/v1/timeline', 'GET /api/v1/timeline'],
    ['GET /api/v1/notifications', 'GET /api/v1/notifications'],
    ['GET /api/v1/notifications/stream', 'GET /api/v1/notifications/stream'],
    ['PUT /api/v1/notifications/preferences', 'PUT /api/v1/notifications/preferences', { muted: ['follow'] }],
    ['POST /api/v1/notifications/read', 'POST /api/v1/notifications/read', { upToId: '9000000000000000000' }]
  ]
  for (const [label, request, body] of protectedRoutes) {
    for (const [name, headers] of authDefects(f, forged)) {
      cases.push(c(`${label}: ${name}`, request, { headers, ...(body === undefined ? {} : { body }) }, 401))
    }
  }
  return cases
}
