// The web UI at `/` and its assets under `/_/`, served from a build directory: the page with its
// strict CSP, immutable hashed assets, the UI's config, and problems (never files from outside
// the build) for anything else. The upstreams are not involved.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { buildGateway, fakeUpstream } from '../helper.ts'

const upstream = await fakeUpstream((_req, res) => { res.writeHead(404).end() })
const build = mkdtempSync(join(tmpdir(), 'shortfeed-web-'))
mkdirSync(join(build, 'assets'))
writeFileSync(join(build, 'index.html'), '<!doctype html><title>Shortfeed</title><script type="module" src="/_/assets/app-abc123.js"></script>')
writeFileSync(join(build, 'assets', 'app-abc123.js'), 'console.log("ui")')
writeFileSync(join(tmpdir(), 'shortfeed-web-secret.txt'), 'outside the build')

const gateway = await buildGateway({ UPSTREAM_SHORTENER: upstream.url, UPSTREAM_TIMELINE: upstream.url, WEB_ROOT: build, TRACE_UI_URL: 'http://localhost:16686/' })

describe('web UI', () => {
  test('/ serves the page with a strict content security policy, revalidated on every visit', async () => {
    const res = await gateway.inject({ url: '/' })
    assert.equal(res.statusCode, 200)
    assert.match(String(res.headers['content-type']), /^text\/html/)
    assert.match(res.body, /<title>Shortfeed<\/title>/)
    assert.match(String(res.headers['content-security-policy']), /script-src 'self'/)
    assert.match(String(res.headers['content-security-policy']), /frame-ancestors 'none'/)
    assert.equal(res.headers['cache-control'], 'no-cache')
    assert.equal(res.headers['x-content-type-options'], 'nosniff')
  })

  test('hashed assets under /_/ are cached for good', async () => {
    const res = await gateway.inject({ url: '/_/assets/app-abc123.js' })
    assert.equal(res.statusCode, 200)
    assert.equal(res.body, 'console.log("ui")')
    assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable')
  })

  test('the UI learns where traces can be looked at', async () => {
    const res = await gateway.inject({ url: '/_/config.json' })
    assert.deepEqual(res.json(), { traceUiUrl: 'http://localhost:16686' })
  })

  test('anything else under /_/ is a 404 problem, and nothing outside the build is reachable', async () => {
    for (const url of ['/_/assets/missing.js', '/_/../shortfeed-web-secret.txt', '/_/%2e%2e/shortfeed-web-secret.txt', '/_/..%2fshortfeed-web-secret.txt']) {
      const res = await gateway.inject({ url })
      assert.ok(res.statusCode === 404 || res.statusCode === 403 || res.statusCode === 400, `${url} → ${res.statusCode}`)
      assert.doesNotMatch(res.body, /outside the build/)
    }
    const missing = await gateway.inject({ url: '/_/assets/missing.js' })
    assert.match(String(missing.headers['content-type']), /^application\/problem\+json/)
    assert.equal(upstream.state.calls, 0, 'never proxied: /_/ is the UI\'s, no short code can be there')
  })

  test('without a build, / says how to make one', async () => {
    const unbuilt = await buildGateway({ UPSTREAM_SHORTENER: upstream.url, UPSTREAM_TIMELINE: upstream.url, WEB_ROOT: mkdtempSync(join(tmpdir(), 'shortfeed-web-empty-')) })
    const res = await unbuilt.inject({ url: '/' })
    assert.equal(res.statusCode, 404)
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/)
    assert.match(res.json().detail, /pnpm --filter @shortfeed\/web build/)
  })
})
