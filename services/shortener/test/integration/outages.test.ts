// When Postgres goes away: cached codes keep redirecting, others get 503 with Retry-After,
// and creates fail cleanly with 503, nothing half-written. Uses a Postgres of its own so the
// shared one stays up for the other tests.
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { ensureDatabase, freePort, startNativePostgres } from '@shortfeed/infra'
import { buildApp, testConfig } from '../helper.ts'

test('when Postgres stops, then cached links still redirect and the rest answer 503 with Retry-After', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shortener-pg-outage-'))
  chmodSync(dir, 0o755)
  const postgres = await startNativePostgres({ dir, port: await freePort() })
  after(async () => { await postgres.stop(); rmSync(dir, { recursive: true, force: true }) })
  // A stopped Postgres refuses connections at once: no short connect timeout is needed to see
  // it, and one (500 ms was) can expire on a loaded machine before the outage even starts.
  const config = await testConfig({ CLICK_AGGREGATOR_ENABLED: 'false' })
  const app = await buildApp({ ...config, DATABASE_URL: await ensureDatabase(postgres.url, 'shortener') })
  after(() => app.close())

  const created = await app.inject({ method: 'POST', url: '/api/v1/urls', payload: { url: 'https://example.com/survives' } })
  assert.equal(created.statusCode, 201)
  const { code } = created.json()

  await postgres.stop()

  const cached = await app.inject({ url: `/${code}` })
  assert.equal(cached.statusCode, 302)
  assert.equal(cached.headers.location, 'https://example.com/survives')

  const uncached = await app.inject({ url: '/Zz9Zz9Z' })
  assert.equal(uncached.statusCode, 503)
  assert.equal(uncached.headers['retry-after'], '5')

  const write = await app.inject({ method: 'POST', url: '/api/v1/urls', payload: { url: 'https://example.com/lost' } })
  assert.equal(write.statusCode, 503)
  assert.equal(write.json().status, 503)
  assert.ok(write.headers['retry-after'])

  const ready = await app.inject({ url: '/health/ready' })
  assert.equal(ready.statusCode, 503)
  assert.match(ready.json().checks.postgres, /^down/)
})
