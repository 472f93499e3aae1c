import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { checkAlias, checkTargetUrl, selfHostsOf } from '../../src/url-policy.ts'
import { cacheTtlSeconds } from '../../src/plugins/link-cache.ts'
import { crossedMilestones } from '../../src/workers/click-aggregator.ts'

const self = selfHostsOf('https://sho.rt', 'localhost,127.0.0.1')

describe('target URLs', () => {
  test('http and https URLs are accepted and normalised (IDN hosts to punycode)', () => {
    assert.equal(checkTargetUrl('https://example.com/a?b=c#d', self), 'https://example.com/a?b=c#d')
    assert.equal(checkTargetUrl('HTTP://EXAMPLE.com', self), 'http://example.com/')
    assert.equal(checkTargetUrl('https://bücher.example/', self), 'https://xn--bcher-kva.example/')
    // One script per label, or Latin with Japanese scripts: real names in their own writing.
    assert.equal(checkTargetUrl('https://москва.рф/', self), 'https://xn--80adxhks.xn--p1ai/')
    assert.equal(checkTargetUrl('https://例え.jp/', self), 'https://xn--r8jz45g.jp/')
    assert.equal(checkTargetUrl('https://abcテスト.jp/', self), 'https://xn--abc-7k4bocn.jp/')
    assert.equal(checkTargetUrl('https://аррӏе.рф/', self), 'https://xn--80ak6aa92e.xn--p1ai/')
  })

  for (const [name, url, reason] of [
    ['another scheme', 'ftp://example.com/file', /Only http and https/],
    ['javascript', 'javascript:alert(1)', /Only http and https/],
    ['data', 'data:text/html,<script>alert(1)</script>', /Only http and https/],
    ['no host', 'http://', /not an absolute URL|no host/],
    ['relative', '/just/a/path', /not an absolute URL/],
    ['credentials', 'https://user:pass@example.com/', /credentials/],
    ['a username alone', 'https://user@example.com/', /credentials/],
    ['whitespace', 'https://exa mple.com/', /whitespace/],
    ['a newline the parser would drop', 'https://exa\nmple.com/', /whitespace/],
    ['a control character', 'https://example.com/\u0000', /control/],
    ['right-to-left override', 'https://example.com/\u202Efdp.exe', /invisible/],
    ['the shortener itself', 'https://sho.rt/abc1234', /points back/],
    ['the shortener with a trailing dot', 'https://sho.rt./abc', /points back/],
    ['localhost', 'http://localhost:8080/x', /points back/],
    ['a name under localhost', 'http://shortener.localhost/x', /points back/],
    ['0.0.0.0, which reaches this machine', 'http://0.0.0.0:8080/x', /points back/],
    ['0 spelt as one number', 'http://0/x', /points back/],
    ['another loopback address', 'http://127.0.0.2/x', /points back/],
    ['loopback as an IPv4-mapped IPv6 address', 'http://[::ffff:127.0.0.1]/x', /points back/],
    ['the unspecified IPv6 address', 'http://[::]/x', /points back/],
    ['a label mixing Latin and Cyrillic', 'https://pаypal.com/login', /mixes Latin and Cyrillic/],
    ['a label mixing Latin and Greek', 'https://gοogle.com/', /mixes Latin and Greek/],
    ['Cyrillic letters posing as a Latin name', 'https://аррӏе.com/', /look Latin/],
    ['the same in punycode', 'https://xn--80ak6aa92e.com/', /look Latin/],
    ['an xn-- label that is not punycode', 'https://xn--a.com/', /invalid internationalised label/],
    ['too long', `https://example.com/${'a'.repeat(2048)}`, /longer than 2048/]
  ] as const) {
    test(`when the URL has ${name}, then it is refused with a clear reason`, () => {
      assert.throws(() => checkTargetUrl(url, self), (err: Error & { statusCode?: number }) => {
        assert.equal(err.statusCode, 400)
        assert.match(err.message, reason)
        return true
      })
    })
  }
})

describe('aliases', () => {
  test('letters, digits, _ and - from 3 to 32 characters are accepted', () => {
    assert.equal(checkAlias('my-link_2'), 'my-link_2')
  })
  test('reserved words are refused whatever their case', () => {
    for (const alias of ['api', 'API', 'Health', 'docs', 'metrics']) assert.throws(() => checkAlias(alias), /reserved/)
  })
  test('other characters and lengths are refused', () => {
    for (const alias of ['ab', 'a'.repeat(33), 'with space', 'dot.ted', 'ümlaut']) assert.throws(() => checkAlias(alias), /3 to 32/)
  })
})

describe('cache TTL', () => {
  test('stays within ±jitter of the base', () => {
    const target = { url: 'u', permanent: false, expiresAt: null, deleted: false }
    assert.equal(cacheTtlSeconds(target, { ttlSeconds: 1000, jitter: 0.1 }, 0, () => 0), 900)
    assert.equal(cacheTtlSeconds(target, { ttlSeconds: 1000, jitter: 0.1 }, 0, () => 0.999_999), 1100)
  })
  test('never outlives the link', () => {
    const target = { url: 'u', permanent: false, expiresAt: 30_000, deleted: false }
    assert.equal(cacheTtlSeconds(target, { ttlSeconds: 1000, jitter: 0 }, 0), 30)
  })
})

describe('milestones', () => {
  test('a batch that jumps over several milestones reports each once', () => {
    assert.deepEqual(crossedMilestones(99, 100, [100, 1000]), [100])
    assert.deepEqual(crossedMilestones(90, 1500, [100, 1000, 10000]), [100, 1000])
    assert.deepEqual(crossedMilestones(100, 150, [100, 1000]), [])
  })
})
